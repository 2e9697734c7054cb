rule train:
    """Train the MLP on the noisy labels (one jitted lax.scan)."""
    input:
        dataset="results/{dataset}/r{ratio}/s{seed}/noisy.npz",
    output:
        model="results/{dataset}/r{ratio}/s{seed}/model.msgpack",
        history="results/{dataset}/r{ratio}/s{seed}/train_history.npz",
    log:
        "results/logs/train/{dataset}/r{ratio}/s{seed}.log",
    benchmark:
        "results/benchmarks/train/{dataset}/r{ratio}/s{seed}.tsv"
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
