rule loo:
    """Influence vs reality: predicted and actual leave-one-out loss change, small MLP."""
    input:
        dataset=run(paths.NOISY),
    output:
        csv=run(paths.LOO),
    log:
        res(paths.log_file("loo")),
    benchmark:
        res(paths.benchmark_file("loo"))
    priority: 10  # the longest job per seed; started first, it runs alongside the others
    conda:
        ENV
    params:
        samples=config["loo_samples"],
        curvature=from_config(CurvatureSettings, config),
        training=from_config(TrainConfig, config),
    script:
        "../scripts/loo.py"
