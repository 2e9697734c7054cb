rule unlearn:
    """Forget every target set (true flips, detected flags) from one run with one method."""
    input:
        unpack(forget_inputs),
        dataset=run(paths.NOISY),
        model=run(paths.MODEL),
    output:
        folder=directory(run(paths.unlearned_dir())),
    log:
        res(paths.log_file("unlearn", "{method}")),
    benchmark:
        res(paths.benchmark_file("unlearn", "{method}"))
    conda:
        ENV
    params:
        targets=config["targets"],
        curvature=wc.curvature_settings(config),
        training=wc.training_settings(config),
        unlearning=wc.unlearning_settings(config),
    script:
        "../scripts/unlearn.py"
