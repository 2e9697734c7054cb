"""File-level pipeline stages: each reads its input files, calls the library, writes outputs
atomically. The CLI (`mislabel ...`) and the Snakemake scripts both call these functions.

File formats (the contract between stages):
- raw dataset `.npz` (fetch): train_images (N,28,28) uint8, train_labels (N,) uint8,
  test_images (M,28,28) uint8, test_labels (M,) uint8, name (str).
- noisy dataset `.npz` (noise): x_train (n,784) uint8, y_train (n,) int32 noisy labels in
  0..C-1, y_clean (n,) int32, flipped (n,) bool, x_test (t,784) uint8, y_test (t,) int32,
  classes (C,) int32 original class ids, ratio, seed, noise_mode, dataset (scalars).
- model `.msgpack` (train/unlearn): flax.serialization of {"params", "momentum", "meta"}.
- scores `.npz` (score): scores (n,) float64, flagged (n,) bool, flipped (n,) bool,
  detector, ratio, m.
- score info `.json`: {dataset, ratio, seed, detector, n, m, seconds, hessian_*} plus, unless
  the workflow defers them to `aggregate_detection`, {roc_auc, accuracy, precision, recall, f1}.
- unlearn info `.json`: {method, target, n, m_forget, seconds, ...}.
- evaluation `.csv`: one row per model (pretrained + each unlearned).
"""

from __future__ import annotations

import json
import os
import time
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from mislabel.io import save_npz, write_json, write_text

PathLike = str | os.PathLike


def fetch_dataset(
    out_dir: PathLike, *, dataset: str = "mnist", source_dir: PathLike | None = None
) -> Path:
    """Load a dataset through its verified source chain into `out_dir/{dataset}.npz`.

    That file is the source chain's verified cache: a second call only re-verifies it.
    """
    from mislabel.data import load_dataset

    raw = load_dataset(dataset, out_dir, source_dir=source_dir)
    path = Path(out_dir) / f"{dataset}.npz"
    if not path.is_file():  # loaded from an existing cache elsewhere: keep a copy here
        save_npz(
            path,
            train_images=raw.train_images,
            train_labels=raw.train_labels,
            test_images=raw.test_images,
            test_labels=raw.test_labels,
        )
    return path


def read_raw(path: PathLike, dataset: str):
    """Read a fetched dataset file (`fetch_dataset`'s output) and re-verify its SHA-256."""
    from mislabel.data import CANONICAL_SHA256, RawDataset, read_cache, verify_arrays

    if dataset not in CANONICAL_SHA256:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {sorted(CANONICAL_SHA256)}")
    try:
        arrays = read_cache(Path(path))
    except FileNotFoundError as err:
        raise FileNotFoundError(f"{path} does not exist; run `mislabel fetch` first") from err
    verify_arrays(arrays, CANONICAL_SHA256[dataset])
    return RawDataset(**arrays, name=dataset)


def make_noisy_dataset(
    raw_path: PathLike,
    out_path: PathLike,
    *,
    dataset: str = "mnist",
    classes: Sequence[int],
    train_per_class: int,
    subset: str,
    noise_mode: str,
    ratio: float,
    seed: int,
) -> dict:
    """Select the class subset, inject label noise, write the noisy dataset file."""
    from mislabel.data import select_subset
    from mislabel.dataset_file import NoisyDataset, save_dataset
    from mislabel.noise import inject_noise

    raw = read_raw(raw_path, dataset)
    sub = select_subset(raw, classes, train_per_class, subset, seed)
    noisy, flipped = inject_noise(sub.y_train, sub.classes.size, ratio, noise_mode, seed)
    ds = NoisyDataset(
        sub.x_train,
        noisy,
        sub.y_train.astype(np.int32),
        flipped,
        sub.x_test,
        sub.y_test.astype(np.int32),
        sub.classes.astype(np.int32),
        raw.name,
        float(ratio),
        int(seed),
        noise_mode,
    )
    save_dataset(out_path, ds)
    return {
        "n_train": int(noisy.size),
        "n_flipped": int(flipped.sum()),
        "n_test": int(sub.y_test.size),
    }


def _train_config(lr: float, momentum: float, batch_size: int, epochs: int):
    from mislabel.settings import from_mapping
    from mislabel.train import TrainConfig

    values = {"lr": lr, "momentum": momentum, "batch_size": batch_size, "epochs": epochs}
    return from_mapping(TrainConfig, values)


def train_model(
    dataset_path: PathLike,
    model_path: PathLike,
    history_path: PathLike,
    *,
    hidden: Sequence[int],
    lr: float,
    momentum: float,
    batch_size: int,
    epochs: int,
    seed: int,
    log=print,
) -> dict:
    """Train the MLP on the noisy training set; write the model and the per-epoch history."""
    import jax

    from mislabel.checkpoint import save_model
    from mislabel.data import to_float
    from mislabel.dataset_file import load_dataset_file
    from mislabel.model import make_model
    from mislabel.train import train

    ds = load_dataset_file(dataset_path)
    config = _train_config(lr, momentum, batch_size, epochs)
    model = make_model(hidden, ds.n_classes)
    start = time.perf_counter()
    state, hist = train(model, to_float(ds.x_train), ds.y_train, int(seed), config)
    state, hist = jax.block_until_ready((state, hist))
    seconds = time.perf_counter() - start
    for e in range(config.epochs):
        log(
            f"epoch {e + 1:3d}/{config.epochs}: train loss {float(hist.loss_E[e]):.4f}, "
            f"train accuracy (noisy labels) {float(hist.accuracy_E[e]):.4f}"
        )
    if not np.all(np.isfinite(np.asarray(hist.loss_E))):
        from mislabel.curvature import NumericalError

        raise NumericalError(
            f"training diverged: loss per epoch {np.asarray(hist.loss_E)}; lower lr"
        )
    save_model(
        model_path,
        model,
        state,
        ds.x_train.shape[1],
        extra={
            "seed": int(seed),
            "lr": config.lr,
            "momentum": config.momentum,
            "batch_size": config.batch_size,
            "epochs": config.epochs,
        },
    )
    save_npz(
        history_path,
        loss_E=np.asarray(hist.loss_E),
        accuracy_E=np.asarray(hist.accuracy_E),
        sample_loss_ExN=np.asarray(hist.sample_loss_ExN),
        margin_ExN=np.asarray(hist.margin_ExN),
        flipped=ds.flipped,
    )
    return {"seconds": seconds, "final_loss": float(hist.loss_E[-1])}


def _load(dataset_path: PathLike, model_path: PathLike):
    """The dataset and a model checked against it (optimiser state as the model was trained)."""
    from mislabel.checkpoint import load_model
    from mislabel.dataset_file import load_dataset_file

    ds = load_dataset_file(dataset_path)
    loaded = load_model(
        model_path,
        expect_features=ds.x_train.shape[1],
        expect_classes=ds.n_classes,
    )
    return ds, loaded


def score_samples(
    dataset_path: PathLike,
    model_path: PathLike,
    scores_path: PathLike,
    metrics_path: PathLike,
    *,
    detector: str,
    ratio: float | None = None,
    history_path: PathLike | None = None,
    curvature: Mapping | None = None,
    detection: Mapping | None = None,
    with_metrics: bool = True,
    log=print,
) -> dict:
    """Score every training sample with `detector`, flag the top m = round(n r), evaluate.

    `ratio` is the assumed noise ratio r (default: the dataset's own ratio). Detectors that
    estimate the number of mislabeled samples themselves (aum, cleanlab) also write
    `m_estimated` and `flagged_estimated`. `history_path` (the training history) is needed
    by aum. With `with_metrics=False` the JSON row holds only the run's facts and the
    detection metrics are left to `aggregate_detection` (the workflow does this, so the
    many score jobs need not import scikit-learn).
    """
    from mislabel.data import to_float
    from mislabel.detect import budget, check_detector, flag_top, score_detector
    from mislabel.settings import CurvatureSettings, DetectionSettings, from_mapping

    check_detector(detector)
    curvature = from_mapping(CurvatureSettings, curvature)
    detection = from_mapping(DetectionSettings, detection)
    ds, loaded = _load(dataset_path, model_path)
    margin_ExN = _read_margins(history_path, ds.y_train.size) if detector == "aum" else None
    ratio = ds.ratio if ratio is None else float(ratio)
    start = time.perf_counter()
    result = score_detector(
        detector,
        loaded.model,
        loaded.state.params,
        to_float(ds.x_train),
        ds.y_train,
        seed=int(loaded.meta.get("seed", ds.seed)),
        train_config=_stored_train_config(loaded.meta),
        margin_ExN=margin_ExN,
        curvature=curvature,
        detection=detection,
    )
    seconds = time.perf_counter() - start
    if result.info:
        where = (
            f"curvature ({result.info['curvature']})" if result.info.get("curvature") else detector
        )
        log(f"{where}: {json.dumps(result.info)}")
    score = result.scores_N
    m = budget(score.size, ratio)
    flagged = flag_top(score, m)
    estimated = {}
    row = {
        "dataset": ds.dataset,
        "ratio": ds.ratio,
        "seed": ds.seed,
        "detector": detector,
        "assumed_ratio": ratio,
        "n": int(score.size),
        "m": int(m),
        "flipped_ratio": float(np.mean(ds.flipped)),
        "m_estimated": float("nan"),
        "estimated_ratio": float("nan"),
        "seconds": seconds,
        **result.info,
    }
    if result.m_estimated is not None:
        m_hat = int(result.m_estimated)
        estimated = {
            "m_estimated": np.asarray(m_hat),
            "flagged_estimated": flag_top(score, min(m_hat, score.size)),
        }
        row.update(m_estimated=m_hat, estimated_ratio=m_hat / score.size)
        log(f"{detector}: estimates {m_hat} mislabeled samples (ratio {m_hat / score.size:.4f})")
    save_npz(
        scores_path,
        scores=score.astype(np.float64),
        flagged=flagged,
        flipped=ds.flipped,
        detector=np.asarray(detector),
        ratio=np.asarray(ratio),
        m=np.asarray(m),
        **estimated,
    )
    if with_metrics:
        from mislabel.metrics import detection_metrics

        row.update(detection_metrics(ds.flipped, score, flagged))
        log(f"{detector}: ROC AUC {row['roc_auc']:.4f}, precision {row['precision']:.4f}")
    write_json(metrics_path, row)
    log(
        f"{detector}: flagged m={m} of n={score.size} ({int(ds.flipped.sum())} truly "
        f"mislabeled, {int((flagged & ds.flipped).sum())} of them flagged)"
    )
    return row


def _stored_train_config(meta: Mapping):
    """The SGD settings a model was trained with (from its metadata; paper defaults else)."""
    from mislabel.settings import from_mapping
    from mislabel.train import TrainConfig

    return from_mapping(TrainConfig, {k: meta[k] for k in TrainConfig._fields if k in meta})


def _read_margins(history_path: PathLike | None, n: int) -> np.ndarray:
    """Per-epoch training margins (E, n) from a training history file (for AUM)."""
    if history_path is None:
        raise ValueError("detector 'aum' needs the training history (train_history.npz)")
    try:
        with np.load(history_path, allow_pickle=False) as npz:
            margin_ExN = np.asarray(npz["margin_ExN"], np.float64)
    except FileNotFoundError as err:
        raise FileNotFoundError(f"training history {history_path} does not exist") from err
    except (KeyError, OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(
            f"training history {history_path} is corrupt or has no margins ({err}); "
            "retrain with `mislabel train`"
        ) from err
    if margin_ExN.ndim != 2 or margin_ExN.shape[1] != n:
        raise ValueError(
            f"training history {history_path} has margins of shape {margin_ExN.shape}, the "
            f"dataset {n} samples: they come from different runs"
        )
    return margin_ExN


def read_score_file(path: PathLike | None, key: str, what: str) -> np.ndarray:
    """One array of a score file (`score_samples`' output), with errors that say what to do."""
    if path is None:
        raise ValueError(f"{what} needs a score file")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return np.asarray(npz[key])
    except FileNotFoundError as err:
        raise FileNotFoundError(f"score file {path} does not exist") from err
    except KeyError as err:
        raise ValueError(
            f"score file {path} has no {key!r} array; write it with `mislabel score`"
            + (
                " and a detector that estimates its budget (aum, cleanlab)"
                if key != "flagged"
                else ""
            )
        ) from err
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"score file {path} is corrupt or truncated ({err})") from err


def forget_mask(
    target: str, ds, scores_path: PathLike | None, budget_path: PathLike | None = None
) -> np.ndarray:
    """The forget set of `target`.

    - ``mislabeled``: the truly flipped samples;
    - ``detected``: the flags of the pipeline detector's score file (top round(n r));
    - ``detected_estimated``: the top m-hat of the same scores, m-hat read from the score
      file of a detector that estimates it (`budget_path`).
    """
    from mislabel.detect import flag_top
    from mislabel.names import TARGETS, check_name

    check_name(target, TARGETS, "target")
    if target == "mislabeled":
        return np.asarray(ds.flipped, bool)
    what = f"target {target!r}"
    key = "flagged" if target == "detected" else "scores"
    values = read_score_file(scores_path, key, what)
    if values.shape != ds.flipped.shape:
        raise ValueError(
            f"score file {scores_path} has {values.size} entries, the dataset "
            f"{ds.flipped.size} samples: they come from different runs"
        )
    if target == "detected":
        return values.astype(bool)
    m_hat = int(read_score_file(budget_path, "m_estimated", f"{what} (budget)"))
    return flag_top(values, min(max(m_hat, 0), values.size - 1))


def unlearn_model(
    dataset_path: PathLike,
    model_path: PathLike,
    out_model_path: PathLike,
    info_path: PathLike,
    *,
    method: str,
    target: str,
    scores_path: PathLike | None = None,
    budget_path: PathLike | None = None,
    curvature: Mapping | None = None,
    training: Mapping | None = None,
    unlearning: Mapping | None = None,
    seed: int | None = None,
    log=print,
) -> dict:
    """Forget the target set from the trained model with `method`; write model and info.

    `curvature`, `training` and `unlearning` are the settings of
    `mislabel.settings.CurvatureSettings`, `mislabel.train.TrainConfig` and
    `mislabel.settings.UnlearningSettings` (dicts or the tuples; missing keys: defaults).
    """
    from mislabel.checkpoint import save_model
    from mislabel.data import to_float
    from mislabel.settings import CurvatureSettings, UnlearningSettings, from_mapping
    from mislabel.train import TrainConfig
    from mislabel.unlearn import check_method, unlearn

    check_method(method)
    curvature = from_mapping(CurvatureSettings, curvature)
    unlearning = from_mapping(UnlearningSettings, unlearning)
    train_config = from_mapping(TrainConfig, training)
    ds, loaded = _load(dataset_path, model_path)
    seed = int(loaded.meta.get("seed", ds.seed) if seed is None else seed)
    forget = forget_mask(target, ds, scores_path, budget_path)
    result = unlearn(
        method,
        loaded.model,
        loaded.state,
        to_float(ds.x_train),
        ds.y_train,
        forget,
        seed=seed,
        train_config=train_config,
        curvature=curvature,
        unlearning=unlearning,
    )
    save_model(
        out_model_path,
        loaded.model,
        result.state,
        ds.x_train.shape[1],
        extra={**loaded.meta, "seed": seed, "method": method, "target": target},
    )
    info = {
        "dataset": ds.dataset,
        "ratio": ds.ratio,
        "seed": ds.seed,
        "target": target,
        "seconds": result.seconds,
        "n_forget_mislabeled": int((forget & ds.flipped).sum()),
        **result.info,
    }
    write_json(info_path, info)
    if "rank" in result.info:
        log(
            f"curvature (last_layer, {result.info['method']}): rank {result.info['rank']} of "
            f"{result.info['n_params']}, condition number {result.info['condition_number']:.3g}"
        )
    if "cg_iterations" in result.info:
        log(
            f"curvature (full): conjugate gradients took {result.info['cg_iterations']} "
            f"iterations, relative residual {result.info['cg_relative_residual']:.2e}, "
            f"damping {result.info['damping_used']:g}"
            + (
                f" (doubled from {result.info['damping']:g}: H + damping I was indefinite)"
                if result.info["damping_used"] > result.info["damping"]
                else ""
            )
            + (
                ""
                if result.info["cg_converged"]
                else " (NOT converged: "
                + (
                    "negative curvature, raise full_damping above |lambda_min(H)|)"
                    if result.info["cg_negative_curvature"]
                    else "raise cg_maxiter)"
                )
            )
        )
    log(
        f"{method} on {target}: forgot {info['m_forget']} samples "
        f"({info['n_forget_mislabeled']} truly mislabeled) in {result.seconds:.3f} s"
    )
    return info


def evaluate_models(
    dataset_path: PathLike,
    pretrained_path: PathLike,
    unlearned: Sequence[tuple[PathLike, PathLike]],
    out_csv: PathLike,
    log=print,
) -> list[dict]:
    """Test accuracy of the pre-trained and each unlearned model; one CSV row per model.

    `unlearned` pairs (model file, info JSON). Where the model retrained on the true clean
    set (retrain / mislabeled) is among them, every row is also compared with it: test
    accuracy gap, test-prediction agreement and L2 distance of all parameters; and each
    row's wall time is divided by that of retraining on the same target.
    """
    import jax.numpy as jnp
    import pandas as pd

    from mislabel.checkpoint import load_model
    from mislabel.data import to_float
    from mislabel.metrics import accuracy, agreement, balanced_accuracy, param_distance
    from mislabel.model import predict

    ds, pre = _load(dataset_path, pretrained_path)
    x_test = jnp.asarray(to_float(ds.x_test))
    entries = [({"method": "pretrained", "target": "none", "seconds": 0.0}, pre)]
    for model_path, info_path in unlearned:
        info = json.loads(Path(info_path).read_text())
        loaded = load_model(
            model_path, expect_features=ds.x_train.shape[1], expect_classes=ds.n_classes
        )
        entries.append((info, loaded))
    preds = [np.asarray(predict(m.model, m.state.params, x_test)) for _, m in entries]
    by_key = {(i["method"], i["target"]): k for k, (i, _) in enumerate(entries)}
    ref = by_key.get(("retrain", "mislabeled"))
    ref_accuracy = accuracy(ds.y_test, preds[ref]) if ref is not None else float("nan")
    nan = float("nan")
    rows = []
    for (info, loaded), pred in zip(entries, preds, strict=True):
        retrain = by_key.get(("retrain", info["target"]))
        retrain_seconds = float(entries[retrain][0]["seconds"]) if retrain is not None else nan
        test_accuracy = accuracy(ds.y_test, pred)
        rows.append(
            {
                "dataset": ds.dataset,
                "ratio": ds.ratio,
                "seed": ds.seed,
                "method": info["method"],
                "target": info["target"],
                "test_accuracy": test_accuracy,
                "balanced_accuracy": balanced_accuracy(ds.y_test, pred),
                "agreement_with_retrain_clean": (
                    agreement(pred, preds[ref]) if ref is not None else nan
                ),
                "accuracy_gap_to_retrain_clean": test_accuracy - ref_accuracy,
                "param_l2_to_retrain_clean": (
                    param_distance(loaded.state.params, entries[ref][1].state.params)
                    if ref is not None
                    else nan
                ),
                "seconds": float(info["seconds"]),
                "seconds_first": float(info.get("seconds_first", info["seconds"])),
                "time_vs_retrain": (
                    float(info["seconds"]) / retrain_seconds
                    if info["method"] != "pretrained"
                    else nan
                ),
                "m_forget": int(info.get("m_forget", 0)),
                "n_forget_mislabeled": int(info.get("n_forget_mislabeled", 0)),
                "cg_iterations": info.get("cg_iterations", nan),
                "cg_relative_residual": info.get("cg_relative_residual", nan),
                "damping_used": info.get("damping_used", nan),
            }
        )
        log(
            f"{info['method']:>12s} / {info['target']:<18s} test accuracy "
            f"{rows[-1]['test_accuracy']:.4f}"
        )
    write_text(out_csv, pd.DataFrame(rows).to_csv(index=False, float_format="%.6g"))
    return rows


LOO_COLUMNS = (
    "dataset",
    "ratio",
    "seed",
    "scope",
    "n",
    "n_removed",
    "n_runs",
    "pearson",
    "spearman",
    "slope",
    "mean_abs_actual",
)


def validate_loo(
    dataset_path: PathLike,
    out_csv: PathLike,
    *,
    samples: int = 40,
    curvature: Mapping | None = None,
    training: Mapping | None = None,
    log=print,
) -> list[dict]:
    """Predicted vs actual leave-one-out loss change on a small MLP (`mislabel.loo`).

    Writes one row per curvature scope; with `samples == 0` only the header (not run).
    """
    import pandas as pd

    from mislabel.data import to_float
    from mislabel.dataset_file import load_dataset_file
    from mislabel.loo import validate_influence
    from mislabel.settings import CurvatureSettings, from_mapping
    from mislabel.train import TrainConfig

    ds = load_dataset_file(dataset_path)
    rows = []
    if samples > 0:
        found, facts = validate_influence(
            to_float(ds.x_train),
            ds.y_train,
            ds.flipped,
            ds.n_classes,
            samples=int(samples),
            seed=ds.seed,
            train_config=from_mapping(TrainConfig, training),
            curvature=from_mapping(CurvatureSettings, curvature),
        )
        log(f"leave-one-out run: {json.dumps(facts)}")
        for row in found:
            rows.append({"dataset": ds.dataset, "ratio": ds.ratio, "seed": ds.seed, **row})
            log(
                f"{row['scope']:>12s}: Pearson {row['pearson']:.3f}, Spearman "
                f"{row['spearman']:.3f} over {row['n_runs']} removals"
            )
    else:
        log("loo_samples is 0: the leave-one-out validation is skipped")
    df = pd.DataFrame(rows, columns=list(LOO_COLUMNS))
    write_text(out_csv, df.to_csv(index=False, float_format="%.6g"))
    return rows


def aggregate_detection(
    scores_paths: Sequence[PathLike], info_paths: Sequence[PathLike], out_csv: PathLike
) -> None:
    """One row per score file: its run facts (JSON) plus detection metrics (scikit-learn)."""
    import pandas as pd

    from mislabel.metrics import detection_metrics

    rows = []
    for scores_path, info_path in zip(scores_paths, info_paths, strict=True):
        row = json.loads(Path(info_path).read_text())
        with np.load(scores_path, allow_pickle=False) as npz:
            row.update(detection_metrics(npz["flipped"], npz["scores"], npz["flagged"]))
        rows.append(row)
    df = pd.DataFrame(rows).sort_values(["dataset", "ratio", "seed", "detector"], kind="stable")
    write_text(out_csv, df.to_csv(index=False, float_format="%.6g"))


def aggregate_csv(paths: Sequence[PathLike], out_csv: PathLike, keys: Sequence[str]) -> None:
    """Concatenate CSVs into one sorted by `keys`."""
    import pandas as pd

    df = pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)
    df = df.sort_values(list(keys), kind="stable")
    write_text(out_csv, df.to_csv(index=False, float_format="%.6g"))


def aggregate_benchmarks(root: PathLike, out_csv: PathLike, dataset: str | None = None) -> int:
    """Collect Snakemake `benchmark:` files under `root/{rule}/...tsv` into one CSV.

    Columns: rule, job (the wildcard part of the path), seconds, max_rss_mb. With
    `dataset`, jobs of other datasets (`root/{rule}/{other}/...`) are left out, so a
    second config's summary does not mix in the first one's jobs.
    Returns the number of files read.
    """
    import pandas as pd

    from mislabel.data import CANONICAL_SHA256

    root = Path(root)
    others = set(CANONICAL_SHA256) - {dataset} if dataset is not None else set()
    rows = []
    for path in sorted(root.rglob("*.tsv")):
        rel = path.relative_to(root).with_suffix("")
        if len(rel.parts) > 1 and rel.parts[1] in others:
            continue
        table = pd.read_csv(path, sep="\t")
        rss = pd.to_numeric(table["max_rss"], errors="coerce")
        rows.append(
            {
                "rule": rel.parts[0],
                "job": "/".join(rel.parts[1:]),
                "seconds": float(table["s"].mean()),
                "max_rss_mb": float(rss.max()) if rss.notna().any() else float("nan"),
            }
        )
    df = pd.DataFrame(rows, columns=["rule", "job", "seconds", "max_rss_mb"])
    write_text(out_csv, df.to_csv(index=False, float_format="%.4g"))
    return len(rows)
