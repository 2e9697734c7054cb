rule evaluate:
    """Test accuracy of the pre-trained and every unlearned model of one run, and the run's
    timing table (its score and unlearning jobs)."""
    input:
        dataset=run(paths.NOISY),
        pretrained=run(paths.MODEL),
        score_timing=run(paths.SCORE_TIMING),
        unlearned=expand(
            run(paths.unlearned_dir()),
            unlearner=config["unlearners"],
            allow_missing=True,
        ),
    output:
        evaluation=run(paths.EVALUATION),
        timing=run(paths.TIMING),
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
