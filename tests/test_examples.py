"""The examples run end to end and learn."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_mlp_digits_demo_learns(capsys):
    pytest.importorskip("sklearn")
    acc = _load("mlp_digits").main(epochs=8)
    assert acc > 0.9
    assert "test accuracy" in capsys.readouterr().out
