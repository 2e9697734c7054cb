rule unlearn:
    """Forget every target set (true flips, detected flags) from one run with one method."""
    input:
        unpack(forget_inputs),
        dataset=RESULTS + "/{dataset}/r{ratio}/s{seed}/noisy.npz",
        model=RESULTS + "/{dataset}/r{ratio}/s{seed}/model.msgpack",
    output:
        models=expand(
            RESULTS
            + "/{{dataset}}/r{{ratio}}/s{{seed}}/unlearn/{{method}}_{target}.msgpack",
            target=config["targets"],
        ),
        info=expand(
            RESULTS
            + "/{{dataset}}/r{{ratio}}/s{{seed}}/unlearn/{{method}}_{target}.json",
            target=config["targets"],
        ),
        timing=RESULTS + "/{dataset}/r{ratio}/s{seed}/timing/unlearn_{method}.json",
    log:
        RESULTS + "/logs/unlearn/{dataset}/r{ratio}/s{seed}/{method}.log",
    benchmark:
        RESULTS + "/benchmarks/unlearn/{dataset}/r{ratio}/s{seed}/{method}.tsv"
    conda:
        ENV
    params:
        targets=config["targets"],
        curvature=wc.curvature_settings(config),
        training=wc.training_settings(config),
        unlearning=wc.unlearning_settings(config),
    script:
        "../scripts/unlearn.py"
