"""funcgrad_nn.training: accuracy, RunningMean, progress, plot_history."""

import os

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad_nn.training import RunningMean, accuracy, plot_history, progress, set_metrics


def test_accuracy_values_shapes_and_jit():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 5.0], [1.0, 3.0, 2.0], [0.0, 1.0, 0.5]])
    labels = np.array([0, 2, 0, 1])
    assert float(accuracy(logits, labels)) == pytest.approx(0.75)
    assert float(fg.jit(accuracy)(logits, labels)) == pytest.approx(0.75)
    with pytest.raises(ValueError, match=r"labels of shape \(3,\)"):
        accuracy(logits, labels[:3])


def test_running_mean_is_weighted_and_jittable():
    m = RunningMean()
    assert np.isnan(float(m.value))
    for v, w in [(1.0, 2), (4.0, 1)]:
        m = m.update(v, w)
    assert float(m.value) == pytest.approx(2.0)
    step = fg.jit(lambda m, v: m.update(v, 3.0))
    m2 = step(RunningMean(fnp.zeros(()), fnp.zeros(())), np.float32(2.0))
    assert float(m2.value) == pytest.approx(2.0)
    leaves = fg.tree.leaves(m2)
    assert len(leaves) == 2  # a pytree: it checkpoints and jits


def test_progress_yields_everything_and_shows_metrics():
    pytest.importorskip("tqdm")
    bar = progress(range(5), desc="train", metrics={"loss": 1.0}, disable=False)
    seen = []
    for i in bar:
        seen.append(i)
        set_metrics(bar, {"loss": 1.0 / (i + 1), "acc": np.float32(0.5)})
    assert seen == list(range(5))
    assert "loss" in bar.postfix and "acc" in bar.postfix
    assert list(progress([1, 2], disable=True)) == [1, 2]


def test_plot_history_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = plot_history({"train_loss": [1.0, 0.6, 0.4], "test_loss": [1.1, 0.7, 0.5],
                         "test_accuracy": [0.5, 0.8, 0.9]}, tmp_path / "curves.png",
                        title="demo")
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.listdir(tmp_path) == ["curves.png"]  # no temporary file left behind
    with pytest.raises(ValueError, match="non-empty"):
        plot_history({"loss": []}, tmp_path / "x.png")
