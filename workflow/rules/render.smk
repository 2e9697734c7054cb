# Cheap rendering, separate from compute: restyling a table never retrains a model.
# File names come from mislabel.workflow.artifacts, folders from the config.
from mislabel.workflow import artifacts


localrules:
    render_results,
    render_selection,
    render_rtol,
    render_tables,
    render_histograms,
    render_curves,
    render_extensions,
    render_paper_vs_ours,
    render_rulegraph,
    write_paper,
    compile_paper,
    explain_no_tex,


rule render_results:
    """The results pages: Markdown for the README and docs/paper.md, HTML for the report."""
    input:
        detection=summary_file("detection"),
        unlearning=summary_file("unlearning"),
        loo=summary_file("loo"),
        timing=summary_file("timing"),
        figures=wc.figure_pngs(config["detectors"], PAPER),
    output:
        md=f"{PAPER}/{artifacts.RESULTS_MD}",
        beyond=f"{PAPER}/{artifacts.RESULTS_BEYOND_MD}",
        html=report(
            f"{PAPER}/{artifacts.RESULTS_HTML}",
            caption="../report/results.rst",
            category="Results",
        ),
    log:
        res(paths.log_file("render_results", per_run=False)),
    conda:
        ENV
    params:
        config={
            k: config[k]
            for k in ("dataset", "classes", "noise_ratios", "seeds", "paper_dir")
        },
        config_name=CONFIG_NAME,
        metric=config["test_metric"],
    script:
        "../scripts/render_results.py"


rule render_selection:
    """The table that chooses the repair's default unlearner (Markdown, for the docs)."""
    input:
        selection=summary_file("selection"),
    output:
        md=f"{PAPER}/{artifacts.DEFAULT_SELECTION_MD}",
    log:
        res(paths.log_file("render_selection", per_run=False)),
    conda:
        ENV
    script:
        "../scripts/render_selection.py"


rule render_rtol:
    """The paper's closed-form updates against the pseudo-inverse's cut-off (Markdown)."""
    input:
        rtol=summary_file("rtol"),
    output:
        md=f"{PAPER}/{artifacts.RTOL_MD}",
    log:
        res(paths.log_file("render_rtol", per_run=False)),
    conda:
        ENV
    script:
        "../scripts/render_rtol.py"


rule render_tables:
    """Tables 5.1-5.3 (LaTeX, booktabs) from the summaries."""
    input:
        detection=summary_file("detection"),
        unlearning=summary_file("unlearning"),
    output:
        [f"{PAPER}/{name}" for name in artifacts.PAPER_TABLE_FILES],
    log:
        res(paths.log_file("render_tables", per_run=False)),
    conda:
        ENV
    params:
        dataset=DATASET,
        metric=config["test_metric"],
    script:
        "../scripts/render_tables.py"


rule render_histograms:
    """Figures 5.1-5.4 (and one per extra detector): score histograms at histogram_ratio."""
    input:
        unpack(histogram_scores),
    output:
        report(
            [
                f"{PAPER}/{stem}.png"
                for stem in wc.histogram_stems(config["detectors"])
            ],
            caption="../report/histograms.rst",
            category="Figures 5.1-5.4",
        ),
        [
            f"{PAPER}/{stem}.{ext}"
            for stem in wc.histogram_stems(config["detectors"])
            for ext in ("pdf", "tex")
        ],
    log:
        res(paths.log_file("render_histograms", per_run=False)),
    conda:
        ENV
    params:
        seed=int(SEEDS[0]),
        n_seeds=len(SEEDS),
        ratio=config["histogram_ratio"],
    script:
        "../scripts/render_histograms.py"


rule render_curves:
    """Extra figures: accuracy and detection AUC against the noise ratio (mean +- std)."""
    input:
        detection=summary_file("detection"),
        unlearning=summary_file("unlearning"),
    output:
        report(
            [f"{PAPER}/{stem}.png" for stem in artifacts.CURVES],
            caption="../report/curves.rst",
            category="Beyond the paper",
        ),
        [f"{PAPER}/{stem}.{ext}" for stem in artifacts.CURVES for ext in ("pdf", "tex")],
    log:
        res(paths.log_file("render_curves", per_run=False)),
    conda:
        ENV
    params:
        dataset=DATASET,
    script:
        "../scripts/render_curves.py"


rule render_extensions:
    """Beyond the paper: detectors, budgets, curvature scopes, unlearners (tables, figures)."""
    input:
        detection=summary_file("detection"),
        unlearning=summary_file("unlearning"),
        loo=summary_file("loo"),
        timing=summary_file("timing"),
    output:
        report(
            [f for f in wc.extension_files(PAPER) if f.endswith(".png")],
            caption="../report/extensions.rst",
            category="Beyond the paper",
        ),
        [f for f in wc.extension_files(PAPER) if not f.endswith(".png")],
    log:
        res(paths.log_file("render_extensions", per_run=False)),
    conda:
        ENV
    params:
        dataset=DATASET,
    script:
        "../scripts/render_extensions.py"


rule render_paper_vs_ours:
    """The paper's Tables 5.1-5.3 beside ours, cell by cell (LaTeX, Markdown, CSV)."""
    input:
        detection=summary_file("detection"),
        unlearning=summary_file("unlearning"),
    output:
        tex=f"{PAPER}/{artifacts.PAPER_VS_OURS_FILES[0]}",
        md=f"{PAPER}/{artifacts.PAPER_VS_OURS_FILES[1]}",
        csv=f"{SUMMARY}/{artifacts.PAPER_VS_OURS_CSV}",
    log:
        res(paths.log_file("render_paper_vs_ours", per_run=False)),
    conda:
        ENV
    params:
        dataset=DATASET,
        metric=config["test_metric"],
        config_name=CONFIG_NAME,
    script:
        "../scripts/render_paper_vs_ours.py"


rule render_rulegraph:
    """Figure 1.1: the method's overview, drawn as this workflow's rule graph (Graphviz)."""
    output:
        pdf=f"{PAPER}/{artifacts.RULEGRAPH}",
        png=report(
            f"{PAPER}/{artifacts.RULEGRAPH_PNG}",
            caption="../report/rulegraph.rst",
            category="Figure 1.1",
        ),
    log:
        res(paths.log_file("render_rulegraph", per_run=False)),
    conda:
        ENV
    params:
        snakefile=workflow.main_snakefile,
    script:
        "../scripts/render_rulegraph.py"


rule write_paper:
    """paper.tex: every table and figure in one article (it inputs the tables and the
    figures' captions; pdflatex also needs the figures themselves: compile_paper)."""
    input:
        paper_sources(".tex"),
    output:
        tex=f"{PAPER}/{artifacts.PAPER_TEX}",
    log:
        res(paths.log_file("write_paper", per_run=False)),
    conda:
        ENV
    params:
        tables=list(artifacts.PAPER_TABLES) + wc.paper_vs_ours_stems(config),
        figures=wc.histogram_stems(config["detectors"]) + list(artifacts.CURVES),
        extensions=wc.extension_stems(),
    script:
        "../scripts/write_paper.py"


rule compile_paper:
    """paper.pdf with pdflatex (only requested when a TeX engine is installed)."""
    input:
        paper_sources(".pdf"),
        tex=f"{PAPER}/{artifacts.PAPER_TEX}",
    output:
        pdf=f"{PAPER}/{artifacts.PAPER_PDF}",
    log:
        res(paths.log_file("compile_paper", per_run=False)),
    conda:
        ENV
    script:
        "../scripts/compile_paper.py"


rule explain_no_tex:
    """Without a TeX engine: say so in the log; everything else is unaffected."""
    output:
        note=res(paths.PAPER_SKIPPED_NOTE),
    log:
        res(paths.log_file("compile_paper", per_run=False)),
    conda:
        ENV
    script:
        "../scripts/compile_paper.py"
