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


def test_digits_cnn_variants_learn(capsys):
    pytest.importorskip("sklearn")
    accs = _load("digits_cnn").main(epochs=5)
    assert set(accs) == {"mlp", "conv1d", "conv2d"}
    assert all(acc > 0.85 for acc in accs.values()), accs
    assert "conv2d  test accuracy" in capsys.readouterr().out


def test_gru_digits_learns(capsys):
    pytest.importorskip("sklearn")
    acc = _load("gru_digits").main(epochs=5)
    assert acc > 0.85
    assert "test accuracy" in capsys.readouterr().out


def test_dropout_batchnorm_digits_variants_learn(capsys):
    pytest.importorskip("sklearn")
    results = _load("dropout_batchnorm_digits").main(epochs=5)
    assert set(results) == {"plain", "dropout", "batchnorm"}
    for r in results.values():
        assert r["train"] > 0.85 and r["test"] > 0.85, results
    assert "batchnorm train accuracy" in capsys.readouterr().out


def _digits_as_28x28():
    """sklearn's 8x8 digits upscaled to MNIST's format: uint8 (N, 28, 28), labels."""
    import numpy as np
    from sklearn.datasets import load_digits

    d = load_digits()
    images = np.kron(d.images, np.ones((4, 4)))[:, 2:30, 2:30]  # 32x32, cropped to 28x28
    return (images * (255 / 16)).astype(np.uint8), d.target


def test_mnist_cnn_learns_without_mnist(capsys):
    pytest.importorskip("sklearn")
    import numpy as np

    x, y = _digits_as_28x28()
    idx = np.random.default_rng(0).permutation(len(y))
    train, test = idx[:1400], idx[1400:]
    acc = _load("mnist_cnn").main(epochs=3, batch_size=64, lr=3e-3, train=(x[train], y[train]),
                                  test=(x[test], y[test]))
    assert acc > 0.85
    assert "test accuracy" in capsys.readouterr().out


def test_sin_to_cos_rnn_learns(capsys):
    mse = _load("sin_to_cos_rnn").main(steps=300, length=16)
    assert mse < 0.01  # from about 0.5 untrained
    assert "test MSE on unseen phases" in capsys.readouterr().out


def test_convex_gd_converges(capsys):
    r = _load("convex_gd").main()
    assert abs(r["pydynet_x"] - 7.0) < 0.01
    assert r["gd_distance"] < 1e-8
    assert r["newton_distance"] < 1e-12
    assert "Newton" in capsys.readouterr().out
