# The check on real label errors (docs/real_errors.md), the DAG's target when the config's
# real_errors is set: per seed, train on the test split and score every sample, then forget;
# then render. Paths from mislabel.workflow.paths, file names from mislabel.workflow.artifacts.
# Outside that mode the settings take their defaults (nothing here is then a target).
RE_SETTINGS = (
    from_config(RealErrorsSettings, REAL_ERRORS)
    if REAL_ERRORS
    else RealErrorsSettings()
)
RE_SCORES = res(paths.real_errors_file(paths.REAL_ERRORS_SCORES))
RE_MODEL = res(paths.real_errors_file(paths.REAL_ERRORS_MODEL))
RE_FORGET = res(paths.real_errors_file(paths.REAL_ERRORS_FORGET))


localrules:
    real_errors_render_hits,
    real_errors_render_forget,


rule real_errors_score:
    """Train one seed's model on the test split (labels as given) and score every sample
    with every detector; the known errors are checked against the labels first."""
    input:
        unpack(label_errors_input),
        data=res(paths.RAW),
    output:
        scores=RE_SCORES,
        model=RE_MODEL,
    log:
        res(paths.log_file("real_errors_score", paths.REAL_ERRORS_JOB, per_run=False)),
    benchmark:
        res(
            paths.benchmark_file(
                "real_errors_score", paths.REAL_ERRORS_JOB, per_run=False
            )
        )
    conda:
        ENV
    params:
        hidden=config["hidden"],
        training=from_config(TrainConfig, config),
        detection=from_config(DetectionSettings, config),
    script:
        "../scripts/real_errors_score.py"


rule real_errors_forget:
    """Forget one seed's top forget_k of forget_detector, and as many at random, with each
    unlearner; the accuracy on the training split before and after."""
    input:
        data=res(paths.RAW),
        scores=RE_SCORES,
        model=RE_MODEL,
    output:
        forget=RE_FORGET,
    log:
        res(paths.log_file("real_errors_forget", paths.REAL_ERRORS_JOB, per_run=False)),
    benchmark:
        res(
            paths.benchmark_file(
                "real_errors_forget", paths.REAL_ERRORS_JOB, per_run=False
            )
        )
    conda:
        ENV
    params:
        settings=RE_SETTINGS,
        unlearners=config["unlearners"],
        training=from_config(TrainConfig, config),
        curvature=from_config(CurvatureSettings, config),
        unlearning=from_config(UnlearningSettings, config),
    script:
        "../scripts/real_errors_forget.py"


rule real_errors_render_hits:
    """The known errors among each detector's top_k, mean and sd over seeds, and each
    detector's top 24 images (first seed)."""
    input:
        unpack(label_errors_input),
        data=expand(res(paths.RAW), dataset=DATASET),
        scores=expand(RE_SCORES, dataset=DATASET, seed=SEEDS),
    output:
        wc.real_errors_hits_files(PAPER),
    log:
        res(paths.log_file("real_errors_render_hits", per_run=False)),
    conda:
        ENV
    params:
        dataset=DATASET,
        seeds=config["seeds"],
        settings=RE_SETTINGS,
    script:
        "../scripts/real_errors_render_hits.py"


rule real_errors_render_forget:
    """The accuracy before and after forgetting, mean and sd over seeds, paired by seed."""
    input:
        forget=expand(RE_FORGET, dataset=DATASET, seed=SEEDS),
    output:
        wc.real_errors_forget_files(PAPER),
    log:
        res(paths.log_file("real_errors_render_forget", per_run=False)),
    conda:
        ENV
    params:
        seeds=config["seeds"],
    script:
        "../scripts/real_errors_render_forget.py"
