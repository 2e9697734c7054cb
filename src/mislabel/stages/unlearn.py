"""Stage unlearn: forget a target set (true flips or detected flags) with one unlearner.

One workflow job runs one unlearner on one (ratio, seed) run for every target
(`unlearn_run`): the dataset and the model are loaded once, and each target's model
and info file are written. The CLI passes a single target.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mislabel.checks import check_name
from mislabel.data import to_float
from mislabel.detect import flag_top
from mislabel.files.atomic import write_json
from mislabel.files.checkpoint import save_model
from mislabel.registry import TARGETS
from mislabel.settings import CurvatureSettings, TrainConfig, UnlearningSettings, from_mapping
from mislabel.stages.common import PathLike, load_run, read_score_file
from mislabel.unlearn import check_unlearner, unlearn


def forget_mask(
    target: str, ds, scores_path: PathLike | None, budget_path: PathLike | None = None
) -> np.ndarray:
    """The forget set of `target`.

    - ``mislabeled``: the truly flipped samples;
    - ``detected``: the flags of the pipeline detector's score file (its top m);
    - ``detected_estimated``: the top m-hat of the same scores, m-hat read from the score
      file of a detector that estimates it (`budget_path`).
    """
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


def _settings(curvature, training, unlearning):
    return (
        from_mapping(CurvatureSettings, curvature),
        from_mapping(TrainConfig, training),
        from_mapping(UnlearningSettings, unlearning),
    )


def _log_curvature(result, log) -> None:
    """The curvature facts of a closed-form update, in the job log."""
    if "rank" in result.info:
        log(
            f"curvature (last_layer, {result.info['unlearner']}): rank {result.info['rank']} of "
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
            + ("" if result.info["cg_converged"] else " (NOT converged: raise cg_maxiter)")
        )


def _forget_one(
    ds,
    loaded,
    unlearner: str,
    target: str,
    out_model_path: PathLike,
    info_path: PathLike,
    *,
    scores_path,
    budget_path,
    settings,
    seed: int,
    log,
) -> dict:
    """Forget `target`'s set from the loaded model; write the model and its info JSON."""
    curvature, train_config, unlearning = settings
    forget = forget_mask(target, ds, scores_path, budget_path)
    result = unlearn(
        unlearner,
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
        extra={**loaded.meta, "seed": seed, "unlearner": unlearner, "target": target},
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
    _log_curvature(result, log)
    log(
        f"{unlearner} on {target}: forgot {info['m_forget']} samples "
        f"({info['n_forget_mislabeled']} truly mislabeled) in {result.seconds:.3f} s "
        f"(+ {info['compile_seconds']:.3f} s compiling)"
    )
    return info


def unlearn_run(
    dataset_path: PathLike,
    model_path: PathLike,
    model_paths: Mapping[str, PathLike],
    info_paths: Mapping[str, PathLike],
    timing_path: PathLike | None,
    *,
    unlearner: str,
    scores_path: PathLike | None = None,
    budget_path: PathLike | None = None,
    curvature: Mapping | None = None,
    training: Mapping | None = None,
    unlearning: Mapping | None = None,
    seed: int | None = None,
    log=print,
) -> list[dict]:
    """Forget every target named in `model_paths` with `unlearner`, from one loaded run.

    Args:
      model_paths, info_paths: {target: unlearned model `.msgpack`}, {target: info `.json`}.
      timing_path: JSON list of timing rows, one per target: stage, name (the unlearner),
        target, seconds (compilation excluded), compile_seconds, wall_seconds, plus
        dataset, ratio, seed (None: not written).
      scores_path, budget_path: the pipeline detector's score file (targets `detected*`)
        and the budget estimator's (target `detected_estimated`).
    Returns:
      The info rows, in the order of `model_paths`.
    """
    check_unlearner(unlearner)
    targets = list(model_paths)
    if set(info_paths) != set(targets):
        raise ValueError(f"model and info paths name different targets: {sorted(info_paths)}")
    settings = _settings(curvature, training, unlearning)
    ds, loaded = load_run(dataset_path, model_path)
    seed = int(loaded.meta.get("seed", ds.seed) if seed is None else seed)
    infos = [
        _forget_one(
            ds,
            loaded,
            unlearner,
            target,
            model_paths[target],
            info_paths[target],
            scores_path=scores_path,
            budget_path=budget_path,
            settings=settings,
            seed=seed,
            log=log,
        )
        for target in targets
    ]
    if timing_path is not None:
        facts = {"dataset": ds.dataset, "ratio": ds.ratio, "seed": ds.seed, "stage": "unlearn"}
        keys = ("seconds", "compile_seconds", "wall_seconds")
        rows = [
            {**facts, "name": unlearner, "target": i["target"], **{k: i[k] for k in keys}}
            for i in infos
        ]
        write_json(timing_path, rows)
    return infos
