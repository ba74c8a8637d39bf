"""tinynn's published MNIST result, functionally: MLP 784-400-100-10 with ReLU, softmax
cross-entropy, Adam(lr=1e-3), batch 128, 20 epochs (tinynn reports about 98.2% test
accuracy). Needs the MNIST IDX files: ``FUNCGRAD_DATA=../shared/data python
examples/mnist_mlp.py`` (or let ``funcgrad_nn.data.mnist`` download them).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad_nn import data, losses, optim, training


def init_params(key, sizes=(784, 400, 100, 10)):
    params = []
    for k, (n_in, n_out) in zip(fg.random.split(key, len(sizes) - 1), zip(sizes[:-1], sizes[1:])):
        bound = 1.0 / np.sqrt(n_in)
        kw, kb = fg.random.split(k)
        params.append({"weight": fg.random.uniform(kw, (n_out, n_in), minval=-bound, maxval=bound),
                       "bias": fg.random.uniform(kb, (n_out,), minval=-bound, maxval=bound)})
    return params


def forward(params, x):
    for layer in params[:-1]:
        x = fg.nn.relu(x @ layer["weight"].T + layer["bias"])
    return x @ params[-1]["weight"].T + params[-1]["bias"]


def main(epochs: int = 20, batch_size: int = 128, root: str | None = None,
         plot: str | None = None) -> float:
    (x_train, y_train), (x_test, y_test) = data.mnist(root=root)
    x_train = x_train.reshape(len(x_train), -1).astype(np.float32) / 255.0
    x_test = x_test.reshape(len(x_test), -1).astype(np.float32) / 255.0
    opt = optim.adam(1e-3)

    @fg.jit
    def step(params, opt_state, x, y):
        loss, grads = fg.value_and_grad(lambda p: losses.cross_entropy(forward(p, x), y))(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optim.apply_updates(params, updates), opt_state, loss

    @fg.jit
    def accuracy(params, x, y):
        return fnp.mean(fnp.argmax(forward(params, x), axis=1) == y)

    key = fg.random.key(0)
    k_init, key = fg.random.split(key)
    params = init_params(k_init)
    opt_state = opt.init(params)
    start = time.perf_counter()
    history: dict[str, list[float]] = {"train_loss": [], "test_accuracy": []}
    for epoch in range(epochs):
        key, k_epoch = fg.random.split(key)
        mean_loss = training.RunningMean()
        bar = training.progress(data.batches(k_epoch, (x_train, y_train), batch_size),
                                total=-(-len(x_train) // batch_size), desc=f"epoch {epoch + 1}")
        for xb, yb in bar:
            params, opt_state, loss = step(params, opt_state, xb, yb)
            mean_loss = mean_loss.update(float(loss), len(xb))
            training.set_metrics(bar, {"loss": mean_loss.value})
        acc = float(accuracy(params, x_test, y_test))
        history["train_loss"].append(float(mean_loss.value))
        history["test_accuracy"].append(acc)
        print(f"epoch {epoch + 1:2d}  loss {float(mean_loss.value):.4f}  test accuracy "
              f"{acc:.4f}  ({time.perf_counter() - start:.0f} s)")
    if plot:
        print("curves written to", training.plot_history(history, plot, title="MNIST MLP"))
    return acc


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--root", default=None)
    ap.add_argument("--plot", default=None, help="write learning curves to this PNG")
    a = ap.parse_args()
    main(a.epochs, root=a.root, plot=a.plot)
