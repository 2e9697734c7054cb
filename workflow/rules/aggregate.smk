localrules:
    aggregate_detection,
    aggregate_unlearning,
    aggregate_benchmarks,
    record_config,


rule aggregate_detection:
    """One row per (dataset, ratio, seed, detector), with the detection metrics."""
    input:
        scores=expand_runs(
            "results/{dataset}/r{ratio}/s{seed}/scores/{detector}.npz",
            detector=config["detectors"],
        ),
        info=expand_runs(
            "results/{dataset}/r{ratio}/s{seed}/scores/{detector}.json",
            detector=config["detectors"],
        ),
    output:
        csv="results/summary/detection.csv",
    log:
        "results/logs/aggregate_detection.log",
    benchmark:
        "results/benchmarks/aggregate/detection.tsv"
    conda:
        ENV
    script:
        "../scripts/aggregate_detection.py"


rule aggregate_unlearning:
    """One row per (dataset, ratio, seed, method, target)."""
    input:
        expand_runs("results/{dataset}/r{ratio}/s{seed}/evaluation.csv"),
    output:
        csv="results/summary/unlearning.csv",
    log:
        "results/logs/aggregate_unlearning.log",
    benchmark:
        "results/benchmarks/aggregate/unlearning.tsv"
    conda:
        ENV
    params:
        sort_by=["dataset", "ratio", "seed", "method", "target"],
    script:
        "../scripts/aggregate_csv.py"


rule aggregate_benchmarks:
    """Wall time and peak memory of every compute job (from the benchmark: files)."""
    input:
        "results/summary/detection.csv",
        "results/summary/unlearning.csv",
    output:
        csv=report(
            "results/summary/benchmarks.csv",
            caption="../report/benchmarks.rst",
            category="Runtimes",
        ),
    log:
        "results/logs/aggregate_benchmarks.log",
    conda:
        ENV
    params:
        root="results/benchmarks",
    script:
        "../scripts/aggregate_benchmarks.py"


rule record_config:
    """The configuration this run used, after command-line overrides (for the report)."""
    output:
        yaml=report(
            "results/summary/config.yaml",
            caption="../report/config.rst",
            category="Configuration",
        ),
    log:
        "results/logs/record_config.log",
    conda:
        ENV
    params:
        config=config,
    script:
        "../scripts/record_config.py"
