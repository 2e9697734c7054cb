rule score:
    """Every detector's anomaly scores of one run, in one job (shared gradients, Hessian and
    Lanczos eigenpairs are computed once), with the top-m flags."""
    input:
        dataset="results/{dataset}/r{ratio}/s{seed}/noisy.npz",
        model="results/{dataset}/r{ratio}/s{seed}/model.msgpack",
        history="results/{dataset}/r{ratio}/s{seed}/train_history.npz",
    output:
        scores=expand(
            "results/{{dataset}}/r{{ratio}}/s{{seed}}/scores/{detector}.npz",
            detector=config["detectors"],
        ),
        info=expand(
            "results/{{dataset}}/r{{ratio}}/s{{seed}}/scores/{detector}.json",
            detector=config["detectors"],
        ),
        timing="results/{dataset}/r{ratio}/s{seed}/timing/score.json",
    log:
        "results/logs/score/{dataset}/r{ratio}/s{seed}.log",
    benchmark:
        "results/benchmarks/score/{dataset}/r{ratio}/s{seed}.tsv"
    conda:
        ENV
    params:
        detectors=config["detectors"],
        curvature=wc.curvature_settings(config),
        detection=wc.detection_settings(config),
    script:
        "../scripts/score.py"
