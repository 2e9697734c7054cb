rule evaluate:
    """Test accuracy of the pre-trained and every unlearned model of one run."""
    input:
        unpack(unlearned_models),
        dataset=res("{dataset}/r{ratio}/s{seed}/noisy.npz"),
        pretrained=res("{dataset}/r{ratio}/s{seed}/model.msgpack"),
    output:
        evaluation=res("{dataset}/r{ratio}/s{seed}/evaluation.csv"),
    log:
        res("logs/evaluate/{dataset}/r{ratio}/s{seed}.log"),
    benchmark:
        res("benchmarks/evaluate/{dataset}/r{ratio}/s{seed}.tsv")
    conda:
        ENV
    params:
        unlearners=config["unlearners"],
        targets=config["targets"],
    script:
        "../scripts/evaluate.py"
