"""The `mislabel` command: every pipeline stage from the shell, file in, file out.

Each subcommand validates its arguments, then calls one function of `mislabel.stages`
(which writes its outputs atomically). `repair` chains score -> unlearn -> evaluate for a
practitioner holding a trained model and its training data. Expected failures (bad input
files, bad values, unavailable data) exit with status 2 and one `mislabel CMD: error: ...`
line on stderr; progress goes to stderr; `--json` puts the result on stdout.

Start-up is kept short (`benchmarks/startup.py` measures it): JAX, and every library only
some commands need, is imported inside the command that uses it, so `--help` and argument
errors never import it (`tests/test_startup.py`); compiled programs are kept in a
persistent cache (`mislabel.joblog.use_jax_cache`, set before JAX is imported); and a
process run from the shell ends with `os._exit` once its outputs are written and its
streams flushed, skipping the interpreter's teardown of JAX and XLA (~0.3 s).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import tempfile
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from mislabel import __version__
from mislabel.data import CANONICAL_SHA256, SUBSET_MODES, DataUnavailableError
from mislabel.names import DETECTORS, ESTIMATING_DETECTORS, METHODS, TARGETS
from mislabel.noise import NOISE_MODES, NOISE_POSITIONS
from mislabel.settings import CurvatureSettings, DetectionSettings, UnlearningSettings


class PaperTraining(NamedTuple):
    """The paper's SGD settings: the defaults of `mislabel.train.TrainConfig`, repeated here
    so that building the parser does not import JAX (a test checks that they agree)."""

    lr: float = 0.01
    momentum: float = 0.9
    batch_size: int = 32
    epochs: int = 20


DATASETS = tuple(sorted(CANONICAL_SHA256))
PAPER = PaperTraining()  # SGD, lr 0.01, momentum 0.9, batch 32, 20 epochs
PAPER_HIDDEN = (50, 50)
EXIT_ERROR = 2

# Failures caused by the user's inputs: reported in one line, without a traceback.
# (mislabel.curvature.NumericalError too, see `expected_errors`.)
EXPECTED_ERRORS = (
    ValueError,  # includes DatasetFileError, ModelFileError, IdxFormatError, JSON errors
    DataUnavailableError,
    FileNotFoundError,
    PermissionError,
    IsADirectoryError,
    NotADirectoryError,
)


def expected_errors() -> tuple[type[BaseException], ...]:
    """`EXPECTED_ERRORS` plus `NumericalError` (a NaN in a Hessian, score or update) if
    `mislabel.curvature` was imported: if it was not, none can have been raised, and the
    CLI need not import JAX to name it."""
    curvature = sys.modules.get("mislabel.curvature")
    return EXPECTED_ERRORS + ((curvature.NumericalError,) if curvature is not None else ())


Log = Callable[[str], None]


class CliError(ValueError):
    """An argument or input file the command cannot use."""


# --------------------------------------------------------------------------- value types


def _number(text: str, kind: type) -> Any:
    try:
        value = kind(text)
    except ValueError:
        noun = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def checked_number(kind: type, ok: Callable[[Any], bool], message: str) -> Callable[[str], Any]:
    """An argparse type: parse `kind`, then refuse values where `ok` is false with `message`
    (formatted with the value)."""

    def parse(text: str) -> Any:
        value = _number(text, kind)
        if not ok(value):
            raise argparse.ArgumentTypeError(message.format(value=value))
        return value

    return parse


# epochs, batch size, sizes
positive_int = checked_number(int, lambda v: v >= 1, "must be a positive integer, got {value}")
# seeds, class ids
nonneg_int = checked_number(int, lambda v: v >= 0, "must be a non-negative integer, got {value}")
noise_ratio = checked_number(
    float, lambda v: 0 <= v < 1, "noise ratio must be in [0, 1), got {value}"
)
# something must be flagged
positive_ratio = checked_number(
    float, lambda v: 0 < v < 1, "noise ratio must be in (0, 1) (0 flags nothing), got {value}"
)
# learning rate, tolerances
positive_float = checked_number(float, lambda v: v > 0, "must be positive, got {value}")
# damping
nonneg_float = checked_number(float, lambda v: v >= 0, "must be non-negative, got {value}")
momentum_value = checked_number(
    float, lambda v: 0 <= v < 1, "momentum must be in [0, 1), got {value}"
)


# --------------------------------------------------------------------------- file checks


def check_inputs(**paths: str | os.PathLike | None) -> None:
    """Raise FileNotFoundError naming the role of the first input that is not a file."""
    for role, path in paths.items():
        if path is None:
            continue
        p = Path(path)
        what = role.replace("_", " ")
        if p.is_dir():
            raise IsADirectoryError(f"{what} {p} is a directory, expected a file")
        if not p.is_file():
            raise FileNotFoundError(f"{what} {p} does not exist")


def check_outputs(*paths: str | os.PathLike | None, inputs: Sequence = ()) -> None:
    """Refuse outputs that collide with each other or an input, or cannot be written."""
    given = [Path(p) for p in paths if p is not None]
    seen: dict[Path, Path] = {}
    for p in given:
        key = p.resolve()
        if key in seen:
            raise CliError(f"two outputs go to the same file {p}; give each its own path")
        seen[key] = p
    for p in inputs:
        if p is not None and Path(p).resolve() in seen:
            raise CliError(f"output {p} would overwrite an input of the same command")
    for p in given:
        if p.is_dir():
            raise IsADirectoryError(f"output {p} is a directory, expected a file path")
        check_writable_dir(p.parent)


def check_writable_dir(directory: Path) -> None:
    """Raise unless `directory` exists writable or can be created."""
    existing = Path(directory).absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(f"cannot create folder {directory}: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write into {existing}: permission denied")


def stored_training(model_path: str | os.PathLike) -> dict:
    """Training settings recorded in a model file's metadata ({} if unreadable)."""
    from mislabel.files.checkpoint import read_model_file

    try:
        meta = read_model_file(model_path)["meta"]
    except Exception:  # the stage that loads the model reports the real problem
        return {}
    keys = ("lr", "momentum", "batch_size", "epochs")
    return {k: meta[k] for k in keys if isinstance(meta, dict) and k in meta}


def train_settings(args: argparse.Namespace) -> dict:
    """lr, momentum, batch size, epochs: the flags, else the model file's, else the paper's."""
    stored = stored_training(args.model)
    out = {}
    for key in ("lr", "momentum", "batch_size", "epochs"):
        value = getattr(args, key)
        out[key] = value if value is not None else stored.get(key, getattr(PAPER, key))
    return out


def read_flags(scores_path: str | os.PathLike, n: int, key: str | None = None) -> np.ndarray:
    """The `flagged` (or `key`) mask (n,) of a score file written by `mislabel score`."""
    import zipfile

    key = key or "flagged"
    try:
        with np.load(scores_path, allow_pickle=False) as npz:
            if key not in npz.files:
                raise CliError(f"score file {scores_path} has no {key!r} array")
            flagged = np.asarray(npz[key], bool)
    except (zipfile.BadZipFile, EOFError, OSError) as err:
        raise CliError(f"score file {scores_path} is corrupt or truncated ({err})") from err
    if flagged.shape != (n,):
        raise CliError(
            f"score file {scores_path} has {flagged.size} flags, the dataset {n} samples: "
            "they come from different runs"
        )
    return flagged


def read_info(path: str | os.PathLike) -> dict:
    """An unlearning info JSON written by `mislabel unlearn`, checked for evaluate."""
    try:
        info = json.loads(Path(path).read_text())
    except json.JSONDecodeError as err:
        raise CliError(f"info file {path} is not valid JSON ({err})") from err
    missing = [k for k in ("method", "target", "seconds") if k not in info]
    if not isinstance(info, dict) or missing:
        raise CliError(f"info file {path} lacks {missing}; write it with `mislabel unlearn`")
    return info


# --------------------------------------------------------------------------- subcommands


def cmd_fetch(args: argparse.Namespace, log: Log) -> dict:
    from mislabel.stages import fetch_dataset

    if args.source_dir is not None and not Path(args.source_dir).is_dir():
        raise FileNotFoundError(f"source folder {args.source_dir} does not exist")
    check_writable_dir(Path(args.out_dir))
    path = fetch_dataset(args.out_dir, dataset=args.dataset, source_dir=args.source_dir)
    with np.load(path, allow_pickle=False) as npz:
        n_train, n_test = npz["train_labels"].size, npz["test_labels"].size
    log(f"wrote {path}: {args.dataset}, {n_train} training and {n_test} test images (verified)")
    return {"dataset": args.dataset, "path": str(path), "n_train": n_train, "n_test": n_test}


def cmd_noise(args: argparse.Namespace, log: Log) -> dict:
    from mislabel.stages import make_noisy_dataset

    if args.noise_positions == "first" and args.noise_mode != "exact":
        raise CliError("--noise-positions first needs --noise-mode exact (a fixed count per class)")
    check_inputs(raw_dataset_file=args.raw)
    check_outputs(args.out, inputs=[args.raw])
    dataset = args.dataset or Path(args.raw).stem
    if dataset not in DATASETS:
        raise CliError(
            f"cannot tell the dataset from the file name {Path(args.raw).name}; "
            f"pass --dataset ({', '.join(DATASETS)})"
        )
    result = make_noisy_dataset(
        args.raw,
        args.out,
        dataset=dataset,
        classes=args.classes,
        train_per_class=args.train_per_class,
        subset=args.subset,
        noise_mode=args.noise_mode,
        ratio=args.ratio,
        seed=args.seed,
        noise_positions=args.noise_positions,
        test_per_class=args.test_per_class,
    )
    log(
        f"wrote {args.out}: {result['n_train']} training samples of classes {args.classes}, "
        f"{result['n_flipped']} labels flipped ({args.noise_mode}, r={args.ratio}), "
        f"{result['n_test']} test samples"
    )
    return {"path": str(args.out), **result}


def load_npy(path: str | os.PathLike, what: str) -> np.ndarray:
    """One array from a `.npy` file, without pickles."""
    check_inputs(**{what: path})
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise CliError(f"{what} {path} is not a readable .npy array ({err})") from err
    if not isinstance(arr, np.ndarray):
        arr.close()
        raise CliError(f"{what} {path} is an .npz archive; save the array with numpy.save")
    return arr


def as_pixels(x: np.ndarray, what: str) -> np.ndarray:
    """Images (n, D) or (n, H, W, ...) as uint8 (n, D): uint8 kept, [0, 1] floats rounded."""
    if x.ndim < 2 or x.shape[0] == 0 or x.size == 0:
        raise CliError(f"{what} has shape {x.shape}; expected (n, D) with n >= 1 samples")
    x = x.reshape(x.shape[0], -1)
    if x.dtype == np.uint8:
        return x
    if np.issubdtype(x.dtype, np.integer):
        if x.min() < 0 or x.max() > 255:
            raise CliError(f"{what} holds integers in {x.min()}..{x.max()}; pixels must be 0..255")
        return x.astype(np.uint8)
    if np.issubdtype(x.dtype, np.floating):
        if not np.all(np.isfinite(x)):
            raise CliError(f"{what} contains NaN or Inf")
        if x.min() < 0 or x.max() > 1:
            raise CliError(
                f"{what} holds floats in [{x.min():g}, {x.max():g}]; float pixels must lie in "
                "[0, 1] (or pass uint8 pixels 0..255)"
            )
        return np.round(x.astype(np.float64) * 255).astype(np.uint8)
    raise CliError(f"{what} has dtype {x.dtype}; expected uint8 pixels or floats in [0, 1]")


def as_labels(y: np.ndarray, what: str, n: int) -> np.ndarray:
    """Integer labels of shape (n,), as int64 (range checked by the caller)."""
    if y.shape != (n,):
        raise CliError(f"{what} has shape {y.shape}, expected ({n},) to match the images")
    if not np.issubdtype(y.dtype, np.integer):
        raise CliError(f"{what} has dtype {y.dtype}; labels must be integers 0..C-1")
    return y.astype(np.int64)


def cmd_pack(args: argparse.Namespace, log: Log) -> dict:
    from mislabel.files.dataset import NoisyDataset, save_dataset

    if (args.x_test is None) != (args.y_test is None):
        raise CliError("give both --x-test and --y-test, or neither")
    inputs = [args.x_train, args.y_train, args.x_test, args.y_test, args.y_clean]
    check_outputs(args.out, inputs=inputs)
    x_train = as_pixels(load_npy(args.x_train, "x_train file"), "x_train")
    n, d = x_train.shape
    y_train = as_labels(load_npy(args.y_train, "y_train file"), "y_train", n)
    y_clean = y_train
    if args.y_clean is not None:
        y_clean = as_labels(load_npy(args.y_clean, "y_clean file"), "y_clean", n)
    if args.x_test is not None:
        x_test = as_pixels(load_npy(args.x_test, "x_test file"), "x_test")
        if x_test.shape[1] != d:
            raise CliError(f"x_test has {x_test.shape[1]} features per sample, x_train {d}")
        y_test = as_labels(load_npy(args.y_test, "y_test file"), "y_test", x_test.shape[0])
    else:
        x_test, y_test = np.zeros((0, d), np.uint8), np.zeros(0, np.int64)
    labelled = {"y_train": y_train, "y_clean": y_clean, "y_test": y_test}
    if args.classes is not None:
        if len(set(args.classes)) != len(args.classes):
            raise CliError(f"--classes has duplicates: {args.classes}")
        n_classes = len(args.classes)
    else:
        n_classes = int(max(y.max() for y in labelled.values() if y.size)) + 1
    if n_classes < 2:
        raise CliError(f"need at least 2 classes, got {n_classes} (declare them with --classes)")
    for name, y in labelled.items():
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise CliError(
                f"{name} has labels {y.min()}..{y.max()}, outside 0..{n_classes - 1}; labels "
                "must be class indices (--classes lists the original class ids)"
            )
    classes = np.asarray(args.classes if args.classes is not None else range(n_classes))
    ds = NoisyDataset(
        x_train=x_train,
        y_train=y_train.astype(np.int32),
        y_clean=y_clean.astype(np.int32),
        flipped=y_train != y_clean,
        x_test=x_test,
        y_test=y_test.astype(np.int32),
        classes=classes.astype(np.int32),
        dataset=args.name,
        ratio=float(args.ratio),
        seed=int(args.seed),
        noise_mode="known" if args.y_clean is not None else "unknown",
    )
    save_dataset(args.out, ds)
    result = {
        "path": str(args.out),
        "n_train": n,
        "n_test": int(y_test.size),
        "n_features": d,
        "n_classes": n_classes,
        "n_flipped": int(ds.flipped.sum()),
    }
    log(
        f"wrote {args.out}: {n} training samples of {d} features, {n_classes} classes, "
        f"{result['n_test']} test samples, {result['n_flipped']} known label errors"
    )
    return result


def cmd_train(args: argparse.Namespace, log: Log) -> dict:
    from mislabel.stages import train_model

    check_inputs(dataset_file=args.dataset)
    check_outputs(args.out, args.history, inputs=[args.dataset])
    result = train_model(
        args.dataset,
        args.out,
        args.history,
        hidden=args.hidden,
        lr=args.lr,
        momentum=args.momentum,
        batch_size=args.batch_size,
        epochs=args.epochs,
        seed=args.seed,
        log=log,
    )
    log(f"wrote {args.out} and {args.history} ({result['seconds']:.2f} s)")
    return {"model": str(args.out), "history": str(args.history), **result}


def run_score(
    args: argparse.Namespace, scores: Path, metrics: Path, log: Log, budget: str | None
) -> dict:
    from mislabel.stages import score_samples

    return score_samples(
        args.dataset,
        args.model,
        scores,
        metrics,
        detector=args.detector,
        budget=budget,
        ratio=args.ratio,
        history_path=args.history,
        curvature=curvature_settings(args),
        detection=DetectionSettings(args.aum_percentile, args.cv_folds),
        with_metrics=True,
        log=log,
    )


def check_history(args: argparse.Namespace) -> None:
    """aum reads the training margins from the history file `train` wrote."""
    if args.detector == "aum" and args.history is None:
        raise CliError("--detector aum needs --history (the file written by `mislabel train`)")


def cmd_score(args: argparse.Namespace, log: Log) -> dict:
    check_history(args)
    check_inputs(dataset_file=args.dataset, model_file=args.model, history=args.history)
    check_outputs(args.out, args.metrics, inputs=[args.dataset, args.model])
    row = run_score(args, args.out, args.metrics, log, None if args.ratio is None else "nominal")
    if row["m"] == 0:
        log("note: the noise ratio gives m = 0, so nothing was flagged; pass --ratio")
    log(f"wrote {args.out} and {args.metrics}")
    return row


def curvature_settings(args: argparse.Namespace) -> CurvatureSettings:
    """The curvature flags as settings (checked)."""
    settings = CurvatureSettings(
        args.damping, args.rtol, args.full_damping, args.lanczos_rank, args.cg_tol, args.cg_maxiter
    )
    settings.check()
    return settings


def run_unlearn(
    args: argparse.Namespace,
    target: str,
    scores: Path | None,
    out: Path,
    info: Path,
    log: Log,
    budget: Path | None = None,
) -> dict:
    from mislabel.stages import unlearn_run

    return unlearn_run(
        args.dataset,
        args.model,
        {target: out},
        {target: info},
        None,
        method=args.method,
        scores_path=scores,
        budget_path=budget,
        curvature=curvature_settings(args),
        training=train_settings(args),
        unlearning=UnlearningSettings(
            args.finetune_epochs, args.neggrad_alpha, args.neggrad_epochs, args.relabel_epochs
        ),
        seed=args.seed,
        log=log,
    )[0]


def cmd_unlearn(args: argparse.Namespace, log: Log) -> dict:
    from mislabel.files.dataset import load_dataset_file

    if args.target != "mislabeled" and args.scores is None:
        raise CliError(
            f"--target {args.target} needs --scores (the file written by `mislabel score`)"
        )
    if args.target == "mislabeled" and args.scores is not None:
        raise CliError("--scores is only used with --target detected or detected_estimated")
    if args.budget is not None and args.target != "detected_estimated":
        raise CliError("--budget is only used with --target detected_estimated")
    budget = args.budget or (args.scores if args.target == "detected_estimated" else None)
    check_inputs(
        dataset_file=args.dataset, model_file=args.model, score_file=args.scores, budget=budget
    )
    check_outputs(args.out, args.info, inputs=[args.dataset, args.scores, budget])
    ds = load_dataset_file(args.dataset)
    if args.scores is not None:
        read_flags(args.scores, ds.y_train.size)
    elif not ds.flipped.any():
        log("note: the dataset records no mislabeled samples; the forget set is empty")
    info = run_unlearn(args, args.target, args.scores, args.out, args.info, log, budget)
    log(f"wrote {args.out} and {args.info}")
    return info


def cmd_evaluate(args: argparse.Namespace, log: Log) -> list[dict]:
    from mislabel.files.dataset import load_dataset_file
    from mislabel.stages import evaluate_models

    unlearned = [tuple(pair) for pair in args.unlearned]
    check_inputs(dataset_file=args.dataset, pretrained_model_file=args.pretrained)
    for model, info in unlearned:
        check_inputs(unlearned_model_file=model, info_file=info)
    check_outputs(args.out, inputs=[args.dataset, args.pretrained])
    seen: dict[tuple[str, str], str] = {("pretrained", "none"): str(args.pretrained)}
    for model, info_path in unlearned:
        info = read_info(info_path)
        key = (info["method"], info["target"])
        if key in seen:
            raise CliError(
                f"{model} and {seen[key]} are both method={key[0]!r}, target={key[1]!r}; "
                "evaluate them in separate runs"
            )
        seen[key] = model
    if load_dataset_file(args.dataset).y_test.size == 0:
        raise CliError(f"dataset {args.dataset} has no test split; nothing to evaluate on")
    rows = evaluate_models(args.dataset, args.pretrained, unlearned, args.out, log=log)
    log(f"wrote {args.out}")
    return rows


def cmd_repair(args: argparse.Namespace, log: Log) -> dict:
    from mislabel.files.dataset import load_dataset_file
    from mislabel.stages import evaluate_models

    if args.ratio is None and args.detector not in ESTIMATING_DETECTORS:
        raise CliError(
            f"without --ratio the detector must estimate the number of mislabeled samples "
            f"itself: pass --detector {' or '.join(ESTIMATING_DETECTORS)}, or give --ratio"
        )
    check_history(args)
    check_inputs(dataset_file=args.dataset, model_file=args.model)
    check_outputs(args.out, args.scores_out, args.info_out, inputs=[args.dataset, args.model])
    ds = load_dataset_file(args.dataset)
    if not ds.flipped.any():
        log(
            "note: the dataset records no known label errors, so the detection metrics "
            "(ROC AUC, precision) logged below are not meaningful"
        )
    with tempfile.TemporaryDirectory(prefix="mislabel-repair-") as tmp:
        scores = Path(args.scores_out or Path(tmp) / "scores.npz")
        info_path = Path(args.info_out or Path(tmp) / "info.json")
        row = run_score(args, scores, Path(tmp) / "metrics.json", log, "nominal")
        estimated = args.ratio is None
        target = "detected_estimated" if estimated else "detected"
        info = run_unlearn(args, target, scores, Path(args.out), info_path, log, scores)
        flagged = read_flags(scores, ds.y_train.size, "flagged_estimated" if estimated else None)
        rows = []
        if ds.y_test.size:
            rows = evaluate_models(
                args.dataset, args.model, [(args.out, info_path)], Path(tmp) / "eval.csv", log
            )
    idx = np.flatnonzero(flagged)
    given = ds.classes[ds.y_train[idx]]
    result = {
        "n": int(flagged.size),
        "m": int(idx.size),
        "ratio": args.ratio if args.ratio is not None else row["estimated_ratio"],
        "ratio_estimated": args.ratio is None,
        "detector": args.detector,
        "method": args.method,
        "flagged_indices": idx.tolist(),
        "flagged_per_given_class": {str(c): int((given == c).sum()) for c in ds.classes.tolist()},
        "model": str(args.out),
        "seconds_unlearn": info["seconds"],
        "roc_auc": row["roc_auc"] if ds.flipped.any() else float("nan"),
    }
    if rows:
        result |= {
            "test_accuracy_before": rows[0]["test_accuracy"],
            "test_accuracy_after": rows[1]["test_accuracy"],
            "balanced_accuracy_before": rows[0]["balanced_accuracy"],
            "balanced_accuracy_after": rows[1]["balanced_accuracy"],
        }
    if not args.json:
        print(repair_summary(result, args.scores_out), flush=True)
    return result


def repair_summary(result: dict, scores_out: str | None, show: int = 20) -> str:
    """What `repair` flagged and what it did to the test accuracy, for people."""
    idx = result["flagged_indices"]
    listed = " ".join(map(str, idx[:show]))
    if len(idx) > show:
        where = f"; all in {scores_out}" if scores_out else "; --json or --scores-out lists all"
        listed += f" ... ({len(idx) - show} more{where})"
    per_class = ", ".join(f"{c}: {k}" for c, k in result["flagged_per_given_class"].items())
    lines = [
        f"flagged {result['m']} of {result['n']} training samples as mislabeled "
        f"(top round(n*r) by {result['detector']} score, r={result['ratio']})",
        f"  indices: {listed or '(none)'}",
        f"  flagged per given label: {per_class}",
    ]
    if "test_accuracy_before" in result:
        lines.append(
            f"test accuracy: {result['test_accuracy_before']:.4f} before, "
            f"{result['test_accuracy_after']:.4f} after {result['method']} "
            f"(balanced: {result['balanced_accuracy_before']:.4f} -> "
            f"{result['balanced_accuracy_after']:.4f})"
        )
    else:
        lines.append("test accuracy: not measured (the dataset has no test split)")
    lines.append(f"wrote {result['model']}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- the parser


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows defaults (except None/False, which the help text explains) and keeps epilogs."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def _example(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


DESCRIPTION = _example(
    """
    Find the mislabeled samples in the training set of a trained model and unlearn them
    (Sugiura et al., 2024: detect by anomaly score, then forget). Every command reads and
    writes files, so each stage runs on its own, without Snakemake.
    """
)

EPILOG = _example(
    """
    example: the paper's pipeline (MNIST 0 vs 1, 1000 per class, 10% symmetric noise)
      mislabel fetch --dataset mnist --out-dir data
      mislabel noise --raw data/mnist.npz --classes 0 1 --ratio 0.1 --out run/noisy.npz
      mislabel train --dataset run/noisy.npz --out run/model.msgpack \\
          --history run/history.npz
      mislabel score --dataset run/noisy.npz --model run/model.msgpack --detector loss \\
          --out run/scores.npz --metrics run/detection.json
      mislabel unlearn --dataset run/noisy.npz --model run/model.msgpack --method ssse \\
          --target detected --scores run/scores.npz --out run/ssse.msgpack \\
          --info run/ssse.json
      mislabel evaluate --dataset run/noisy.npz --pretrained run/model.msgpack \\
          --unlearned run/ssse.msgpack run/ssse.json --out run/evaluation.csv

    example: repair your own model and training data
      mislabel pack --x-train x.npy --y-train y.npy --x-test xt.npy --y-test yt.npy \\
          --out mine.npz
      mislabel train --dataset mine.npz --out model.msgpack --history history.npz
      mislabel repair --dataset mine.npz --model model.msgpack --ratio 0.05 \\
          --out repaired.msgpack --scores-out flags.npz

    Run `mislabel COMMAND --help` for each command's options. Errors in the inputs exit
    with status 2 and a one-line message; --json prints each command's result on stdout.

    compiled programs: each command compiles its JAX programs once and keeps them in
    $XDG_CACHE_HOME/mislabel/jax (default ~/.cache/mislabel/jax), so later runs load
    them instead of compiling. Set JAX_COMPILATION_CACHE_DIR to use another folder, or to
    an empty value to switch the cache off; a folder that cannot be written is not used.
    """
)

SUBCOMMAND_EPILOGS = {
    "fetch": "example:\n  mislabel fetch --dataset mnist --out-dir data",
    "noise": "example:\n  mislabel noise --raw data/mnist.npz --classes 0 1 --ratio 0.1 "
    "--noise-mode exact --out run/noisy.npz",
    "pack": _example(
        """
        example:
          mislabel pack --x-train x.npy --y-train y.npy --x-test xt.npy --y-test yt.npy \\
              --classes 3 8 --out mine.npz
        x files: (n, D) or (n, H, W) arrays of uint8 pixels, or floats in [0, 1] (stored as
        round(255 x)); y files: (n,) integer class indices 0..C-1.
        """
    ),
    "train": "example:\n  mislabel train --dataset run/noisy.npz --hidden 50 50 --epochs 20 "
    "--out run/model.msgpack --history run/history.npz",
    "score": "example:\n  mislabel score --dataset run/noisy.npz --model run/model.msgpack "
    "--detector if_self --out run/scores.npz --metrics run/detection.json",
    "unlearn": _example(
        """
        examples:
          mislabel unlearn --dataset run/noisy.npz --model run/model.msgpack --method ssse \\
              --target detected --scores run/scores.npz --out run/ssse.msgpack \\
              --info run/ssse.json
          mislabel unlearn --dataset run/noisy.npz --model run/model.msgpack \\
              --method retrain --target mislabeled --out run/retrain.msgpack \\
              --info run/retrain.json
        """
    ),
    "evaluate": "example:\n  mislabel evaluate --dataset run/noisy.npz --pretrained "
    "run/model.msgpack \\\n      --unlearned run/ssse.msgpack run/ssse.json --out run/eval.csv",
    "repair": _example(
        """
        example:
          mislabel repair --dataset mine.npz --model model.msgpack --ratio 0.05 \\
              --out repaired.msgpack --scores-out flags.npz

        The model must be a file written by `mislabel train` for this dataset.
        """
    ),
}


def _add_curvature(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "curvature (influence detectors and updates; the _full names use every parameter)"
    )
    g.add_argument(
        "--damping",
        type=nonneg_float,
        default=0.0,
        help="last layer: 0 = pseudo-inverse of the Hessian (as the authors); > 0: solve "
        "(H + damping I)",
    )
    g.add_argument(
        "--rtol",
        type=positive_float,
        default=1e-10,
        help="pseudo-inverse cut-off: eigenvalues below rtol * largest count as zero",
    )
    defaults = CurvatureSettings()
    g.add_argument(
        "--full-damping",
        type=positive_float,
        default=defaults.full_damping,
        help="full network: solve (H + full_damping I)",
    )
    g.add_argument(
        "--lanczos-rank",
        type=positive_int,
        default=defaults.lanczos_rank,
        help="full-network influence scores: top-k eigenpairs of H",
    )
    g.add_argument(
        "--cg-tol",
        type=positive_float,
        default=defaults.cg_tol,
        help="full-network updates: conjugate gradients stop at ||r|| <= cg_tol ||b||",
    )
    g.add_argument(
        "--cg-maxiter",
        type=positive_int,
        default=defaults.cg_maxiter,
        help="full-network updates: at most this many conjugate-gradient iterations",
    )


def _add_detector(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--detector",
        choices=DETECTORS,
        default="loss",
        help="anomaly score: loss = cross-entropy of the given label; if_self, if_train, "
        "if_train_minus_z = influence with z_test = z, D, D minus z (suffix _full: Hessian "
        "over all parameters); aum = area under the margin (needs --history); cleanlab = "
        "confident learning on cross-validated probabilities. aum and cleanlab also "
        "estimate how many samples are mislabeled",
    )
    defaults = DetectionSettings()
    p.add_argument("--history", help="training history from train (needed by --detector aum)")
    p.add_argument(
        "--aum-percentile",
        type=positive_float,
        default=defaults.aum_percentile,
        help="aum: cut-off at this percentile of the threshold samples' AUM",
    )
    p.add_argument(
        "--cv-folds",
        type=positive_int,
        default=defaults.cv_folds,
        help="cleanlab: cross-validation folds for out-of-sample probabilities",
    )


def _add_unlearn_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "training (finetune and retrain; default: the model file's settings, else the paper's)"
    )
    g.add_argument("--lr", type=positive_float, help=f"SGD learning rate (paper: {PAPER.lr})")
    g.add_argument(
        "--momentum",
        type=momentum_value,
        help=f"SGD momentum (paper: {PAPER.momentum}); 0 only for models trained without it",
    )
    g.add_argument(
        "--batch-size", type=positive_int, help=f"mini-batch size (paper: {PAPER.batch_size})"
    )
    g.add_argument(
        "--epochs", type=positive_int, help=f"epochs of retraining (paper: {PAPER.epochs})"
    )
    defaults = UnlearningSettings()
    g.add_argument(
        "--finetune-epochs",
        type=positive_int,
        default=defaults.finetune_epochs,
        help="epochs of fine-tuning on the remaining samples (the authors' code: 20)",
    )
    g.add_argument(
        "--neggrad-alpha",
        type=float,
        default=defaults.neggrad_alpha,
        help="neggrad_plus: minimise alpha L(retain) - (1 - alpha) L(forget)",
    )
    g.add_argument(
        "--neggrad-epochs",
        type=positive_int,
        default=defaults.neggrad_epochs,
        help="neggrad_plus: epochs over the retained samples",
    )
    g.add_argument(
        "--relabel-epochs",
        type=positive_int,
        default=defaults.relabel_epochs,
        help="relabel: fine-tuning epochs after correcting the flagged labels",
    )
    g.add_argument(
        "--seed",
        type=nonneg_int,
        help="seed of retraining / fine-tuning batch order (default: the model's own seed, "
        "so retraining starts from the same initial weights)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The `mislabel` argument parser with one subparser per stage."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--json", action="store_true", help="print the command's result as JSON on stdout"
    )
    common.add_argument("-q", "--quiet", action="store_true", help="no progress messages on stderr")

    parser = argparse.ArgumentParser(
        prog="mislabel",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, summary: str, handler: Callable) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            epilog=SUBCOMMAND_EPILOGS[name],
            formatter_class=HelpFormatter,
            parents=[common],
        )
        p.set_defaults(handler=handler)
        return p

    p = command("fetch", "download or copy a dataset, verified by SHA-256", cmd_fetch)
    p.add_argument("--dataset", choices=DATASETS, default="mnist", help="which dataset")
    p.add_argument(
        "--out-dir", required=True, help="folder to write DATASET.npz into (also its cache)"
    )
    p.add_argument(
        "--source-dir",
        help="folder holding the four IDX files (raw or .gz) to use before any download "
        "(default: $MNIST_DIR / $FASHION_MNIST_DIR)",
    )

    p = command("noise", "select classes and inject label noise into a fetched dataset", cmd_noise)
    p.add_argument("--raw", required=True, help="fetched dataset file (DATASET.npz)")
    p.add_argument(
        "--dataset", choices=DATASETS, help="dataset of --raw (default: from its file name)"
    )
    p.add_argument(
        "--classes",
        type=nonneg_int,
        nargs="+",
        default=[0, 1],
        help="original class ids to keep; class k of this list becomes label k",
    )
    p.add_argument(
        "--train-per-class", type=positive_int, default=1000, help="training images per class"
    )
    p.add_argument(
        "--subset",
        choices=SUBSET_MODES,
        default="first",
        help="first: the first images of each class (as the authors); random: drawn by --seed",
    )
    p.add_argument(
        "--noise-mode",
        choices=NOISE_MODES,
        default="symmetric",
        help="symmetric: each label flipped with probability r; exact: round(r n_c) per class",
    )
    p.add_argument(
        "--noise-positions",
        choices=NOISE_POSITIONS,
        default="random",
        help="with --noise-mode exact: random positions, or the first ones of each class "
        "(as the authors' code)",
    )
    p.add_argument(
        "--test-per-class",
        type=positive_int,
        default=None,
        help="keep at most the first this many test images of each class (default: all)",
    )
    p.add_argument("--ratio", type=noise_ratio, required=True, help="noise ratio r in [0, 1)")
    p.add_argument("--seed", type=nonneg_int, default=0, help="seed of the noise (and subset)")
    p.add_argument("--out", required=True, help="noisy dataset file to write (.npz)")

    p = command("pack", "build a dataset file from your own .npy arrays", cmd_pack)
    p.add_argument("--x-train", required=True, help="training images .npy, (n, D) or (n, H, W)")
    p.add_argument("--y-train", required=True, help="training labels .npy (n,), 0..C-1")
    p.add_argument("--x-test", help="test images .npy (optional; needed for test accuracy)")
    p.add_argument("--y-test", help="test labels .npy (with --x-test)")
    p.add_argument(
        "--y-clean",
        help="true training labels .npy, if known (default: unknown, taken as y_train)",
    )
    p.add_argument(
        "--classes",
        type=nonneg_int,
        nargs="+",
        help="original class id of each label 0..C-1 (default: 0..max label)",
    )
    p.add_argument(
        "--ratio",
        type=noise_ratio,
        default=0.0,
        help="noise ratio to record (later the default --ratio of score)",
    )
    p.add_argument("--name", default="custom", help="dataset name to record")
    p.add_argument("--seed", type=nonneg_int, default=0, help="seed to record")
    p.add_argument("--out", required=True, help="dataset file to write (.npz)")

    p = command("train", "train the MLP on a dataset file (SGD with momentum)", cmd_train)
    p.add_argument("--dataset", required=True, help="dataset file from noise or pack")
    p.add_argument(
        "--hidden",
        type=positive_int,
        nargs="*",
        default=list(PAPER_HIDDEN),
        help="hidden layer widths (the paper's text: 50 50; the authors' code: 50; none: a "
        "linear model)",
    )
    p.add_argument("--lr", type=positive_float, default=PAPER.lr, help="SGD learning rate")
    p.add_argument("--momentum", type=momentum_value, default=PAPER.momentum, help="momentum")
    p.add_argument(
        "--batch-size", type=positive_int, default=PAPER.batch_size, help="mini-batch size"
    )
    p.add_argument("--epochs", type=positive_int, default=PAPER.epochs, help="epochs")
    p.add_argument(
        "--seed", type=nonneg_int, default=0, help="seed of the initial weights and batch order"
    )
    p.add_argument("--out", required=True, help="model file to write (.msgpack)")
    p.add_argument("--history", required=True, help="per-epoch history to write (.npz)")

    p = command("score", "score every training sample and flag the top m", cmd_score)
    p.add_argument("--dataset", required=True, help="dataset file the model was trained on")
    p.add_argument("--model", required=True, help="model file from train")
    _add_detector(p)
    p.add_argument(
        "--ratio",
        type=noise_ratio,
        help="flag the top m = round(n r) for this assumed noise ratio r (default: m = the "
        "true number of flipped labels when the dataset file knows them, as the paper "
        "assumes, else round(n r) with the ratio recorded in the dataset file)",
    )
    _add_curvature(p)
    p.add_argument("--out", required=True, help="scores and flags to write (.npz)")
    p.add_argument("--metrics", required=True, help="detection metrics to write (.json)")

    p = command("unlearn", "forget a set of training samples from a trained model", cmd_unlearn)
    p.add_argument("--dataset", required=True, help="dataset file the model was trained on")
    p.add_argument("--model", required=True, help="model file from train")
    p.add_argument(
        "--method",
        choices=METHODS,
        required=True,
        help="influence: Koh & Liang step; ssse: Newton step on the rest; finetune: keep "
        "training on the rest; retrain: train afresh on the rest",
    )
    p.add_argument(
        "--target",
        choices=TARGETS,
        required=True,
        help="forget the truly mislabeled samples (known for noise datasets), the ones "
        "flagged in --scores (detected), or the top m-hat of --scores with m-hat estimated "
        "by an aum/cleanlab score file (detected_estimated)",
    )
    p.add_argument("--scores", help="score file from score (needed for the detected targets)")
    p.add_argument(
        "--budget",
        help="detected_estimated: score file of aum or cleanlab whose estimate m-hat sets "
        "the budget (default: --scores itself)",
    )
    _add_curvature(p)
    _add_unlearn_options(p)
    p.add_argument("--out", required=True, help="unlearned model file to write (.msgpack)")
    p.add_argument("--info", required=True, help="unlearning info to write (.json)")

    p = command("evaluate", "test accuracy of the pre-trained and unlearned models", cmd_evaluate)
    p.add_argument("--dataset", required=True, help="dataset file with a test split")
    p.add_argument("--pretrained", required=True, help="model file from train")
    p.add_argument(
        "--unlearned",
        nargs=2,
        metavar=("MODEL", "INFO"),
        action="append",
        default=[],
        help="an unlearned model and its info file from unlearn (repeatable)",
    )
    p.add_argument("--out", required=True, help="CSV to write, one row per model")

    p = command(
        "repair", "flag the likely mislabeled samples and unlearn them, in one step", cmd_repair
    )
    p.add_argument("--dataset", required=True, help="dataset file the model was trained on")
    p.add_argument("--model", required=True, help="model file to repair (from train)")
    p.add_argument(
        "--ratio",
        type=positive_ratio,
        help="estimated noise ratio r in (0, 1), e.g. from auditing a sample of labels; "
        "leave it out with --detector aum or cleanlab, which estimate it",
    )
    _add_detector(p)
    p.add_argument(
        "--method", choices=METHODS, default="ssse", help="how to forget the flagged samples"
    )
    _add_curvature(p)
    _add_unlearn_options(p)
    p.add_argument("--out", required=True, help="repaired model file to write (.msgpack)")
    p.add_argument("--scores-out", help="also write the scores and flags (.npz)")
    p.add_argument("--info-out", help="also write the unlearning info (.json)")
    return parser


# --------------------------------------------------------------------------- running


def jsonable(value: Any) -> Any:
    """`value` with numpy scalars as Python numbers and NaN/Inf as None (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def error_message(err: BaseException) -> str:
    """The user-facing text of an expected error."""
    if isinstance(err, OSError) and err.filename is not None and err.strerror:
        return f"{err.strerror}: {err.filename}"
    return str(err) or type(err).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `mislabel` command line; return the exit status (0 ok, 2 bad input).

    `argv` None means this process's own command line (the `mislabel` program, `python -m
    mislabel`): the process then ends right here, see `mislabel.joblog.exit_now`.
    """
    code = run(argv)
    if argv is None:
        from mislabel.joblog import exit_now, fast_exit_allowed

        if fast_exit_allowed():
            exit_now(code)
    return code


def run(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` (default: sys.argv[1:]) and run the command; return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a usage error already printed
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 2)
    prog = f"mislabel {args.command}"
    if "jax" not in sys.modules:  # the cache is configured before JAX is imported
        from mislabel.joblog import use_jax_cache

        use_jax_cache()

    def log(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    package_logger = logging.getLogger("mislabel")
    level = package_logger.level
    if not args.quiet:
        package_logger.addHandler(handler)
        package_logger.setLevel(logging.INFO)
    try:
        result = args.handler(args, log)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr, flush=True)
        return 130
    except Exception as err:
        if not isinstance(err, expected_errors()):
            raise
        print(f"{prog}: error: {error_message(err)}", file=sys.stderr, flush=True)
        return EXIT_ERROR
    finally:
        package_logger.removeHandler(handler)
        package_logger.setLevel(level)
    if args.json:
        print(json.dumps(jsonable(result), sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
