"""The registries: every name comes from them, and a new detector is one module and one line."""

from __future__ import annotations

import re
from pathlib import Path

import jax
import numpy as np
import pytest
import yaml

from mislabel import registry
from mislabel.cli.parser import build_parser
from mislabel.detect import detector_groups, score_detector
from mislabel.network.mlp import init_params, make_model
from mislabel.report import labels
from mislabel.report.cells import LATEX
from mislabel.workflow import config as wc

REPO = Path(__file__).resolve().parents[1]

TOY_MODULE = '''
import numpy as np

from mislabel.detectors.base import Detection


def score(names, inp):
    """Toy detector: the first feature, negated."""
    (name,) = names
    return {name: Detection(-np.asarray(inp.x_NxD, np.float64)[:, 0], None, {"toy": 1})}
'''


@pytest.fixture
def tiny_config():
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config.update(yaml.safe_load((REPO / "tests" / "tiny_config.yaml").read_text()))
    return config


@pytest.fixture
def toy_detector(tmp_path, monkeypatch):
    """A detector in its own module (written here), registered by one line."""
    (tmp_path / "toy_detector.py").write_text(TOY_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.register_detector(registry.Entry("toy", "toy_detector:score", ("Toy", "Toy")))
    yield "toy"
    del registry.DETECTORS["toy"]


def test_a_new_detector_is_one_module_and_one_registry_line(toy_detector, tiny_config):
    x = np.random.default_rng(0).normal(size=(12, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)
    model = make_model([4], 2)
    params = init_params(model, jax.random.PRNGKey(0), 3)
    detection = score_detector("toy", model, params, x, y)
    np.testing.assert_array_equal(detection.scores_N, -x[:, 0].astype(np.float64))
    assert detection.info == {"toy": 1} and detection.m_estimated is None
    assert detector_groups(("loss", "toy", "if_self")) == [("loss",), ("toy",), ("if_self",)]
    # The config check, the workflow's wildcards, the CLI and the report all know it.
    assert wc.name_problems({**tiny_config, "detectors": ["loss", "toy"]}) == []
    assert re.fullmatch(wc.wildcard_constraints()["detector"], "toy")
    args = build_parser().parse_args(
        [
            "score",
            "--data",
            "d.npz",
            "--model",
            "m.msgpack",
            "--detector",
            "toy",
            "--out",
            "s.npz",
            "--info",
            "s.json",
        ]
    )
    assert args.detector == "toy"
    assert labels.label_of("toy", labels.DETECTOR_LABELS, LATEX) == "Toy"


def test_unknown_names_are_refused_by_the_config_check(tiny_config):
    config = {**tiny_config, "detectors": ["loss", "nope"], "unlearners": ["ssse", "gone"]}
    problems = wc.name_problems(config)
    assert any("detectors: unknown ['nope']" in p for p in problems)
    assert any("unlearners: unknown ['gone']" in p for p in problems)
    assert not re.fullmatch(wc.wildcard_constraints()["detector"], "nope")


def test_a_name_is_registered_once():
    with pytest.raises(ValueError, match="already registered"):
        registry.register_detector(registry.Entry("loss", "x:y", ("L", "L")))
    with pytest.raises(ValueError, match="module:function"):
        registry.register_unlearner(registry.Entry("new", "no_colon", ("N", "N")))


def test_every_registered_runner_loads_and_every_entry_has_a_label():
    for entries in (registry.DETECTORS, registry.UNLEARNERS):
        for name, entry in entries.items():
            assert entry.name == name and callable(entry.load())
            assert all(entry.label), name
    assert registry.DETECTORS["if_train_full"].base == "if_train"
    assert registry.DETECTORS["if_train_full"].scope == "full"
    assert registry.UNLEARNERS["ssse"].scope == "last_layer"
    assert registry.INFLUENCE_DETECTORS == ("if_self", "if_train", "if_train_minus_z")
    assert registry.PAPER_UNLEARNERS == ("influence", "ssse", "finetune", "retrain")
