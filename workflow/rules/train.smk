rule train:
    """Train the MLP on the noisy labels (one jitted lax.scan)."""
    input:
        dataset=res("{dataset}/r{ratio}/s{seed}/noisy.npz"),
    output:
        model=res("{dataset}/r{ratio}/s{seed}/model.msgpack"),
        history=res("{dataset}/r{ratio}/s{seed}/train_history.npz"),
    log:
        res("logs/train/{dataset}/r{ratio}/s{seed}.log"),
    benchmark:
        res("benchmarks/train/{dataset}/r{ratio}/s{seed}.tsv")
    conda:
        ENV
    params:
        hidden=config["hidden"],
        lr=config["lr"],
        momentum=config["momentum"],
        batch_size=config["batch_size"],
        epochs=config["epochs"],
    script:
        "../scripts/train.py"
