rule score:
    """Anomaly score of every training sample, top-m flags and detection metrics."""
    input:
        dataset="results/{dataset}/r{ratio}/s{seed}/noisy.npz",
        model="results/{dataset}/r{ratio}/s{seed}/model.msgpack",
        history="results/{dataset}/r{ratio}/s{seed}/train_history.npz",
    output:
        scores="results/{dataset}/r{ratio}/s{seed}/scores/{detector}.npz",
        metrics="results/{dataset}/r{ratio}/s{seed}/scores/{detector}.json",
    log:
        "results/logs/score/{dataset}/r{ratio}/s{seed}/{detector}.log",
    benchmark:
        "results/benchmarks/score/{dataset}/r{ratio}/s{seed}/{detector}.tsv"
    conda:
        ENV
    params:
        curvature=wc.curvature_settings(config),
        detection=wc.detection_settings(config),
    script:
        "../scripts/score.py"
