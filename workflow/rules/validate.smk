rule validate_loo:
    """Influence vs reality: predicted and actual leave-one-out loss change, small MLP."""
    input:
        dataset=res("{dataset}/r{ratio}/s{seed}/noisy.npz"),
    output:
        csv=res("{dataset}/r{ratio}/s{seed}/loo_validation.csv"),
    log:
        res("logs/validate_loo/{dataset}/r{ratio}/s{seed}.log"),
    benchmark:
        res("benchmarks/validate_loo/{dataset}/r{ratio}/s{seed}.tsv")
    priority: 10  # the longest job per seed; started first, it runs alongside the others
    conda:
        ENV
    params:
        samples=config["loo_samples"],
        curvature=wc.curvature_settings(config),
        training=wc.training_settings(config),
    script:
        "../scripts/validate_loo.py"
