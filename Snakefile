# mislabel: detect mislabeled training data with a trained model and unlearn it.
# Reproduces Sugiura et al. (2024); see README.md. Run: snakemake --cores 8
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/fetch.smk"
include: "workflow/rules/noise.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/score.smk"
include: "workflow/rules/unlearn.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/loo.smk"
include: "workflow/rules/select.smk"
include: "workflow/rules/rtol.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/render.smk"
include: "workflow/rules/real_errors.smk"


rule all:
    default_target: True
    input:
        all_targets,
