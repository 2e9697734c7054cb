rule train:
    """Train the MLP on the noisy labels (one jitted lax.scan)."""
    input:
        dataset=RUN + "/noisy.npz",
    output:
        model=RUN + "/model.msgpack",
        history=RUN + "/train_history.npz",
    log:
        LOGS + "/train/{dataset}/r{ratio}/s{seed}.log",
    benchmark:
        BENCH + "/train/{dataset}/r{ratio}/s{seed}.tsv"
    params:
        hidden=config["hidden"],
        lr=config["lr"],
        momentum=config["momentum"],
        batch_size=config["batch_size"],
        epochs=config["epochs"],
    script:
        "../scripts/train.py"
