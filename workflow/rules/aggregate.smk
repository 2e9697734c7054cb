localrules:
    aggregate_detection,
    aggregate_unlearning,
    aggregate_loo,
    aggregate_selection,
    aggregate_rtol,
    aggregate_timing,
    aggregate_benchmarks,
    record_config,


rule aggregate_detection:
    """One row per (dataset, ratio, seed, detector), with the detection metrics."""
    input:
        expand_runs(run(paths.DETECTION)),
    output:
        csv=report(
            f"{SUMMARY}/detection.csv",
            caption="../report/summaries.rst",
            category="Summaries",
        ),
    log:
        res("logs/aggregate_detection.log"),
    benchmark:
        res("benchmarks/aggregate/detection.tsv")
    conda:
        ENV
    script:
        "../scripts/aggregate_detection.py"


rule aggregate_unlearning:
    """One row per (dataset, ratio, seed, method, target)."""
    input:
        expand_runs(run(paths.EVALUATION)),
    output:
        csv=report(
            f"{SUMMARY}/unlearning.csv",
            caption="../report/summaries.rst",
            category="Summaries",
        ),
    log:
        res("logs/aggregate_unlearning.log"),
    benchmark:
        res("benchmarks/aggregate/unlearning.tsv")
    conda:
        ENV
    params:
        sort_by=["dataset", "ratio", "seed", "method", "target"],
    script:
        "../scripts/aggregate_csv.py"


rule aggregate_loo:
    """Leave-one-out validation of the influence approximation, every seed."""
    input:
        [
            run(paths.LOO).format(dataset=DATASET, ratio=HISTOGRAM_RATIO, seed=seed)
            for seed in SEEDS
        ],
    output:
        csv=report(
            f"{SUMMARY}/loo_validation.csv",
            caption="../report/summaries.rst",
            category="Summaries",
        ),
    log:
        res("logs/aggregate_loo.log"),
    benchmark:
        res("benchmarks/aggregate/loo.tsv")
    conda:
        ENV
    params:
        sort_by=["dataset", "ratio", "seed", "scope"],
    script:
        "../scripts/aggregate_csv.py"


rule aggregate_selection:
    """Every candidate default unlearner on every run's validation split."""
    input:
        expand_runs(run(paths.SELECTION)),
    output:
        csv=report(
            f"{SUMMARY}/selection.csv",
            caption="../report/summaries.rst",
            category="Summaries",
        ),
    log:
        res("logs/aggregate_selection.log"),
    benchmark:
        res("benchmarks/aggregate/selection.tsv")
    conda:
        ENV
    params:
        sort_by=["dataset", "ratio", "seed", "unlearner", "neggrad_momentum"],
    script:
        "../scripts/aggregate_csv.py"


rule aggregate_rtol:
    """The paper's closed-form updates at every pseudo-inverse cut-off, every run."""
    input:
        expand_runs(run(paths.RTOL)),
    output:
        csv=report(
            f"{SUMMARY}/rtol.csv",
            caption="../report/summaries.rst",
            category="Summaries",
        ),
    log:
        res("logs/aggregate_rtol.log"),
    benchmark:
        res("benchmarks/aggregate/rtol.tsv")
    conda:
        ENV
    params:
        sort_by=["dataset", "ratio", "seed", "unlearner", "target", "rtol"],
    script:
        "../scripts/aggregate_csv.py"


rule aggregate_timing:
    """Seconds of every detector group and unlearning method, compilation split off."""
    input:
        expand_runs(run(paths.TIMING)),
    output:
        csv=report(
            f"{SUMMARY}/timing.csv",
            caption="../report/timing.rst",
            category="Runtimes",
        ),
    log:
        res("logs/aggregate_timing.log"),
    conda:
        ENV
    script:
        "../scripts/aggregate_timing.py"


rule aggregate_benchmarks:
    """Wall time and peak memory of every compute job (from the benchmark: files)."""
    input:
        f"{SUMMARY}/detection.csv",
        f"{SUMMARY}/unlearning.csv",
        f"{SUMMARY}/loo_validation.csv",
        f"{SUMMARY}/selection.csv",
        f"{SUMMARY}/rtol.csv",
        f"{SUMMARY}/timing.csv",
    output:
        csv=report(
            f"{SUMMARY}/benchmarks.csv",
            caption="../report/benchmarks.rst",
            category="Runtimes",
        ),
    log:
        res("logs/aggregate_benchmarks.log"),
    conda:
        ENV
    params:
        root=res("benchmarks"),
        dataset=DATASET,
    script:
        "../scripts/aggregate_benchmarks.py"


rule record_config:
    """The configuration this run used, after command-line overrides (for the report)."""
    output:
        yaml=report(
            f"{SUMMARY}/config.yaml",
            caption="../report/config.rst",
            category="Configuration",
        ),
    log:
        res("logs/record_config.log"),
    conda:
        ENV
    params:
        config=config,
    script:
        "../scripts/record_config.py"
