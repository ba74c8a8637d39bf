"""The main demo: train an MLP on scikit-learn's 8x8 digits with a stateless, jitted loop.

The network and hyperparameters are PyDyNet's published digits example — Linear(64->64),
Sigmoid, Linear(64->10), Adam(lr=0.01), batch 32 — written functionally: parameters are a
pytree, the optimizer state is a pytree, and one jitted function does a whole step.

Run with ``make demo``. Prints the loss every few epochs and the test accuracy.
"""

from __future__ import annotations

import time

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad_nn import data, optim


def init_params(key, sizes):
    params = []
    for k, (n_in, n_out) in zip(fg.random.split(key, len(sizes) - 1), zip(sizes[:-1], sizes[1:])):
        bound = 1.0 / np.sqrt(n_in)  # PyTorch's Linear default
        kw, kb = fg.random.split(k)
        params.append({"weight": fg.random.uniform(kw, (n_out, n_in), minval=-bound, maxval=bound),
                       "bias": fg.random.uniform(kb, (n_out,), minval=-bound, maxval=bound)})
    return params


def forward(params, x):
    for layer in params[:-1]:
        x = 1.0 / (1.0 + fnp.exp(-(x @ layer["weight"].T + layer["bias"])))
    last = params[-1]
    return x @ last["weight"].T + last["bias"]


def loss_fn(params, x, y):
    logits = forward(params, x)
    shifted = logits - fg.stop_gradient(fnp.max(logits, axis=1, keepdims=True))
    log_probs = shifted - fnp.log(fnp.sum(fnp.exp(shifted), axis=1, keepdims=True))
    return -fnp.mean(log_probs[fnp.arange(y.shape[0]), y])


OPTIMIZER = optim.adam(0.01)


@fg.jit
def train_step(params, opt_state, x, y):
    loss, grads = fg.value_and_grad(loss_fn)(params, x, y)
    updates, opt_state = OPTIMIZER.update(grads, opt_state, params)
    return optim.apply_updates(params, updates), opt_state, loss


@fg.jit
def accuracy(params, x, y):
    return fnp.mean(fnp.argmax(forward(params, x), axis=1) == y)


def main(epochs: int = 50, batch_size: int = 32) -> float:
    x, y = data.digits()
    key = fg.random.key(0)
    k_split, k_init, key = fg.random.split(key, 3)
    x_train, x_test, y_train, y_test = data.train_test_split(k_split, x, y, test_size=0.25)
    params = init_params(k_init, [64, 64, 10])
    opt_state = OPTIMIZER.init(params)
    start = time.perf_counter()
    for epoch in range(epochs):
        key, k_epoch = fg.random.split(key)
        losses = []
        for xb, yb in data.batches(k_epoch, (x_train, y_train), batch_size, drop_last=True):
            params, opt_state, loss = train_step(params, opt_state, xb, yb)
            losses.append(float(loss))
        if epoch % 10 == 0 or epoch == epochs - 1:
            print(f"epoch {epoch:3d}  loss {np.mean(losses):.4f}")
    acc = float(accuracy(params, x_test, y_test))
    print(f"test accuracy {acc:.3f} after {epochs} epochs in {time.perf_counter() - start:.1f} s")
    return acc


if __name__ == "__main__":
    main()
