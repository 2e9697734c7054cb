rule inject_noise:
    """Select the class subset and flip labels at ratio r with the run's seed."""
    input:
        raw=res(paths.RAW),
    output:
        dataset=run(paths.NOISY),
    log:
        res(paths.log_file("inject_noise")),
    benchmark:
        res(paths.benchmark_file("inject_noise"))
    conda:
        ENV
    params:
        classes=config["classes"],
        train_per_class=config["train_per_class"],
        subset=config["subset"],
        noise_mode=config["noise_mode"],
        noise_positions=config["noise_positions"],
        test_per_class=config["test_per_class"],
    script:
        "../scripts/inject_noise.py"
