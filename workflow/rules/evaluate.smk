rule evaluate:
    """Test accuracy of the pre-trained and every unlearned model of one run."""
    input:
        unpack(unlearned_models),
        dataset=RUN + "/noisy.npz",
        pretrained=RUN + "/model.msgpack",
    output:
        evaluation=RUN + "/evaluation.csv",
    log:
        LOGS + "/evaluate/{dataset}/r{ratio}/s{seed}.log",
    benchmark:
        BENCH + "/evaluate/{dataset}/r{ratio}/s{seed}.tsv"
    params:
        unlearners=config["unlearners"],
        targets=list(wc.TARGETS),
    script:
        "../scripts/evaluate.py"
