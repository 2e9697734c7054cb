rule score:
    """Every detector's anomaly scores of one run, in one job (shared gradients, Hessian and
    Lanczos eigenpairs are computed once), with the top-m flags."""
    input:
        dataset=res("{dataset}/r{ratio}/s{seed}/noisy.npz"),
        model=res("{dataset}/r{ratio}/s{seed}/model.msgpack"),
        history=res("{dataset}/r{ratio}/s{seed}/train_history.npz"),
    output:
        scores=expand(
            res("{{dataset}}/r{{ratio}}/s{{seed}}/scores/{detector}.npz"),
            detector=config["detectors"],
        ),
        info=expand(
            res("{{dataset}}/r{{ratio}}/s{{seed}}/scores/{detector}.json"),
            detector=config["detectors"],
        ),
        timing=res("{dataset}/r{ratio}/s{seed}/timing/score.json"),
    log:
        res("logs/score/{dataset}/r{ratio}/s{seed}.log"),
    benchmark:
        res("benchmarks/score/{dataset}/r{ratio}/s{seed}.tsv")
    conda:
        ENV
    params:
        detectors=config["detectors"],
        budget=config["budget"],
        curvature=wc.curvature_settings(config),
        detection=wc.detection_settings(config),
    script:
        "../scripts/score.py"
