rule sweep_rtol:
    """The paper's influence and SSSE updates at every pseudo-inverse cut-off of rtol_sweep
    (reported, never chosen from)."""
    input:
        scores=run(paths.score_file("npz", config["pipeline_detector"])),
        dataset=run(paths.NOISY),
        model=run(paths.MODEL),
    output:
        csv=run(paths.RTOL),
    log:
        res(paths.log_file("sweep_rtol")),
    benchmark:
        res(paths.benchmark_file("sweep_rtol"))
    conda:
        ENV
    params:
        rtols=config["rtol_sweep"],
        curvature=from_config(CurvatureSettings, config),
    script:
        "../scripts/sweep_rtol.py"
