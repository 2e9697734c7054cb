"""`mislabel find-issues` against cleanlab on the same out-of-sample probabilities.

Planted noise: digits (scikit-learn, 1797 samples, 10 classes), 5-fold cross-validated
logistic regression probabilities, noise of three kinds: symmetric (to a uniform other
class), class-dependent (y -> y + 1 mod 10) and instance-dependent (to the clean model's
second choice, drawn by low margin). Real noise: MNIST's 10,000 test images with their
labels as given, 5-fold cross-validated multinomial logistic regression on the pixels / 255
(scikit-learn, lbfgs: the simplest model, and it converges, in 137 to 145 iterations per
fold), the truth the 15 verified errors of Northcutt et al. (2021) (and, separately,
their 100 candidates; `mislabel.data.label_errors.verified_errors`).

For each case: AUROC and AUPRC of the scores, F1 of the set flagged without a ratio, the
budget's relative error against the true count. cleanlab (`pip install "mislabel[bench]"`,
AGPL) is run where installed: ``filter.find_label_issues`` (its defaults) and
``rank.get_label_quality_scores(method="self_confidence")``.

Chosen on the validation configurations (seed 0, r = 0.1 and 0.2) only, reported on the
test configurations (seed 1, r = 0.05, 0.15, 0.3) and MNIST: the blend's weight (1/2,
among 0, 1/4, 1/2, 3/4, 1, by the budget's relative error) and the flag rules' defaults
(`DEFAULT_FLAG_BY` without a ratio, by the mean F1 over every rule and budget estimator;
`RATIO_FLAG_BY` with one, by the mean F1 at the true count). The script stops if the
package's defaults are not the ones validation chooses. Writes benchmarks/find_issues.md
and .csv (one row per configuration; `split` val, test or mnist).

    PYTHONPATH=src python benchmarks/find_issues.py
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score
from sklearn.model_selection import cross_val_predict

from mislabel.data.label_errors import verified_errors
from mislabel.data.sources import load_dataset
from mislabel.detectors.probabilities import (
    DEFAULT_FLAG_BY,
    FLAG_RULES,
    RATIO_FLAG_BY,
    calibrated_count,
    margin_deficit_count,
)
from mislabel.find import DEFAULT_ESTIMATOR, find_issues
from mislabel.noise import flip_class_dependent, flip_instance_dependent

HERE = Path(__file__).resolve().parent
SPLITS = {"val": (0, [0.1, 0.2]), "test": (1, [0.05, 0.15, 0.3])}
WEIGHTS = [0.0, 0.25, 0.5, 0.75, 1.0]
ESTIMATORS = ("blend", "confident_learning")  # the per-class-pair cells: m's, the joint's own
FOLDS = 5


def cv_probs(x, y, max_iter=500):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression(C=1.0, max_iter=max_iter)
        return cross_val_predict(model, x, y, cv=FOLDS, method="predict_proba")


def planted(y, clean_probs, kind, ratio, seed):
    if kind == "symmetric":
        rng = np.random.default_rng(seed)
        return np.where(rng.random(len(y)) < ratio, (y + rng.integers(1, 10, len(y))) % 10, y)
    if kind == "class-dependent":
        return flip_class_dependent(y, ratio, seed=seed)
    return flip_instance_dependent(y, clean_probs, ratio, seed=seed)


def cleanlab_row(noisy, probs, truths):
    """cleanlab's scores and `find_label_issues` set against each truth {suffix: mask}."""
    try:
        from cleanlab.filter import find_label_issues
        from cleanlab.rank import get_label_quality_scores
    except ImportError:
        return {}
    quality = get_label_quality_scores(noisy, probs, method="self_confidence")
    issues = find_label_issues(noisy, probs)
    row = {"cleanlab_flagged": int(issues.sum())}
    for suffix, truth in truths.items():
        row |= {
            f"cleanlab_auroc{suffix}": roc_auc_score(truth, -quality),
            f"cleanlab_auprc{suffix}": average_precision_score(truth, -quality),
            f"cleanlab_f1{suffix}": f1_score(truth, issues),
            f"cleanlab_found{suffix}": int((truth & issues).sum()),
            f"cleanlab_count_err{suffix}": (issues.sum() - truth.sum()) / truth.sum(),
        }
    return row


def rule_key(rule: str, estimator: str) -> str:
    return f"f1_{rule}_{estimator}"


def rule_f1s(noisy, probs, truth) -> dict:
    """F1 of every flag rule with every budget estimator, and at the true count (a ratio)."""
    row = {}
    for rule in FLAG_RULES:
        for est in ESTIMATORS:
            flagged = find_issues(probs, noisy, flag_by=rule, budget_estimator=est).flagged_N
            row[rule_key(rule, est)] = f1_score(truth, flagged)
        at_truth = find_issues(probs, noisy, flag_by=rule, ratio=truth.sum() / len(truth))
        row[rule_key(rule, "true_count")] = f1_score(truth, at_truth.flagged_N)
    return row


def ours_row(noisy, probs, truths) -> dict:
    """find_issues with its defaults (a report written, as the command does)."""
    with tempfile.TemporaryDirectory() as tmp:
        issues = find_issues(probs, noisy, report_dir=tmp)
    row = {"budget": issues.summary["budget"], "flagged": issues.summary["flagged"]}
    for suffix, truth in truths.items():
        row |= {
            f"auroc{suffix}": roc_auc_score(truth, issues.scores_N),
            f"auprc{suffix}": average_precision_score(truth, issues.scores_N),
            f"f1{suffix}": f1_score(truth, issues.flagged_N),
            f"found{suffix}": int((truth & issues.flagged_N).sum()),
            f"budget_err{suffix}": (issues.summary["budget"] - truth.sum()) / truth.sum(),
        }
    return row


def measure(split: str) -> pd.DataFrame:
    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    clean_probs = cv_probs(x, y)
    seed, ratios = SPLITS[split]
    rows = []
    for kind in ("symmetric", "class-dependent", "instance-dependent"):
        for ratio in ratios:
            noisy = planted(y, clean_probs, kind, ratio, seed)
            flipped = noisy != y
            probs = cv_probs(x, noisy)
            true = flipped.sum()
            cl, md = calibrated_count(noisy, probs), margin_deficit_count(noisy, probs)
            row = {
                "split": split,
                "noise": kind,
                "r": ratio,
                "flipped": int(true),
                **ours_row(noisy, probs, {"": flipped}),
                "cl_count_err": (cl - true) / true,
                **{f"w{w:g}_err": abs(w * cl + (1 - w) * md - true) / true for w in WEIGHTS},
                **rule_f1s(noisy, probs, flipped),
            }
            rows.append(row | cleanlab_row(noisy, probs, {"": flipped}))
            print(split, kind, ratio, f"F1 {row['f1']:.3f}", flush=True)
    return pd.DataFrame(rows)


def measure_mnist() -> pd.DataFrame:
    """MNIST's test set as given; truth the verified errors (and the candidates: `_cand`)."""
    with tempfile.TemporaryDirectory() as cache:
        raw = load_dataset("mnist", cache, source_dir=None, pip_fetch=None, mirrors=())
    x = raw.test_images.reshape(len(raw.test_images), -1) / 255.0
    labels = raw.test_labels.astype(np.int64)
    start = time.perf_counter()
    probs = cv_probs(x, labels, max_iter=1000)
    print(f"mnist: {FOLDS}-fold probabilities in {time.perf_counter() - start:.0f} s", flush=True)
    errors = verified_errors()
    verified, candidates = np.zeros(len(labels), bool), np.zeros(len(labels), bool)
    verified[errors.index_K[errors.verified_K]] = True
    candidates[errors.index_K] = True
    truths = {"": verified, "_cand": candidates}
    row = {
        "split": "mnist",
        "noise": "real (MNIST test)",
        "r": verified.mean(),
        "flipped": int(verified.sum()),
        "candidates": int(candidates.sum()),
        "cv_accuracy": float((probs.argmax(axis=1) == labels).mean()),
        **ours_row(labels, probs, truths),
        **rule_f1s(labels, probs, verified),
    }
    return pd.DataFrame([row | cleanlab_row(labels, probs, truths)])


def chosen_defaults(val: pd.DataFrame) -> tuple[dict, tuple[str, str], str]:
    """Validation means of every (rule, estimator) F1; the best pair; the best rule at the
    true count."""
    means = {
        (rule, est): val[rule_key(rule, est)].mean()
        for rule in FLAG_RULES
        for est in (*ESTIMATORS, "true_count")
    }
    best = max((k for k in means if k[1] != "true_count"), key=means.get)
    at_truth = max(FLAG_RULES, key=lambda rule: means[(rule, "true_count")])
    return means, best, at_truth


def table(head: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
        *("| " + " | ".join(cells) + " |" for cells in rows),
    ]


def digits_table(test: pd.DataFrame, has_cl: bool) -> list[str]:
    head = ["noise", "r", "flipped", "AUROC", "AUPRC", "F1 (no ratio)"]
    head += ["F1 global (before)", "budget error"]
    if has_cl:
        head += ["cleanlab AUROC", "cleanlab AUPRC", "cleanlab F1", "cleanlab count error"]
    rows = []
    for _, r in test.iterrows():
        cells = [r["noise"], f"{r['r']:g}", str(r["flipped"]), f"{r['auroc']:.4f}"]
        cells += [f"{r['auprc']:.3f}", f"{r['f1']:.3f}"]
        cells += [f"{r[rule_key('global', DEFAULT_ESTIMATOR)]:.3f}", f"{r['budget_err']:+.2f}"]
        if has_cl:
            cells += [f"{r['cleanlab_auroc']:.4f}", f"{r['cleanlab_auprc']:.3f}"]
            cells += [f"{r['cleanlab_f1']:.3f}", f"{r['cleanlab_count_err']:+.2f}"]
        rows.append(cells)
    return table(head, rows)


def rules_table(val: pd.DataFrame, test: pd.DataFrame, mnist: pd.DataFrame | None) -> list[str]:
    budgets = {
        "blend": "estimated (blend)",
        "confident_learning": "the joint's own count",
        "true_count": "the true count (as a ratio)",
    }
    head = ["flag by", "budget m", "validation F1", "test F1"]
    head += [] if mnist is None else ["MNIST F1 (15 verified)"]
    rows = []
    for rule in FLAG_RULES:
        for est, text in budgets.items():
            key = rule_key(rule, est)
            cells = [rule, text, f"{val[key].mean():.3f}", f"{test[key].mean():.3f}"]
            cells += [] if mnist is None else [f"{mnist[key].iloc[0]:.3f}"]
            rows.append(cells)
    if "cleanlab_f1" in test:
        cells = ["cleanlab `find_label_issues`", "its own"]
        cells += [f"{val['cleanlab_f1'].mean():.3f}", f"{test['cleanlab_f1'].mean():.3f}"]
        cells += [] if mnist is None else [f"{mnist['cleanlab_f1'].iloc[0]:.3f}"]
        rows.append(cells)
    return table(head, rows)


def mnist_table(mnist: pd.DataFrame, has_cl: bool) -> list[str]:
    r = mnist.iloc[0]
    rows = []
    for suffix, truth in (
        ("", f"{r['flipped']} verified"),
        ("_cand", f"{r['candidates']} candidates"),
    ):
        cells = [truth, f"{r[f'auroc{suffix}']:.4f}", f"{r[f'auprc{suffix}']:.3f}"]
        cells += [f"{r[f'f1{suffix}']:.3f}", f"{r[f'found{suffix}']} of {r['flagged']}"]
        if has_cl:
            cells += [f"{r[f'cleanlab_auroc{suffix}']:.4f}", f"{r[f'cleanlab_auprc{suffix}']:.3f}"]
            cells += [f"{r[f'cleanlab_f1{suffix}']:.3f}"]
            cells += [f"{r[f'cleanlab_found{suffix}']} of {r['cleanlab_flagged']}"]
        rows.append(cells)
    head = ["truth", "AUROC", "AUPRC", "F1 (no ratio)", "found of flagged"]
    if has_cl:
        head += ["cleanlab AUROC", "cleanlab AUPRC", "cleanlab F1", "cleanlab found of flagged"]
    return table(head, rows)


def verdict(ours: float, theirs: float) -> str:
    return f"{ours:.4f} against {theirs:.4f}, {'met' if ours >= theirs else 'not met'}"


def targets(test: pd.DataFrame, mnist: pd.DataFrame | None) -> list[str]:
    """Whether find-issues ranks as well as cleanlab's self-confidence (AUROC within 0.002)
    and flags a set without a ratio of F1 at least that of `find_label_issues`."""
    both = test if mnist is None else pd.concat([test, mnist])
    gap = (both["auroc"] - both["cleanlab_auroc"]).abs().max()
    lines = [
        f"- AUROC within 0.002 of cleanlab's self-confidence: the largest difference is "
        f"{gap:.4f} ({'met' if gap <= 0.002 else 'not met'}; the scores are the same).",
        "- F1 without a ratio at least that of `find_label_issues`, mean over the test "
        f"configurations: {verdict(test['f1'].mean(), test['cleanlab_f1'].mean())}; by noise: "
        + "; ".join(
            f"{kind} {verdict(part['f1'].mean(), part['cleanlab_f1'].mean())}"
            for kind, part in test.groupby("noise", sort=False)
        )
        + ".",
    ]
    if mnist is not None:
        r = mnist.iloc[0]
        one = 2 / (r["flagged"] + r["flipped"])
        lines += [
            f"- MNIST, the {r['flipped']} verified errors: F1 "
            f"{verdict(r['f1'], r['cleanlab_f1'])}; the {r['candidates']} candidates: "
            f"{verdict(r['f1_cand'], r['cleanlab_f1_cand'])}. With {r['flipped']} true "
            f"errors one more found moves our F1 by {one:.4f}: the flagged sets find "
            f"{r['found']} and {r['cleanlab_found']} of them in {r['flagged']} and "
            f"{r['cleanlab_flagged']} flagged, and F1 weighs the set's size as much as "
            "what it finds. The truth holds only the errors people confirmed; the other "
            "flagged images were never put to them, so precision is a lower bound.",
        ]
    return lines


def markdown(test: pd.DataFrame, val: pd.DataFrame, mnist: pd.DataFrame | None) -> str:
    has_cl = "cleanlab_auroc" in test
    means, best, at_truth = chosen_defaults(val)
    val_err = {w: val[f"w{w:g}_err"].mean() for w in WEIGHTS}
    chosen_w = min(val_err, key=val_err.get)
    lines = digits_table(test, has_cl)
    mean = test.select_dtypes("number").mean()
    lines += [
        "",
        f"Mean over the test configurations: F1 {mean['f1']:.3f} (flagged by {best[0]}; "
        f"{mean[rule_key('global', DEFAULT_ESTIMATOR)]:.3f} by the global top m, the "
        "previous default)"
        + (f", cleanlab {mean['cleanlab_f1']:.3f}" if has_cl else "")
        + f"; mean absolute relative error of the budget {test['budget_err'].abs().mean():.2f}"
        f" (the blend), {test['cl_count_err'].abs().mean():.2f} (the calibrated"
        " confident-joint count alone)"
        + (
            f", {test['cleanlab_count_err'].abs().mean():.2f} (the size of cleanlab's"
            " `find_label_issues` set)"
            if has_cl
            else ""
        )
        + ".",
        "",
        "F1 by flag rule and budget (means over the 6 validation and 9 test configurations;"
        " per_class_pair with the joint's own count takes the calibrated confident joint's"
        " cells as they are, with the blend it scales them to the blend's total):",
        "",
        *rules_table(val, test, mnist),
        "",
        f"Chosen on validation: without a ratio {best[0]} with the {best[1]} budget "
        f"(F1 {means[best]:.3f}); at the true count, as with a ratio, {at_truth} "
        f"(F1 {means[(at_truth, 'true_count')]:.3f}).",
        "",
        "Validation, mean relative error of w x calibrated count + (1 - w) x margin deficit: "
        + ", ".join(f"w = {w:g}: {e:.3f}" for w, e in val_err.items())
        + f"; the smallest at w = {chosen_w:g}.",
    ]
    if mnist is not None:
        r = mnist.iloc[0]
        lines += [
            "",
            f"MNIST test set, labels as given ({FOLDS}-fold logistic regression, "
            f"cross-validated accuracy {r['cv_accuracy']:.3f}; budget {r['budget']}):",
            "",
            *mnist_table(mnist, has_cl),
        ]
    if has_cl:
        lines += ["", "Targets:", "", *targets(test, mnist)]
    return "\n".join(lines) + "\n"


def check_defaults(val: pd.DataFrame) -> None:
    """Stop unless the package's defaults are the ones the validation configurations choose."""
    _, best, at_truth = chosen_defaults(val)
    if best != (DEFAULT_FLAG_BY, DEFAULT_ESTIMATOR) or at_truth != RATIO_FLAG_BY:
        raise SystemExit(
            f"validation chooses flag_by {best[0]} with {best[1]} (ratio: {at_truth}), the "
            f"package has {DEFAULT_FLAG_BY} with {DEFAULT_ESTIMATOR} (ratio: {RATIO_FLAG_BY});"
            " change the defaults in mislabel.detectors.probabilities"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-mnist", action="store_true", help="skip the MNIST case")
    args = parser.parse_args()
    val = measure("val")
    check_defaults(val)
    test = measure("test")
    mnist = None if args.no_mnist else measure_mnist()
    frames = [val, test] if mnist is None else [val, test, mnist]
    pd.concat(frames).to_csv(HERE / "find_issues.csv", index=False, float_format="%.4f")
    (HERE / "find_issues.md").write_text(markdown(test, val, mnist))
    print((HERE / "find_issues.md").read_text())


if __name__ == "__main__":
    main()
