rule train:
    """Train the MLP on the noisy labels (one jitted lax.scan)."""
    input:
        dataset=run(paths.NOISY),
    output:
        model=run(paths.MODEL),
        history=run(paths.HISTORY),
    log:
        res(paths.log_file("train")),
    benchmark:
        res(paths.benchmark_file("train"))
    conda:
        ENV
    params:
        hidden=config["hidden"],
        training=from_config(TrainConfig, config),
    script:
        "../scripts/train.py"
