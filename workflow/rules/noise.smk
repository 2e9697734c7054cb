rule inject_noise:
    """Select the class subset and flip labels at ratio r with the run's seed."""
    input:
        raw="results/data/{dataset}.npz",
    output:
        dataset="results/{dataset}/r{ratio}/s{seed}/noisy.npz",
    log:
        "results/logs/inject_noise/{dataset}/r{ratio}/s{seed}.log",
    benchmark:
        "results/benchmarks/inject_noise/{dataset}/r{ratio}/s{seed}.tsv"
    conda:
        ENV
    params:
        classes=config["classes"],
        train_per_class=config["train_per_class"],
        subset=config["subset"],
        noise_mode=config["noise_mode"],
    script:
        "../scripts/inject_noise.py"
