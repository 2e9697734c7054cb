# Cheap rendering, separate from compute: restyling a table never retrains a model.


localrules:
    render_tables,
    render_histograms,
    render_curves,
    render_rulegraph,
    write_paper,
    compile_paper,
    explain_no_tex,


rule render_tables:
    """Tables 5.1-5.3 (LaTeX, booktabs) from the summaries."""
    input:
        detection="results/summary/detection.csv",
        unlearning="results/summary/unlearning.csv",
    output:
        report(
            expand("paper_tables/table_5_{i}.tex", i=[1, 2, 3]),
            caption="../report/tables.rst",
            category="Tables",
        ),
    log:
        "results/logs/render_tables.log",
    conda:
        ENV
    params:
        dataset=DATASET,
    script:
        "../scripts/render_tables.py"


rule render_histograms:
    """Figures 5.1-5.4: score histograms at histogram_ratio, first seed."""
    input:
        unpack(histogram_scores),
    output:
        report(
            [
                f"paper_tables/{wc.HISTOGRAM_FIGURES[d]}.png"
                for d in config["detectors"]
            ],
            caption="../report/histograms.rst",
            category="Figures 5.1-5.4",
        ),
        [
            f"paper_tables/{wc.HISTOGRAM_FIGURES[d]}.{ext}"
            for d in config["detectors"]
            for ext in ("pdf", "tex")
        ],
    log:
        "results/logs/render_histograms.log",
    conda:
        ENV
    params:
        seed=int(SEEDS[0]),
        n_seeds=len(SEEDS),
    script:
        "../scripts/render_histograms.py"


rule render_curves:
    """Extra figures: accuracy and detection AUC against the noise ratio (mean +- std)."""
    input:
        detection="results/summary/detection.csv",
        unlearning="results/summary/unlearning.csv",
    output:
        report(
            expand(
                "paper_tables/{stem}.png",
                stem=["fig_accuracy_vs_ratio", "fig_auc_vs_ratio"],
            ),
            caption="../report/curves.rst",
            category="Beyond the paper",
        ),
        expand(
            "paper_tables/{stem}.{ext}",
            stem=["fig_accuracy_vs_ratio", "fig_auc_vs_ratio"],
            ext=["pdf", "tex"],
        ),
    log:
        "results/logs/render_curves.log",
    conda:
        ENV
    params:
        dataset=DATASET,
    script:
        "../scripts/render_curves.py"


rule render_rulegraph:
    """Figure 1.1: the method's overview, drawn as this workflow's rule graph (Graphviz)."""
    output:
        pdf="paper_tables/fig_1_1.pdf",
    log:
        "results/logs/render_rulegraph.log",
    conda:
        ENV
    params:
        snakefile=workflow.main_snakefile,
    script:
        "../scripts/render_rulegraph.py"


rule write_paper:
    """paper.tex: every table and figure in one article."""
    input:
        [f for f in wc.paper_files(config["detectors"]) if not f.endswith("paper.tex")],
    output:
        tex="paper_tables/paper.tex",
    log:
        "results/logs/write_paper.log",
    conda:
        ENV
    params:
        tables=["table_5_1", "table_5_2", "table_5_3"],
        figures=[wc.HISTOGRAM_FIGURES[d] for d in config["detectors"]]
        + ["fig_accuracy_vs_ratio", "fig_auc_vs_ratio"],
    script:
        "../scripts/write_paper.py"


rule compile_paper:
    """paper.pdf with pdflatex (only requested when a TeX engine is installed)."""
    input:
        tex="paper_tables/paper.tex",
    output:
        pdf="paper_tables/paper.pdf",
    log:
        "results/logs/compile_paper.log",
    conda:
        ENV
    script:
        "../scripts/compile_paper.py"


rule explain_no_tex:
    """Without a TeX engine: say so in the log; everything else is unaffected."""
    output:
        note="results/logs/compile_paper_skipped.txt",
    log:
        "results/logs/compile_paper.log",
    conda:
        ENV
    script:
        "../scripts/compile_paper.py"
