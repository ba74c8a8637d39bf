"""PyDyNet's GRU example, functionally: a recurrent net reads each 8x8 digit row by row.

PyDyNet classifies scikit-learn's digits with a single-layer GRU(8 -> 16, batch_first) read
over the 8 rows (8 steps of 8 features) and a linear head on the last step, Adam(lr=0.01),
batch 32, 50 epochs, 70/30 split. Here the GRU is bidirectional
(``funcgrad_nn.GRU(8, 16, batch_first=True, bidirectional=True)``): the head is a
Linear(32 -> 10) on the final states of both directions, concatenated; the same optimizer,
batch size, epochs and split; one jitted function does a whole step.

Run ``python examples/gru_digits.py``. Prints the loss every few epochs, the training time
and the test accuracy.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp
import funcgrad_nn as nn
from funcgrad_nn import data, losses, optim, training


class RowGRU(nn.Module):
    """A bidirectional GRU over the rows of an image, then a linear classifier."""

    def __init__(self, rows: int = 8, hidden: int = 16, classes: int = 10) -> None:
        self.gru = nn.GRU(rows, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, classes)

    def forward(self, params, x):
        _, h_n = self.gru(params["gru"], x)                 # h_n: (2 directions, N, hidden)
        return self.head(params["head"], fnp.concatenate([h_n[0], h_n[1]], axis=-1))


def main(epochs: int = 50, batch_size: int = 32, hidden: int = 16, lr: float = 0.01,
         n_train: int | None = None, seed: int = 0) -> float:
    """Train on the digits; returns the test accuracy.

    ``n_train`` keeps only the first ``n_train`` training images (for quick tests);
    ``seed`` picks the split, the initialisation and the batch order.
    """
    x, y = data.digits()
    x = x.reshape(-1, 8, 8)                                  # (N, 8 steps, 8 features)
    key = fg.random.key(seed)
    k_split, k_init, key = fg.random.split(key, 3)
    x_train, x_test, y_train, y_test = data.train_test_split(k_split, x, y, test_size=0.3)
    x_train, y_train = x_train[:n_train], y_train[:n_train]
    model = RowGRU(hidden=hidden)
    opt = optim.adam(lr)

    @fg.jit
    def step(params, opt_state, x, y):
        loss, grads = fg.value_and_grad(lambda p: losses.cross_entropy(model(p, x), y))(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optim.apply_updates(params, updates), opt_state, loss

    @fg.jit
    def accuracy(params, x, y):
        return training.accuracy(model(params, x), y)

    params = model.init(k_init)
    opt_state = opt.init(params)
    start = time.perf_counter()
    for epoch in range(epochs):
        key, k_epoch = fg.random.split(key)
        epoch_losses = []
        for xb, yb in data.batches(k_epoch, (x_train, y_train), batch_size, drop_last=True):
            params, opt_state, loss = step(params, opt_state, xb, yb)
            epoch_losses.append(float(loss))
        if epoch % 10 == 9 or epoch == epochs - 1:
            print(f"epoch {epoch + 1:3d}  loss {np.mean(epoch_losses):.4f}")
    seconds = time.perf_counter() - start
    acc = float(accuracy(params, x_test, y_test))
    print(f"test accuracy {acc:.3f} after {epochs} epochs in {seconds:.1f} s")
    return acc


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--hidden", type=int, default=16)
    a = ap.parse_args()
    main(a.epochs, hidden=a.hidden)
