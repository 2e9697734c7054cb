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
            summary_file("detection"),
            caption="../report/summaries.rst",
            category="Summaries",
        ),
    log:
        res(paths.log_file("aggregate_detection", per_run=False)),
    benchmark:
        res(paths.benchmark_file("aggregate", "detection", per_run=False))
    conda:
        ENV
    params:
        summary="detection",
    script:
        "../scripts/aggregate.py"


rule aggregate_unlearning:
    """One row per (dataset, ratio, seed, unlearner, target)."""
    input:
        expand_runs(run(paths.EVALUATION)),
    output:
        csv=report(
            summary_file("unlearning"),
            caption="../report/summaries.rst",
            category="Summaries",
        ),
    log:
        res(paths.log_file("aggregate_unlearning", per_run=False)),
    benchmark:
        res(paths.benchmark_file("aggregate", "unlearning", per_run=False))
    conda:
        ENV
    params:
        summary="unlearning",
    script:
        "../scripts/aggregate.py"


rule aggregate_loo:
    """Leave-one-out validation of the influence approximation, every seed."""
    input:
        [
            run(paths.LOO).format(dataset=DATASET, ratio=HISTOGRAM_RATIO, seed=seed)
            for seed in SEEDS
        ],
    output:
        csv=report(
            summary_file("loo"),
            caption="../report/summaries.rst",
            category="Summaries",
        ),
    log:
        res(paths.log_file("aggregate_loo", per_run=False)),
    benchmark:
        res(paths.benchmark_file("aggregate", "loo", per_run=False))
    conda:
        ENV
    params:
        summary="loo",
    script:
        "../scripts/aggregate.py"


rule aggregate_selection:
    """Every candidate default unlearner on every run's validation split."""
    input:
        expand_runs(run(paths.SELECTION)),
    output:
        csv=report(
            summary_file("selection"),
            caption="../report/summaries.rst",
            category="Summaries",
        ),
    log:
        res(paths.log_file("aggregate_selection", per_run=False)),
    benchmark:
        res(paths.benchmark_file("aggregate", "selection", per_run=False))
    conda:
        ENV
    params:
        summary="selection",
    script:
        "../scripts/aggregate.py"


rule aggregate_rtol:
    """The paper's closed-form updates at every pseudo-inverse cut-off, every run."""
    input:
        expand_runs(run(paths.RTOL)),
    output:
        csv=report(
            summary_file("rtol"),
            caption="../report/summaries.rst",
            category="Summaries",
        ),
    log:
        res(paths.log_file("aggregate_rtol", per_run=False)),
    benchmark:
        res(paths.benchmark_file("aggregate", "rtol", per_run=False))
    conda:
        ENV
    params:
        summary="rtol",
    script:
        "../scripts/aggregate.py"


rule aggregate_timing:
    """Seconds of every detector group and unlearner, compilation split off."""
    input:
        expand_runs(run(paths.TIMING)),
    output:
        csv=report(
            summary_file("timing"),
            caption="../report/timing.rst",
            category="Runtimes",
        ),
    log:
        res(paths.log_file("aggregate_timing", per_run=False)),
    conda:
        ENV
    params:
        summary="timing",
    script:
        "../scripts/aggregate.py"


rule aggregate_benchmarks:
    """Wall time and peak memory of every compute job (from the benchmark: files)."""
    input:
        summary_file("detection"),
        summary_file("unlearning"),
        summary_file("loo"),
        summary_file("selection"),
        summary_file("rtol"),
        summary_file("timing"),
    output:
        csv=report(
            summary_file("benchmarks"),
            caption="../report/benchmarks.rst",
            category="Runtimes",
        ),
    log:
        res(paths.log_file("aggregate_benchmarks", per_run=False)),
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
            summary_file("config"),
            caption="../report/config.rst",
            category="Configuration",
        ),
    log:
        res(paths.log_file("record_config", per_run=False)),
    conda:
        ENV
    params:
        config=config,
    script:
        "../scripts/record_config.py"
