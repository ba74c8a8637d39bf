"""MLP 784-400-100-10 (ReLU, softmax cross-entropy) training step with SGD, at batch
32 / 128 / 1024: hand-written NumPy forward+backward vs funcgrad eager and jit, and
PyTorch eager / JAX jit where installed, interleaved in one run. Also per-example gradients
at batch 128: vmap(grad) vs a Python loop of grad, for funcgrad and, where installed, JAX
(jit(vmap(grad)), vmap(grad), loop of grad) and torch.func (vmap(grad)); and the floor:
NumPy writing the per-example outer products alone (the gradients' 182 MB)."""

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


def jax_loss_fn(params, x, y_onehot):
    """``loss_fn`` written with JAX (imported here: JAX is an optional baseline)."""
    import jax
    import jax.numpy as jnp

    h = x
    for layer in params[:-1]:
        h = jax.nn.relu(h @ layer["w"] + layer["b"])
    logits = h @ params[-1]["w"] + params[-1]["b"]
    m = jax.lax.stop_gradient(jnp.max(logits, axis=1, keepdims=True))
    lse = jnp.log(jnp.sum(jnp.exp(logits - m), axis=1, keepdims=True)) + m
    return -jnp.sum(y_onehot * (logits - lse)) / x.shape[0]


def jax_sgd_step(params, x, y):
    import jax

    grads = jax.grad(jax_loss_fn)(params, x, y)
    return jax.tree.map(lambda p, g: p - LR * g, params, grads)


def _check(got, want):
    """Same updated parameters / gradients as the reference, leaf by leaf."""
    got, want = fg.tree.leaves(got), fg.tree.leaves(want)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)


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
    try:
        import jax
        import jax.numpy as jnp

        jax_params = jax.tree.map(jnp.asarray, params)
        jax_jit_step = jax.jit(jax_sgd_step)
    except ImportError:
        jax = None
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
        if jax is not None:
            xj, yj = jnp.asarray(x), jnp.asarray(y)
            _check(jax_jit_step(jax_params, xj, yj), numpy_step(params, x, y))
            cands["JAX jit"] = lambda: jax.block_until_ready(jax_jit_step(jax_params, xj, yj))
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
    ref = per_ex(params, x, y)
    # The floor: the per-example weight gradients are outer products, 182 MB of float32 for
    # the batch. Writing them (from the real activations and deltas) is work that any
    # vmap(grad) must do; NumPy's broadcasting multiply into fresh memory, nothing else.
    acts = [x[:, :, None]] + [rng.random((128, n, 1), dtype=np.float32) for n in SIZES[1:-1]]
    deltas = [rng.random((128, 1, n), dtype=np.float32) for n in SIZES[1:]]
    cands["floor: NumPy outer products only"] = lambda: [a * d for a, d in zip(acts, deltas)]
    if jax is not None:
        xj, yj = jnp.asarray(x), jnp.asarray(y)
        xs, ys = [jnp.asarray(r) for r in x], [jnp.asarray(r) for r in y]
        jg1 = jax.grad(lambda p, xi, yi: jax_loss_fn(p, xi[None], yi[None]))
        jper = jax.vmap(jg1, in_axes=(None, 0, 0))
        jjper = jax.jit(jper)
        _check(jjper(jax_params, xj, yj), ref)
        _check(jper(jax_params, xj, yj), ref)
        cands["JAX jit(vmap(grad))"] = lambda: jax.block_until_ready(jjper(jax_params, xj, yj))
        cands["JAX vmap(grad)"] = lambda: jax.block_until_ready(jper(jax_params, xj, yj))
        # ~1 s a call here (128 eager grads): affordable at repeats=5, number=1 only.
        cands["JAX loop of grad"] = lambda: jax.block_until_ready(
            [jg1(jax_params, xi, yi) for xi, yi in zip(xs, ys)])
    try:
        import torch
        import torch.func

        tparams = [{"w": torch.tensor(p["w"]), "b": torch.tensor(p["b"])} for p in params]
        xt, yt = torch.tensor(x), torch.tensor(y)

        def torch_loss(p, xi, yi):
            h = xi[None]
            for layer in p[:-1]:
                h = torch.relu(h @ layer["w"] + layer["b"])
            logits = h @ p[-1]["w"] + p[-1]["b"]
            return -(yi[None] * torch.log_softmax(logits, 1)).sum()

        tper = torch.func.vmap(torch.func.grad(torch_loss), in_dims=(None, 0, 0))
        _check(tper(tparams, xt, yt), ref)
        cands["torch.func vmap(grad)"] = lambda: tper(tparams, xt, yt)
    except ImportError:
        pass
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
