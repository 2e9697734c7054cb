# Config validation and input functions. Paths live in mislabel.workflow_config.
import shutil

from snakemake.utils import validate

from mislabel import workflow_config as wc


validate(config, "../schemas/config.schema.yaml")
wc.check(config)

RATIOS = [wc.fmt_ratio(r) for r in config["noise_ratios"]]
SEEDS = [str(s) for s in config["seeds"]]
DATASET = config["dataset"]
RUN = wc.RESULTS + "/{dataset}/r{ratio}/s{seed}"
LOGS = wc.RESULTS + "/logs"
BENCH = wc.RESULTS + "/benchmarks"
PAPER = wc.PAPER
HAS_TEX = shutil.which("pdflatex") is not None


wildcard_constraints:
    dataset="mnist|fashion_mnist",
    ratio=r"[0-9][0-9.e-]*",
    seed=r"[0-9]+",
    detector="|".join(["loss", "if_self", "if_train", "if_train_minus_z"]),
    method="|".join(["influence", "ssse", "finetune", "retrain"]),
    target="mislabeled|detected",


def expand_runs(pattern, **extra):
    """`pattern` for every (ratio, seed) of the config."""
    return expand(pattern, dataset=DATASET, ratio=RATIOS, seed=SEEDS, **extra)


def unlearned_models(wildcards):
    """Every unlearned model of one (dataset, ratio, seed), with its info file."""
    return {
        f"{kind}_{method}_{target}": f"{RUN}/unlearn/{method}_{target}.{ext}".format(
            **wildcards
        )
        for method in config["unlearners"]
        for target in wc.TARGETS
        for kind, ext in (("model", "msgpack"), ("info", "json"))
    }


def histogram_scores(wildcards):
    """Score files of every paper detector at histogram_ratio, first seed."""
    run = wc.run_dir(DATASET, config["histogram_ratio"], SEEDS[0])
    return {d: f"{run}/scores/{d}.npz" for d in config["detectors"]}


def paper_outputs():
    """Everything rendered into paper_tables/."""
    tables = [f"{PAPER}/table_5_{i}.tex" for i in (1, 2, 3)]
    figures = [
        f"{PAPER}/{wc.HISTOGRAM_FIGURES[d]}.{ext}"
        for d in config["detectors"]
        for ext in ("pdf", "png", "tex")
    ]
    curves = [
        f"{PAPER}/{stem}.{ext}"
        for stem in ("fig_accuracy_vs_ratio", "fig_auc_vs_ratio")
        for ext in ("pdf", "png", "tex")
    ]
    return tables + figures + curves + [f"{PAPER}/fig_1_1.pdf", f"{PAPER}/paper.tex"]


def all_targets(wildcards):
    summaries = [
        f"{wc.RESULTS}/summary/{name}.csv"
        for name in ("detection", "unlearning", "benchmarks")
    ]
    pdf = [f"{PAPER}/paper.pdf"] if HAS_TEX else [f"{LOGS}/compile_paper_skipped.txt"]
    return summaries + paper_outputs() + pdf
