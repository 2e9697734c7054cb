rule aggregate_detection:
    """One row per (dataset, ratio, seed, detector)."""
    input:
        expand_runs(RUN + "/scores/{detector}.json", detector=config["detectors"]),
    output:
        csv=wc.RESULTS + "/summary/detection.csv",
    log:
        LOGS + "/aggregate_detection.log",
    benchmark:
        BENCH + "/aggregate/detection.tsv"
    params:
        sort_by=["dataset", "ratio", "seed", "detector"],
    script:
        "../scripts/aggregate_json.py"


rule aggregate_unlearning:
    """One row per (dataset, ratio, seed, method, target)."""
    input:
        expand_runs(RUN + "/evaluation.csv"),
    output:
        csv=wc.RESULTS + "/summary/unlearning.csv",
    log:
        LOGS + "/aggregate_unlearning.log",
    benchmark:
        BENCH + "/aggregate/unlearning.tsv"
    params:
        sort_by=["dataset", "ratio", "seed", "method", "target"],
    script:
        "../scripts/aggregate_csv.py"


rule aggregate_benchmarks:
    """Wall time and peak memory of every compute job (from the benchmark: files)."""
    input:
        wc.RESULTS + "/summary/detection.csv",
        wc.RESULTS + "/summary/unlearning.csv",
    output:
        csv=wc.RESULTS + "/summary/benchmarks.csv",
    log:
        LOGS + "/aggregate_benchmarks.log",
    params:
        root=BENCH,
    script:
        "../scripts/aggregate_benchmarks.py"
