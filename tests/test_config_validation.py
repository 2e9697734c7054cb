"""Bad configuration is refused before any job runs, naming the key, value and the fix."""

from __future__ import annotations

import pytest

from mislabel.workflow import config as wc
from tests.test_workflow import copy_workflow, snakemake

BAD = [
    # (override, words the error must contain)
    ("noise_ratios=[0.1,1.0]", ["noise_ratios[1]: 1.0 is greater than or equal to", "r < 1"]),
    ("noise_ratios=[-0.1]", ["noise_ratios[0]: -0.1 is less than the minimum of 0"]),
    ("epochs=0", ["epochs", "0", "minimum"]),
    ("batch_size=0", ["batch_size"]),
    ("train_per_class=0", ["train_per_class"]),
    ("classes=[0,0]", ["classes", "non-unique"]),
    ("classes=[3]", ["classes", "too short"]),
    ("classes=[0,12]", ["classes contains 12", "mnist has classes 0..9"]),
    ("seeds=[1,1]", ["seeds", "non-unique"]),
    ("dataset=cifar10", ["dataset", "cifar10", "mnist", "fashion_mnist", "features"]),
    ("dataset=features", ["dataset: features needs features.{train_features", "None"]),
    ("noise_mode=asymmetric", ["noise_mode", "asymmetric", "symmetric", "exact"]),
    ("detectors=[loss,margin]", ["detectors", "margin"]),
    ("unlearners=[forget]", ["unlearners", "forget"]),
    ("curvature=full", ["unknown key 'curvature'", "Allowed keys: aum_percentile,"]),
    ("full_damping=0", ["full_damping: 0 is less than or equal to the minimum of 0"]),
    ("cv_folds=1", ["cv_folds", "1", "minimum"]),
    ("targets=[everything]", ["targets", "everything", "detected_estimated"]),
    ("budget_estimator=loss", ["budget_estimator", "loss", "cleanlab"]),
    ("neggrad_alpha=1.5", ["neggrad_alpha", "1.5", "maximum"]),
    ("detectors=[loss] pipeline_detector=loss", ["budget_estimator", "cleanlab", "detected"]),
    ("summary_dir=x paper_dir=x", ["summary_dir", "paper_dir", "different folders"]),
    ("loo_samples=1500", ["loo_samples=1500", "2000 training samples"]),
    ("lr=-1", ["lr", "-1"]),
    ("momentum=1.5", ["momentum", "1.5"]),
    ("typo_key=3", ["unknown key 'typo_key'", "Allowed keys:", "seeds"]),
    ("seed=[0,1]", ["unknown key 'seed'; did you mean 'seeds'? Allowed keys:"]),
    ("pipeline_detector=if_self detectors=[loss]", ["pipeline_detector", "if_self", "detectors"]),
    ("histogram_ratio=0.25", ["histogram_ratio", "0.25", "noise_ratios"]),
    ("train_per_class=6000", ["train_per_class=6000", "5923", "class 0"]),
    ("batch_size=1500", ["batch_size=1500", "2000 training samples"]),
]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return copy_workflow(tmp_path_factory.mktemp("validation"))


@pytest.mark.parametrize(("override", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_config_fails_before_any_job_with_a_clear_message(workdir, override, words):
    proc = snakemake(workdir, "--dry-run", "--config", *override.split(), check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0, text[-2000:]
    for word in words:
        assert word in text, f"{word!r} missing from:\n{text[-3000:]}"
    assert "Traceback" not in text
    assert len(text.strip().splitlines()) <= 8, text  # a few lines, never the schema
    assert not (workdir / "results").exists()


def test_schema_problems_name_the_key_and_the_closest_allowed_one():
    import yaml

    from tests.test_workflow import REPO

    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    assert wc.schema_problems(config, schema) == []
    features = {"train_feature": "x.npy"}
    problems = wc.schema_problems(config | {"epoch": 3, "features": features}, schema)
    assert problems[0].startswith("unknown key 'epoch'; did you mean 'epochs'? Allowed keys: ")
    assert problems[1].startswith(
        "unknown key 'features.train_feature'; did you mean 'features.train_features'? "
        "Allowed keys: test_features, test_labels, train_features, train_labels"
    )
    [problem] = wc.schema_problems(config | {"seeds": [1, "a"]}, schema)
    assert problem.startswith("seeds[1]: 'a' is not of type 'integer' (seeds: ")


def test_cross_check_lists_every_problem_at_once():
    config = {
        "pipeline_detector": "aum",
        "detectors": ["loss"],
        "noise_ratios": [0.1],
        "histogram_ratio": 0.2,
        "dataset": "mnist",
        "classes": [5, 1],
        "train_per_class": 5500,
        "batch_size": 32,
        "targets": ["mislabeled", "detected_estimated"],
        "budget_estimator": "cleanlab",
        "summary_dir": "results/summary",
        "paper_dir": "paper_tables",
        "loo_samples": 40,
        "noise_mode": "symmetric",
        "noise_positions": "first",
    }
    problems = wc.cross_check(config)
    assert len(problems) == 5
    assert any("noise_positions='first' needs noise_mode='exact'" in p for p in problems)
    with pytest.raises(wc.ConfigError, match="invalid configuration"):
        wc.check(config)


def test_cross_check_runs_the_settings_own_checks():
    """A value the schema lets through but a settings group refuses is a config problem,
    named by its key, before any job starts."""
    problems = wc.settings_problems({"pinv_rtol": 1.5, "cg_tol": 0.5, "neggrad_epochs": 5})
    assert problems == ["pinv_rtol must be in (0, 1), got 1.5"]
    assert wc.settings_problems({"lr": 0.1, "full_damping": 2.0}) == []


def test_paper_vs_ours_only_for_the_papers_setting():
    paper = {"dataset": "mnist", "classes": [0, 1]}
    assert wc.paper_vs_ours_files(paper, "s", "p") == [
        "p/table_paper_vs_ours.tex",
        "p/table_paper_vs_ours.md",
        "s/paper_vs_ours.csv",
    ]
    assert wc.paper_vs_ours_stems(paper) == ["table_paper_vs_ours"]
    for other in (
        {"dataset": "mnist", "classes": [1, 7]},
        {"dataset": "fashion_mnist", "classes": [0, 1]},
    ):
        assert wc.paper_vs_ours_files(other, "s", "p") == [] == wc.paper_vs_ours_stems(other)


def test_config_name_names_the_layered_files():
    assert wc.config_name(["config.yaml"]) == "config.yaml"
    assert (
        wc.config_name(["configs/authors_code.yaml", "config.yaml"]) == "configs/authors_code.yaml"
    )


def test_numbers_from_the_command_line_are_coerced():
    config = {"seeds": ["0", "1"], "noise_ratios": ["0.1"], "hidden": ["50"], "classes": [0, 1]}
    wc.coerce_numbers(config)
    assert config == {"seeds": [0, 1], "noise_ratios": [0.1], "hidden": [50], "classes": [0, 1]}
    weird = {"seeds": ["zero"]}
    wc.coerce_numbers(weird)
    assert weird == {"seeds": ["zero"]}  # left for the schema to refuse


REAL_ERRORS = {"top_k": [50, 100], "forget_detector": "aum", "forget_k": [50], "label_errors": None}
BAD_REAL_ERRORS = [
    # (changes to the real_errors mapping, top-level changes, words the one problem holds)
    ({"forget_detector": "margin"}, {}, ["real_errors.forget_detector='margin' is not", "aum"]),
    ({"top_k": [0]}, {}, ["real_errors.top_k[0]: 0 is less than the minimum of 1"]),
    ({"forget_k": [5, 5]}, {}, ["real_errors.forget_k", "non-unique"]),
    ({"forget_top": 5}, {}, ["unknown key 'real_errors.forget_top'", "forget_k"]),
    ({"label_errors": "nope.csv"}, {}, ["real_errors.label_errors='nope.csv' is not a file"]),
    ({}, {"dataset": "fashion_mnist"}, ["null means the shipped table", "'fashion_mnist'"]),
]


@pytest.mark.parametrize(("change", "top", "words"), BAD_REAL_ERRORS)
def test_a_bad_real_errors_mapping_is_one_problem_naming_its_key(change, top, words):
    import yaml

    from tests.test_workflow import REPO

    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    wc.check(config | {"real_errors": REAL_ERRORS}, schema)  # the good mapping passes
    with pytest.raises(wc.ConfigError) as err:
        wc.check(config | top | {"real_errors": REAL_ERRORS | change}, schema)
    [problem] = str(err.value).splitlines()[1:]
    for word in words:
        assert word in problem, problem


def test_a_bad_real_errors_config_stops_snakemake_before_any_job(workdir, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "real_errors: {top_k: [50], forget_detector: margin, forget_k: [5], label_errors: null}\n"
    )
    proc = snakemake(workdir, "--dry-run", "--configfile", str(bad), check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "real_errors.forget_detector='margin'" in text
    assert "Traceback" not in text and len(text.strip().splitlines()) <= 8, text
