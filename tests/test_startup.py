"""What a `mislabel` process loads and keeps: lazy imports, the compilation cache, fast exit.

Each CLI check runs in its own Python process (a test process has long imported
everything) and fails if someone adds an eager import of a heavy library to a call that
does not need it. Also here: the CLI's numpy detection metrics, which keep scikit-learn
out of the score step, are checked against scikit-learn's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mislabel.cli.options import PAPER
from mislabel.files import checkpoint
from mislabel.joblog import fast_exit_allowed, use_jax_cache, user_jax_cache_dir
from mislabel.settings import TrainConfig
from tests.test_cli import TINY_TRAIN, tiny_dataset

HEAVY = ("jax", "jaxlib", "flax", "optax", "scipy", "pandas", "sklearn", "matplotlib", "cleanlab")
NOT_FOR_SCIENCE = {"pandas", "sklearn", "matplotlib", "cleanlab"}  # no stage needs them


def loaded_by(args: list[str], tmp_path: Path, env: dict | None = None) -> tuple[int, set[str]]:
    """Run `mislabel ARGS` in a fresh interpreter; its exit status and the heavy top-level
    packages it imported."""
    out = tmp_path / "modules.json"
    code = (
        "import json, sys\n"
        "from mislabel.cli import run\n"
        f"status = run({args!r})\n"
        f"open({str(out)!r}, 'w').write(json.dumps([status, sorted(sys.modules)]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.exists(), proc.stderr
    status, modules = json.loads(out.read_text())
    return status, {m.split(".")[0] for m in modules} & set(HEAVY)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, Path]:
    """A tiny dataset, a model trained on it and its loss scores, in a fresh process each."""
    root = tmp_path_factory.mktemp("startup")
    files = {
        "root": root,
        "dataset": tiny_dataset(root / "ds.npz"),
        "model": root / "model.msgpack",
        "history": root / "history.npz",
        "scores": root / "scores.npz",
    }
    return files


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["score", "--help"],
        [],  # no command: usage error
        ["train", "--bogus"],
        ["noise", "--raw", "x.npz", "--ratio", "2", "--out", "y.npz"],
        ["train", "--data", "missing.npz", "--out", "m.msgpack", "--history", "h.npz"],
        ["score", "--data", "missing.npz", "--model", "m", "--out", "s", "--info", "j"],
    ],
    ids=[
        "help",
        "version",
        "sub-help",
        "no-command",
        "bad-flag",
        "bad-value",
        "no-file",
        "no-file2",
    ],
)
def test_help_and_argument_errors_import_no_heavy_library(args, tmp_path):
    status, heavy = loaded_by(args, tmp_path)
    assert status in (0, 2)
    assert heavy == set(), f"mislabel {' '.join(args)} imported {sorted(heavy)}"


def test_each_stage_imports_only_what_it_needs(tiny, tmp_path):
    """train, score, unlearn and evaluate import no pandas, scikit-learn, Matplotlib or
    cleanlab; a dataset file is packed without JAX."""
    d, root = tiny, tiny["root"]
    xs = root / "x.npy"
    np.save(xs, np.zeros((4, 3), np.uint8))
    np.save(root / "y.npy", np.array([0, 1, 0, 1]))
    pack = ["pack", "-q", "--x-train", str(xs), "--y-train", str(root / "y.npy")]
    status, heavy = loaded_by([*pack, "--out", str(root / "packed.npz")], tmp_path)
    assert status == 0 and heavy == set(), heavy

    train = ["train", "-q", "--data", str(d["dataset"]), *TINY_TRAIN.split()]
    train += ["--out", str(d["model"]), "--history", str(d["history"])]
    status, heavy = loaded_by(train, tmp_path)
    assert status == 0 and "jax" in heavy and not heavy & NOT_FOR_SCIENCE, heavy

    base = ["--data", str(d["dataset"]), "--model", str(d["model"])]
    for detector in ("loss", "if_self"):
        score = ["score", "-q", *base, "--detector", detector, "--out", str(d["scores"])]
        status, heavy = loaded_by([*score, "--info", str(root / "m.json")], tmp_path)
        assert status == 0 and not heavy & NOT_FOR_SCIENCE, (detector, heavy)
    assert json.loads((root / "m.json").read_text())["roc_auc"] > 0.5

    unlearn = ["unlearn", "-q", *base, "--unlearner", "influence", "--target", "detected"]
    unlearn += ["--scores", str(d["scores"]), "--out", str(root / "u.msgpack")]
    status, heavy = loaded_by([*unlearn, "--info", str(root / "u.json")], tmp_path)
    assert status == 0 and not heavy & NOT_FOR_SCIENCE, heavy

    evaluate = ["evaluate", "-q", "--data", str(d["dataset"]), "--pretrained", str(d["model"])]
    evaluate += ["--unlearned", str(root / "u.msgpack"), str(root / "u.json")]
    status, heavy = loaded_by([*evaluate, "--out", str(root / "e.csv")], tmp_path)
    assert status == 0 and not heavy & NOT_FOR_SCIENCE, heavy


# --------------------------------------------------------------------------- the cache


def test_cli_keeps_compiled_programs_in_the_user_cache(tiny, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    train = ["train", "-q", "--data", str(tiny["dataset"]), *TINY_TRAIN.split()]
    train += ["--out", str(tmp_path / "m.msgpack"), "--history", str(tmp_path / "h.npz")]
    status, _ = loaded_by(train, tmp_path, env)
    assert status == 0
    cache = tmp_path / "xdg" / "mislabel" / "jax"
    assert len(list(cache.iterdir())) >= 3  # the key, init and training programs


@pytest.mark.parametrize("where", ["under-a-file", "empty"])
def test_an_unusable_cache_folder_does_not_break_the_cli(where, tiny, tmp_path):
    (tmp_path / "a_file").write_text("not a folder")
    env = dict(os.environ)
    env["JAX_COMPILATION_CACHE_DIR"] = "" if where == "empty" else str(tmp_path / "a_file/jax")
    cmd = [sys.executable, "-m", "mislabel", "train", "--data", str(tiny["dataset"])]
    cmd += [*TINY_TRAIN.split(), "--out", str(tmp_path / "m.msgpack")]
    cmd += ["--history", str(tmp_path / "h.npz")]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert (tmp_path / "m.msgpack").is_file()


def test_use_jax_cache_checks_the_folder(tmp_path, monkeypatch):
    for key in ("JAX_COMPILATION_CACHE_DIR", "JAX_ENABLE_COMPILATION_CACHE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.delenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", raising=False)
    assert use_jax_cache(tmp_path / "c") == (tmp_path / "c").resolve()
    assert os.environ["JAX_COMPILATION_CACHE_DIR"] == str((tmp_path / "c").resolve())
    assert os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] == "0"
    assert use_jax_cache(tmp_path / "other") == (tmp_path / "c").resolve()  # the env wins
    (tmp_path / "f").write_text("")
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "f" / "c"))
    assert use_jax_cache() is None
    assert os.environ["JAX_ENABLE_COMPILATION_CACHE"] == "false"
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", "")
    assert use_jax_cache(tmp_path / "c") is None
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_jax_cache_dir() == tmp_path / "xdg" / "mislabel" / "jax"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert user_jax_cache_dir() == Path.home() / ".cache" / "mislabel" / "jax"


def test_help_documents_the_cache(capsys):
    from mislabel.cli import main

    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "JAX_COMPILATION_CACHE_DIR" in out and "~/.cache/mislabel/jax" in out


# --------------------------------------------------------------------------- fast exit


def test_program_ends_fast_with_its_outputs_written(tiny, tmp_path):
    """`python -m mislabel` ends by os._exit: outputs complete, JSON flushed, status kept."""
    model, hist = tmp_path / "m.msgpack", tmp_path / "h.npz"
    cmd = [sys.executable, "-m", "mislabel", "train", "--json", "--data", str(tiny["dataset"])]
    cmd += [*TINY_TRAIN.split(), "--out", str(model), "--history", str(hist)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["model"] == str(model)
    assert proc.stderr.strip().splitlines()[-1].startswith(f"wrote {model}")
    assert checkpoint.load_model(model, expect_features=16).meta["epochs"] == 2
    with np.load(hist) as npz:
        assert npz["loss_E"].shape == (2,)
    bad = subprocess.run(
        [sys.executable, "-m", "mislabel", "train", "--data", str(tmp_path / "none.npz")]
        + ["--out", str(model), "--history", str(hist)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 2 and bad.stderr.strip().startswith("mislabel train: error:")


def test_fast_exit_is_off_under_a_tracer_or_when_asked(monkeypatch):
    monkeypatch.delenv("MISLABEL_NO_FAST_EXIT", raising=False)
    allowed = fast_exit_allowed()
    assert allowed == (sys.gettrace() is None and "coverage" not in sys.modules)
    monkeypatch.setenv("MISLABEL_NO_FAST_EXIT", "1")
    assert not fast_exit_allowed()


@pytest.mark.parametrize("fail", [False, True])
def test_job_log_can_end_the_process_when_the_job_is_done(fail, tmp_path):
    script = (
        "import jax.numpy as jnp\n"
        "from mislabel.joblog import job_log\n"
        f"with job_log({str(tmp_path / 'job.log')!r}, 'demo', exit_when_done=True) as log:\n"
        "    log(f'sum {float(jnp.arange(4).sum())}')\n"
        f"    open({str(tmp_path / 'out.txt')!r}, 'w').write('written')\n"
        f"    assert not {fail}, 'the job failed'\n"
        "print('after the block')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MISLABEL_NO_FAST_EXIT"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    log = (tmp_path / "job.log").read_text()
    assert (tmp_path / "out.txt").read_text() == "written" and "sum 6.0" in log
    if fail:  # no fast exit: the error and its traceback as before
        assert proc.returncode == 1 and "the job failed" in proc.stderr and "FAILED" in log
    else:
        assert proc.returncode == 0 and "job demo done" in log
        assert "after the block" not in proc.stdout  # the process ended with the job


# --------------------------------------------------------------------------- stand-ins


def test_paper_defaults_match_train_config():
    assert PAPER._fields == TrainConfig._fields and tuple(PAPER) == tuple(TrainConfig())
