"""MLP 784-400-100-10 (ReLU, softmax cross-entropy) training step with SGD, at batch
32 / 128 / 1024: hand-written NumPy forward+backward vs funcgrad eager and jit, and
PyTorch / JAX where installed, interleaved in one run. Also per-example gradients at
batch 128: vmap(grad) vs a Python loop of grad."""

from __future__ import annotations

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp
from benchmarks.harness import measure, pin_blas, report, save, thread_settings

SIZES = [784, 400, 100, 10]
LR = 0.01


def init(rng):
    return [{"w": (rng.standard_normal((i, o)) / np.sqrt(i)).astype(np.float32),
             "b": np.zeros(o, np.float32)} for i, o in zip(SIZES[:-1], SIZES[1:])]


def loss_fn(params, x, y_onehot):
    h = x
    for layer in params[:-1]:
        h = fg.nn.relu(h @ layer["w"] + layer["b"])
    logits = h @ params[-1]["w"] + params[-1]["b"]
    m = fg.stop_gradient(fnp.max(logits, axis=1, keepdims=True))
    lse = fnp.log(fnp.sum(fnp.exp(logits - m), axis=1, keepdims=True)) + m
    return -fnp.sum(y_onehot * (logits - lse)) / x.shape[0]


def sgd_step(params, x, y):
    grads = fg.grad(loss_fn)(params, x, y)
    return fg.tree.map(lambda p, g: p - LR * g, params, grads)


def numpy_step(params, x, y):
    hs = [x]
    pre = []
    h = x
    for layer in params[:-1]:
        z = h @ layer["w"] + layer["b"]
        pre.append(z)
        h = np.maximum(z, 0.0)
        hs.append(h)
    logits = h @ params[-1]["w"] + params[-1]["b"]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    g = (p - y) / x.shape[0]
    new = [None] * len(params)
    for k in range(len(params) - 1, -1, -1):
        gw = hs[k].T @ g
        gb = g.sum(0)
        if k > 0:
            g = (g @ params[k]["w"].T) * (pre[k - 1] > 0)
        new[k] = {"w": params[k]["w"] - LR * gw, "b": params[k]["b"] - LR * gb}
    return new


def main(repeats: int = 11) -> dict:
    try:  # import the baseline first, so that pin_blas reaches its thread pools
        import torch  # noqa: F401
    except ImportError:
        pass
    rng = np.random.default_rng(0)
    params = init(rng)
    out = {}
    jit_step = fg.jit(sgd_step)
    for batch in (32, 128, 1024):
        x = rng.standard_normal((batch, 784)).astype(np.float32)
        y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch)]
        cands = {
            "numpy hand-written": lambda: numpy_step(params, x, y),
            "funcgrad eager": lambda: sgd_step(params, x, y),
            "funcgrad jit": lambda: jit_step(params, x, y),
        }
        try:
            import torch

            tp = [{"w": torch.tensor(p["w"], requires_grad=True),
                   "b": torch.tensor(p["b"], requires_grad=True)} for p in params]
            xt, yt = torch.tensor(x), torch.tensor(y)

            def torch_step():
                h = xt
                for layer in tp[:-1]:
                    h = torch.relu(h @ layer["w"] + layer["b"])
                logits = h @ tp[-1]["w"] + tp[-1]["b"]
                loss = -(yt * torch.log_softmax(logits, 1)).sum() / batch
                gs = torch.autograd.grad(loss, [t for layer in tp for t in layer.values()])
                with torch.no_grad():
                    return [t - LR * g for t, g in zip([t for layer in tp for t in
                                                        layer.values()], gs)]

            cands["PyTorch eager"] = torch_step
        except ImportError:
            pass
        with pin_blas(1):
            res = measure(cands, repeats=repeats, number=3)
        print(report(f"MLP 784-400-100-10 SGD step, batch {batch} (ms)", res,
                     "numpy hand-written"))
        out[f"batch{batch}"] = res
    # per-example gradients
    x = rng.standard_normal((128, 784)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 128)]
    g1 = fg.grad(lambda p, xi, yi: loss_fn(p, xi[None], yi[None]))
    per_ex = fg.vmap(g1, in_axes=(None, 0, 0))
    cands = {"python loop of grad": lambda: [g1(params, x[i], y[i]) for i in range(128)],
             "vmap(grad)": lambda: per_ex(params, x, y),
             "jit(vmap(grad))": lambda f=fg.jit(per_ex): f(params, x, y)}
    with pin_blas(1):
        res = measure(cands, repeats=5, number=1, warmup=1)
    print(report("per-example gradients, batch 128 (ms)", res, "python loop of grad"))
    out["per_example"] = res
    with pin_blas(1):
        print("threads:", thread_settings())
    save("mlp", out)
    return out


if __name__ == "__main__":
    main()
