def forget_inputs(wildcards):
    """Detected targets need the pipeline detector's flags; mislabeled ones do not."""
    if wildcards.target == "detected":
        return {"scores": RUN + "/scores/" + config["pipeline_detector"] + ".npz"}
    return {}


rule unlearn:
    """Forget the target set (true flips or detected flags) with one method."""
    input:
        unpack(forget_inputs),
        dataset=RUN + "/noisy.npz",
        model=RUN + "/model.msgpack",
    output:
        model=RUN + "/unlearn/{method}_{target}.msgpack",
        info=RUN + "/unlearn/{method}_{target}.json",
    log:
        LOGS + "/unlearn/{dataset}/r{ratio}/s{seed}/{method}_{target}.log",
    benchmark:
        BENCH + "/unlearn/{dataset}/r{ratio}/s{seed}/{method}_{target}.tsv"
    params:
        curvature=config["curvature"],
        damping=config["damping"],
        rtol=config["pinv_rtol"],
        lr=config["lr"],
        momentum=config["momentum"],
        batch_size=config["batch_size"],
        epochs=config["epochs"],
        finetune_epochs=config["finetune_epochs"],
    script:
        "../scripts/unlearn.py"
