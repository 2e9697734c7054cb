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
        training=config_values(TrainConfig, config),
        curvature=config_values(CurvatureSettings, config),
        detection=config_values(DetectionSettings, config),
        unlearning=config_values(UnlearningSettings, config),
    script:
        "../scripts/select_defaults.py"
