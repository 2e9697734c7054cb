rule inject_noise:
    """Select the class subset and flip labels at ratio r with the run's seed."""
    input:
        raw=wc.RESULTS + "/data/{dataset}.npz",
    output:
        dataset=RUN + "/noisy.npz",
    log:
        LOGS + "/inject_noise/{dataset}/r{ratio}/s{seed}.log",
    benchmark:
        BENCH + "/inject_noise/{dataset}/r{ratio}/s{seed}.tsv"
    params:
        classes=config["classes"],
        train_per_class=config["train_per_class"],
        subset=config["subset"],
        noise_mode=config["noise_mode"],
    script:
        "../scripts/inject_noise.py"
