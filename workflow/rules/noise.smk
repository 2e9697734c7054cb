rule inject_noise:
    """Select the class subset and flip labels at ratio r with the run's seed."""
    input:
        raw=res("data/{dataset}.npz"),
    output:
        dataset=res("{dataset}/r{ratio}/s{seed}/noisy.npz"),
    log:
        res("logs/inject_noise/{dataset}/r{ratio}/s{seed}.log"),
    benchmark:
        res("benchmarks/inject_noise/{dataset}/r{ratio}/s{seed}.tsv")
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
