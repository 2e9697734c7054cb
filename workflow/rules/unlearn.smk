rule unlearn:
    """Forget every target set (true flips, detected flags) from one run with one unlearner."""
    input:
        unpack(forget_inputs),
        dataset=run(paths.NOISY),
        model=run(paths.MODEL),
    output:
        folder=directory(run(paths.unlearned_dir())),
    log:
        res(paths.log_file("unlearn", "{unlearner}")),
    benchmark:
        res(paths.benchmark_file("unlearn", "{unlearner}"))
    conda:
        ENV
    params:
        targets=config["targets"],
        curvature=from_config(CurvatureSettings, config),
        training=from_config(TrainConfig, config),
        unlearning=from_config(UnlearningSettings, config),
    script:
        "../scripts/unlearn.py"
