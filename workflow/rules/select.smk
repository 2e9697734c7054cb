rule select_defaults:
    """The repair's default unlearner and NegGrad+ momentum, on a validation split carved
    from this run's training samples (the test split is never read)."""
    input:
        dataset=run(paths.NOISY),
    output:
        csv=run(paths.SELECTION),
    log:
        res(paths.log_file("select_defaults")),
    benchmark:
        res(paths.benchmark_file("select_defaults"))
    conda:
        ENV
    params:
        hidden=config["hidden"],
        unlearners=config["unlearners"],
        detector=config["pipeline_detector"],
        training=wc.training_settings(config),
        curvature=wc.curvature_settings(config),
        detection=wc.detection_settings(config),
        unlearning=wc.unlearning_settings(config),
    script:
        "../scripts/select_defaults.py"
