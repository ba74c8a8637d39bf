"""PyDyNet's Dropout / BatchNorm comparison, functionally, on scikit-learn's 8x8 digits.

PyDyNet trains three copies of one MLP side by side on the same batches — plain, with
Dropout(p=0.05) after the hidden linear layer, and with BatchNorm there instead —
Linear(-> 128), [Dropout | BatchNorm], Sigmoid, Linear(128 -> classes), Adam(lr=0.01),
batch 32, 50 epochs, 70/30 split, and compares train and test accuracy in evaluation mode.
It uses the Olivetti faces; here the bundled digits (no download) with the same recipe.

The functional points: Dropout takes an explicit PRNG key, split afresh for every step
(``fg.random.split``); BatchNorm's running statistics are a state dict threaded through the
jitted step (``model(params, x, state=state, train=True)`` returns ``(logits, new_state)``);
evaluation calls the model with ``train=False`` (dropout off, running statistics used).
One step function serves all three variants (the plain MLP's state is just ``{}``).

Run ``python examples/dropout_batchnorm_digits.py``. Prints each variant's train and test
accuracy and training time.
"""

from __future__ import annotations

import argparse
import time

import funcgrad as fg
import funcgrad_nn as nn
from funcgrad_nn import data, losses, optim, training

VARIANTS = ("plain", "dropout", "batchnorm")


def make_model(variant: str, n_in: int = 64, hidden: int = 128, classes: int = 10):
    middle = {"plain": nn.Identity(), "dropout": nn.Dropout(0.05),
              "batchnorm": nn.BatchNorm1d(hidden)}[variant]
    return nn.Sequential(nn.Linear(n_in, hidden), middle, nn.Sigmoid(),
                         nn.Linear(hidden, classes))


def train(variant: str, x_train, y_train, x_test, y_test, *, epochs: int, batch_size: int,
          lr: float, key) -> dict[str, float]:
    """Train one variant; returns its train and test accuracy (evaluation mode) and time."""
    model = make_model(variant, n_in=x_train.shape[1])
    opt = optim.adam(lr)

    @fg.jit
    def step(params, state, opt_state, x, y, key):
        def loss_fn(p):
            logits, new_state = model(p, x, key=key, state=state, train=True)
            return losses.cross_entropy(logits, y), new_state

        (loss, state), grads = fg.value_and_grad(loss_fn, has_aux=True)(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optim.apply_updates(params, updates), state, opt_state, loss

    @fg.jit
    def accuracy(params, state, x, y):
        logits, _ = model(params, x, state=state, train=False)
        return training.accuracy(logits, y)

    k_init, key = fg.random.split(key)
    params, state = model.init(k_init), model.init_state()
    opt_state = opt.init(params)
    start = time.perf_counter()
    for _ in range(epochs):
        key, k_epoch = fg.random.split(key)
        for xb, yb in data.batches(k_epoch, (x_train, y_train), batch_size, drop_last=True):
            key, k_step = fg.random.split(key)
            params, state, opt_state, loss = step(params, state, opt_state, xb, yb, k_step)
    seconds = time.perf_counter() - start
    return {"train": float(accuracy(params, state, x_train, y_train)),
            "test": float(accuracy(params, state, x_test, y_test)), "seconds": seconds}


def main(epochs: int = 50, batch_size: int = 32, variants=VARIANTS, lr: float = 0.01,
         n_train: int | None = None, seed: int = 0) -> dict[str, dict[str, float]]:
    """Train each of ``variants`` on the same split and batches.

    Returns ``{variant: {"train": accuracy, "test": accuracy, "seconds": time}}``.
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
        r = train(variant, x_train, y_train, x_test, y_test, epochs=epochs,
                  batch_size=batch_size, lr=lr, key=key)
        print(f"{variant:9s} train accuracy {r['train']:.3f}  test accuracy {r['test']:.3f}  "
              f"({epochs} epochs in {r['seconds']:.1f} s)")
        results[variant] = r
    return results


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", choices=VARIANTS, action="append",
                    help="train only this variant (repeatable); default: all three")
    ap.add_argument("--epochs", type=int, default=50)
    a = ap.parse_args()
    main(a.epochs, variants=tuple(a.variant or VARIANTS))
