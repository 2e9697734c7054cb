"""What `mislabel --help` says beyond the options (the description and the worked
examples), the help formatter that shows defaults, and `example`, with which each command
writes its own examples."""

from __future__ import annotations

import argparse
import textwrap


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows defaults (except None/False, which the help text explains) and keeps epilogs."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def example(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


DESCRIPTION = example(
    """
    Find the mislabeled samples in the training set of a trained model and unlearn them
    (Sugiura et al., 2024: detect by anomaly score, then forget). Every command reads and
    writes files, so each stage runs on its own, without Snakemake.
    """
)

EPILOG = example(
    """
    example: the paper's pipeline (MNIST 0 vs 1, 1000 per class, 10% symmetric noise)
      mislabel fetch --dataset mnist --out-dir data
      mislabel noise --raw data/mnist.npz --classes 0 1 --ratio 0.1 --out run/noisy.npz
      mislabel train --data run/noisy.npz --out run/model.msgpack \\
          --history run/history.npz
      mislabel score --data run/noisy.npz --model run/model.msgpack --detector loss \\
          --out run/scores.npz --info run/detection.json
      mislabel unlearn --data run/noisy.npz --model run/model.msgpack --unlearner ssse \\
          --target detected --scores run/scores.npz --out run/ssse.msgpack \\
          --info run/ssse.json
      mislabel evaluate --data run/noisy.npz --pretrained run/model.msgpack \\
          --unlearned run/ssse.msgpack run/ssse.json --out run/evaluation.csv

    example: repair your own model and training data
      mislabel pack --x-train x.npy --y-train y.npy --x-test xt.npy --y-test yt.npy \\
          --out mine.npz
      mislabel train --data mine.npz --out model.msgpack --history history.npz
      mislabel repair --data mine.npz --model model.msgpack --ratio 0.05 \\
          --out repaired.msgpack --scores-out flags.npz

    example: flag label issues from out-of-sample predicted probabilities you already have
      mislabel find-issues --pred-probs probs.npy --labels labels.npy --report-dir issues

    Run `mislabel COMMAND --help` for each command's options. Errors in the inputs exit
    with status 2 and a one-line message; --json prints each command's result on stdout.

    compiled programs: each command compiles its JAX programs once and keeps them in
    $XDG_CACHE_HOME/mislabel/jax (default ~/.cache/mislabel/jax), so later runs load
    them instead of compiling. Set JAX_COMPILATION_CACHE_DIR to use another folder, or to
    an empty value to switch the cache off; a folder that cannot be written is not used.
    """
)


def renamed_note(renamed: dict[str, str]) -> str:
    """The epilog line listing a command's old option names that still work."""
    pairs = ", ".join(f"{old} (now {new})" for old, new in renamed.items())
    return f"deprecated names, accepted until the next release:\n  {pairs}"
