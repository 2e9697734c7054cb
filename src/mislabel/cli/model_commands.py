"""The commands of one model's life: train, score, unlearn, evaluate.

Each checks its arguments and files, then calls one stage function (`mislabel.stages.*`,
which writes its outputs atomically), imported after the checks: a stage module imports
JAX, so an argument or file error stays quick.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from mislabel.cli.checks import (
    CliError,
    check_flags,
    check_history,
    check_inputs,
    check_outputs,
    read_info,
)
from mislabel.cli.options import settings_from, train_settings
from mislabel.settings import CurvatureSettings, DetectionSettings, TrainConfig, UnlearningSettings

Log = Callable[[str], None]


def cmd_train(args: argparse.Namespace, log: Log) -> dict:
    check_inputs(dataset_file=args.data)
    check_outputs(args.out, args.history, inputs=[args.data])
    from mislabel.stages.train import train_model

    result = train_model(
        args.data,
        args.out,
        args.history,
        hidden=args.hidden,
        training=settings_from(TrainConfig, args),
        seed=args.seed,
        log=log,
    )
    log(f"wrote {args.out} and {args.history} ({result['seconds']:.2f} s)")
    return {"model": str(args.out), "history": str(args.history), **result}


def cmd_score(args: argparse.Namespace, log: Log) -> dict:
    check_history(args.detector, args.history)
    check_inputs(dataset_file=args.data, model_file=args.model, history=args.history)
    check_outputs(args.out, args.info, inputs=[args.data, args.model])
    from mislabel.stages.score import score_samples

    row = score_samples(
        args.data,
        args.model,
        args.out,
        args.info,
        detector=args.detector,
        budget=None if args.ratio is None else "nominal",
        ratio=args.ratio,
        history_path=args.history,
        curvature=settings_from(CurvatureSettings, args),
        detection=settings_from(DetectionSettings, args),
        with_metrics=True,
        log=log,
    )
    if row["m"] == 0:
        log("note: the noise ratio gives m = 0, so nothing was flagged; pass --ratio")
    log(f"wrote {args.out} and {args.info}")
    return row


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
        dataset_file=args.data, model_file=args.model, score_file=args.scores, budget=budget
    )
    check_outputs(args.out, args.info, inputs=[args.data, args.scores, budget])
    ds = load_dataset_file(args.data)
    if args.scores is not None:
        check_flags(args.scores, ds.y_train.size)
    elif not ds.flipped.any():
        log("note: the dataset records no mislabeled samples; the forget set is empty")
    from mislabel.stages.unlearn import unlearn_run

    [info] = unlearn_run(
        args.data,
        args.model,
        {args.target: args.out},
        {args.target: args.info},
        None,
        method=args.unlearner,
        scores_path=args.scores,
        budget_path=budget,
        curvature=settings_from(CurvatureSettings, args),
        training=train_settings(args),
        unlearning=settings_from(UnlearningSettings, args),
        seed=args.seed,
        log=log,
    )
    log(f"wrote {args.out} and {args.info}")
    return info


def cmd_evaluate(args: argparse.Namespace, log: Log) -> list[dict]:
    from mislabel.files.dataset import load_dataset_file

    unlearned = [tuple(pair) for pair in args.unlearned]
    check_inputs(dataset_file=args.data, pretrained_model_file=args.pretrained)
    for model, info in unlearned:
        check_inputs(unlearned_model_file=model, info_file=info)
    check_outputs(args.out, inputs=[args.data, args.pretrained])
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
    if load_dataset_file(args.data).y_test.size == 0:
        raise CliError(f"dataset {args.data} has no test split; nothing to evaluate on")
    from mislabel.stages.evaluate import evaluate_models

    rows = evaluate_models(args.data, args.pretrained, unlearned, args.out, log=log)
    log(f"wrote {args.out}")
    return rows
