rule train:
    """Train the MLP on the noisy labels (one jitted lax.scan)."""
    input:
        dataset=RESULTS + "/{dataset}/r{ratio}/s{seed}/noisy.npz",
    output:
        model=RESULTS + "/{dataset}/r{ratio}/s{seed}/model.msgpack",
        history=RESULTS + "/{dataset}/r{ratio}/s{seed}/train_history.npz",
    log:
        RESULTS + "/logs/train/{dataset}/r{ratio}/s{seed}.log",
    benchmark:
        RESULTS + "/benchmarks/train/{dataset}/r{ratio}/s{seed}.tsv"
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
