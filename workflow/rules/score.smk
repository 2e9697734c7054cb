rule score:
    """Anomaly score of every training sample, top-m flags and detection metrics."""
    input:
        dataset=RUN + "/noisy.npz",
        model=RUN + "/model.msgpack",
    output:
        scores=RUN + "/scores/{detector}.npz",
        metrics=RUN + "/scores/{detector}.json",
    log:
        LOGS + "/score/{dataset}/r{ratio}/s{seed}/{detector}.log",
    benchmark:
        BENCH + "/score/{dataset}/r{ratio}/s{seed}/{detector}.tsv"
    params:
        curvature=config["curvature"],
        damping=config["damping"],
        rtol=config["pinv_rtol"],
    script:
        "../scripts/score.py"
