rule score:
    """Every detector's anomaly scores of one run, in one job (shared gradients, Hessian
    and Lanczos eigenpairs computed once), with the top-m flags and detection metrics.
    """
    input:
        dataset=run(paths.NOISY),
        model=run(paths.MODEL),
        history=run(paths.HISTORY),
    output:
        scores=expand(
            run(paths.score_file("npz")),
            detector=config["detectors"],
            allow_missing=True,
        ),
        info=expand(
            run(paths.score_file("json")),
            detector=config["detectors"],
            allow_missing=True,
        ),
        timing=run(paths.SCORE_TIMING),
        detection=run(paths.DETECTION),
    log:
        res(paths.log_file("score")),
    benchmark:
        res(paths.benchmark_file("score"))
    conda:
        ENV
    params:
        detectors=config["detectors"],
        budget=config["budget"],
        curvature=from_config(CurvatureSettings, config),
        detection=from_config(DetectionSettings, config),
    script:
        "../scripts/score.py"
