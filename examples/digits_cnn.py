"""PyDyNet's MLP / Conv1d / Conv2d comparison, functionally, on scikit-learn's 8x8 digits.

PyDyNet trains an MLP, a Conv1d net and a Conv2d net side by side on the Olivetti faces
(50 epochs; it publishes 8.76 s for its CNN1d and 14.1 s for its CNN2d on CPU). Here the
same comparison runs on the bundled digits (no download), 70/30 split as PyDyNet's
scripts: every variant is a ``funcgrad_nn.Sequential``, trained with Adam(lr=0.01) as PyDyNet,
batch 64, 50 epochs, by one jitted function per step (loss, gradients, optimizer update).

* ``mlp``: Linear(64->64), Sigmoid, Linear(64->10) (PyDyNet's digits MLP);
* ``conv1d``: the image read as 8 channels (rows) of length 8: Conv1d(8, 16, 3, padding=1),
  ReLU, MaxPool1d(2), Conv1d(16, 32, 3, padding=1), ReLU, MaxPool1d(2), Linear(64->10);
* ``conv2d``: Conv2d(1, 16, 3, padding=1), ReLU, MaxPool2d(2), Conv2d(16, 32, 3, padding=1),
  ReLU, MaxPool2d(2), Linear(128->10).

Run ``python examples/digits_cnn.py`` (or ``--variant conv2d``). Prints each variant's
training time and test accuracy.
"""

from __future__ import annotations

import argparse
import time

import funcgrad as fg
import funcgrad_nn as nn
from funcgrad_nn import data, losses, optim, training

VARIANTS = ("mlp", "conv1d", "conv2d")


def make_model(variant: str):
    """The network of ``variant`` and the shape one batch of images takes for it."""
    if variant == "mlp":
        return nn.Sequential(nn.Linear(64, 64), nn.Sigmoid(), nn.Linear(64, 10)), (64,)
    if variant == "conv1d":
        model = nn.Sequential(
            nn.Conv1d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool1d(2),
            nn.Flatten(), nn.Linear(32 * 2, 10))
        return model, (8, 8)
    if variant == "conv2d":
        model = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 2 * 2, 10))
        return model, (1, 8, 8)
    raise ValueError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")


def train(variant: str, x_train, y_train, x_test, y_test, *, epochs: int, batch_size: int,
          lr: float, key) -> tuple[float, float]:
    """Train one variant; returns ``(test accuracy, training seconds)``."""
    model, shape = make_model(variant)
    x_train = x_train.reshape(-1, *shape)
    x_test = x_test.reshape(-1, *shape)
    opt = optim.adam(lr)

    @fg.jit
    def step(params, opt_state, x, y):
        loss, grads = fg.value_and_grad(lambda p: losses.cross_entropy(model(p, x), y))(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optim.apply_updates(params, updates), opt_state, loss

    @fg.jit
    def accuracy(params, x, y):
        return training.accuracy(model(params, x), y)

    k_init, key = fg.random.split(key)
    params = model.init(k_init)
    opt_state = opt.init(params)
    start = time.perf_counter()
    for _ in range(epochs):
        key, k_epoch = fg.random.split(key)
        for xb, yb in data.batches(k_epoch, (x_train, y_train), batch_size, drop_last=True):
            params, opt_state, loss = step(params, opt_state, xb, yb)
    seconds = time.perf_counter() - start
    return float(accuracy(params, x_test, y_test)), seconds


def main(epochs: int = 50, batch_size: int = 64, variants=VARIANTS, lr: float = 0.01,
         n_train: int | None = None, seed: int = 0) -> dict[str, float]:
    """Train each of ``variants`` on the same split; returns ``{variant: test accuracy}``.

    ``n_train`` keeps only the first ``n_train`` training images (for quick tests);
    ``seed`` picks the split, the initialisation and the batch order.
    """
    if isinstance(variants, str):
        variants = (variants,)
    x, y = data.digits()
    k_split, key = fg.random.split(fg.random.key(seed))
    x_train, x_test, y_train, y_test = data.train_test_split(k_split, x, y, test_size=0.3)
    x_train, y_train = x_train[:n_train], y_train[:n_train]
    results = {}
    for variant in variants:
        acc, seconds = train(variant, x_train, y_train, x_test, y_test, epochs=epochs,
                             batch_size=batch_size, lr=lr, key=key)
        print(f"{variant:7s} test accuracy {acc:.3f}  ({epochs} epochs in {seconds:.1f} s)")
        results[variant] = acc
    return results


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", choices=VARIANTS, action="append",
                    help="train only this variant (repeatable); default: all three")
    ap.add_argument("--epochs", type=int, default=50)
    a = ap.parse_args()
    main(a.epochs, variants=tuple(a.variant or VARIANTS))
