rule unlearn:
    """Forget the target set (true flips or detected flags) with one method."""
    input:
        unpack(forget_inputs),
        dataset="results/{dataset}/r{ratio}/s{seed}/noisy.npz",
        model="results/{dataset}/r{ratio}/s{seed}/model.msgpack",
    output:
        model="results/{dataset}/r{ratio}/s{seed}/unlearn/{method}_{target}.msgpack",
        info="results/{dataset}/r{ratio}/s{seed}/unlearn/{method}_{target}.json",
    log:
        "results/logs/unlearn/{dataset}/r{ratio}/s{seed}/{method}_{target}.log",
    benchmark:
        "results/benchmarks/unlearn/{dataset}/r{ratio}/s{seed}/{method}_{target}.tsv"
    conda:
        ENV
    params:
        curvature=wc.curvature_settings(config),
        training=wc.training_settings(config),
        unlearning=wc.unlearning_settings(config),
    script:
        "../scripts/unlearn.py"
