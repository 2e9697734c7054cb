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
        training=from_config(TrainConfig, config),
        curvature=from_config(CurvatureSettings, config),
        detection=from_config(DetectionSettings, config),
        unlearning=from_config(UnlearningSettings, config),
    script:
        "../scripts/select_defaults.py"
