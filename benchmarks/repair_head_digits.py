"""A measured `repair_head`: scikit-learn's LogisticRegression on its digits (10 classes),
trained on labels with 10% planted flips, repaired through its head with each unlearner.

Run: .venv/bin/python benchmarks/repair_head_digits.py  (prints a Markdown table)
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from mislabel.noise import inject_noise
from mislabel.repair_head import RepairRefused, repair_head


def quiet(_: str) -> None:
    """No progress lines between the table rows."""


UNLEARNERS = ("neggrad_plus", "finetune", "relabel", "influence", "ssse", "ssse_full")


def planted_digits():
    """The digits (features scaled to [0, 1]): 1200 training samples with 10% of their
    labels flipped, the 597 others as a holdout with true labels, and the LogisticRegression
    fit on the noisy labels: (x_train, y_noisy, flipped, x_test, y_test, fit)."""
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(y))
    train, test = order[:1200], order[1200:]
    y_noisy, flipped = inject_noise(y[train], 10, 0.1, "exact", seed=0)
    fit = LogisticRegression(max_iter=5000).fit(x[train], y_noisy)
    return x[train], y_noisy, flipped, x[test], y[test], fit


def main() -> None:
    x_train, y_noisy, flipped, x_test, y_test, fit = planted_digits()
    print(
        f"n = {y_noisy.size} training samples, {int(flipped.sum())} labels flipped; holdout: "
        f"the {y_test.size} other digits with their true labels\n"
    )
    print("| unlearner | detection AUC (loss) | holdout accuracy before -> after | verdict |")
    print("|---|---|---|---|")
    for unlearner in UNLEARNERS:
        try:
            holdout = {"holdout_features": x_test, "holdout_labels": y_test}
            head = (x_train, y_noisy, fit.coef_.T, fit.intercept_)
            repair = repair_head(*head, **holdout, unlearner=unlearner, ratio=0.1, log=quiet)
            verdict = "written"
        except RepairRefused as refused:
            repair, verdict = refused.repair, "refused (worse beyond noise)"
        s = repair.summary
        auc = roc_auc_score(flipped, repair.scores_N)
        print(
            f"| {unlearner} | {auc:.4f} | {s['holdout_accuracy_before']:.4f} -> "
            f"{s['holdout_accuracy_after']:.4f} (p = {s['worse_p_value']:.2g}) | {verdict} |"
        )


if __name__ == "__main__":
    main()
