rule evaluate:
    """Test accuracy of the pre-trained and every unlearned model of one run."""
    input:
        unpack(unlearned_models),
        dataset=run(paths.NOISY),
        pretrained=run(paths.MODEL),
    output:
        evaluation=run(paths.EVALUATION),
    log:
        res(paths.log_file("evaluate")),
    benchmark:
        res(paths.benchmark_file("evaluate"))
    conda:
        ENV
    params:
        unlearners=config["unlearners"],
        targets=config["targets"],
    script:
        "../scripts/evaluate.py"
