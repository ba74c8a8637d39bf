"""Training steps of small networks built from ``funcgrad_nn.modules``, against a
hand-written NumPy forward+backward, PyTorch (CPU) and ``jax.jit`` (CPU, where installed),
interleaved, one BLAS thread (PyTorch: ``torch.set_num_threads(1)``; JAX: XLA:CPU's pool
sized to one thread by ``benchmarks.harness``):

* LeNet (conv 1->8 5x5, ReLU, max-pool 2, conv 8->16 5x5, ReLU, max-pool 2, linear
  256->10), cross-entropy, SGD; batch 64 of 28x28 images. Target: funcgrad within 1.4x of
  PyTorch.
* GRU (input 8, hidden 64, 8 steps, batch 64), linear head on the last hidden state, MSE,
  SGD. Targets: funcgrad eager within 1.5x, jitted within 1.2x of PyTorch. The JAX version
  runs the same cell equations under ``jax.lax.scan``.

Every baseline's updated parameters are checked against the NumPy reference before timing.

Each runs twice: with glibc's default malloc settings, then after
``mallopt(M_TRIM_THRESHOLD / M_MMAP_THRESHOLD)`` tells glibc to keep freed memory. By
default glibc hands large freed blocks back to the kernel, so the next step's fresh large
arrays page-fault again; the hand-written NumPy baseline pays most for it (its im2col
buffers are new every step, where funcgrad's convolutions reuse scratch buffers), and
PyTorch's caching allocator never does. The second run shows that effect.

Run: ``PYTHONPATH=. python -m benchmarks.bench_nn``.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import funcgrad as fg
from benchmarks.harness import measure, pin_blas, report, save, thread_settings
from funcgrad_nn import losses
from funcgrad_nn import modules as nn

LR = 0.01
BATCH = 64


def sgd(params, grads):
    return fg.tree.map(lambda p, g: p - LR * g, params, grads)


# ---------------------------------------------------------------------------------------
# LeNet
# ---------------------------------------------------------------------------------------


def lenet() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(256, 10))


def _im2col(x, k):
    """(N, C, H, W) -> contiguous (N, C * k * k, Ho * Wo) windows."""
    win = sliding_window_view(x, (k, k), axis=(2, 3))  # (N, C, Ho, Wo, k, k)
    n, c, ho, wo = win.shape[:4]
    return np.ascontiguousarray(win.transpose(0, 1, 4, 5, 2, 3)).reshape(n, c * k * k,
                                                                         ho * wo), (ho, wo)


def _conv(x, w, b):
    cols, (ho, wo) = _im2col(x, w.shape[-1])
    y = np.matmul(w.reshape(w.shape[0], -1), cols) + b[:, None]
    return y.reshape(x.shape[0], w.shape[0], ho, wo), cols


def _conv_back(g, cols, w, x_shape, need_dx):
    n, o = g.shape[:2]
    g2 = g.reshape(n, o, -1)
    dw = np.matmul(cols, g2.transpose(0, 2, 1)).sum(0).T.reshape(w.shape)
    db = g2.sum((0, 2))
    if not need_dx:
        return None, dw, db
    k = w.shape[-1]
    ho, wo = g.shape[2:]
    dcols = np.matmul(w.reshape(o, -1).T, g2).reshape(n, w.shape[1], k, k, ho, wo)
    dx = np.zeros(x_shape, g.dtype)
    for i in range(k):
        for j in range(k):
            dx[:, :, i:i + ho, j:j + wo] += dcols[:, :, i, j]
    return dx, dw, db


def _pool(x):
    views = [x[:, :, i::2, j::2] for i in (0, 1) for j in (0, 1)]
    return np.maximum(np.maximum(views[0], views[1]), np.maximum(views[2], views[3]))


def _pool_back(g, x, y):
    dx = np.zeros_like(x)
    taken = np.zeros(y.shape, bool)
    for i in (0, 1):
        for j in (0, 1):
            hit = (x[:, :, i::2, j::2] == y) & ~taken
            taken |= hit
            dx[:, :, i::2, j::2] = g * hit
    return dx


def numpy_lenet_step(p, x, labels):
    """Hand-written forward and backward of the same network (im2col + GEMM)."""
    z1, c1 = _conv(x, p["0"]["weight"], p["0"]["bias"])
    a1 = np.maximum(z1, 0)
    h1 = _pool(a1)
    z2, c2 = _conv(h1, p["3"]["weight"], p["3"]["bias"])
    a2 = np.maximum(z2, 0)
    h2 = _pool(a2)
    f = h2.reshape(x.shape[0], -1)
    logits = f @ p["7"]["weight"].T + p["7"]["bias"]
    e = np.exp(logits - logits.max(1, keepdims=True))
    prob = e / e.sum(1, keepdims=True)
    prob[np.arange(x.shape[0]), labels] -= 1.0
    gl = prob / x.shape[0]
    g7 = {"weight": gl.T @ f, "bias": gl.sum(0)}
    gz2 = _pool_back((gl @ p["7"]["weight"]).reshape(h2.shape), a2, h2) * (z2 > 0)
    gh1, gw3, gb3 = _conv_back(gz2, c2, p["3"]["weight"], h1.shape, True)
    gz1 = _pool_back(gh1, a1, h1) * (z1 > 0)
    _, gw0, gb0 = _conv_back(gz1, c1, p["0"]["weight"], x.shape, False)
    grads = {"0": {"weight": gw0, "bias": gb0}, "3": {"weight": gw3, "bias": gb3},
             "7": g7}
    return sgd(p, grads)


def jax_lenet_step():
    """The same LeNet step in JAX, jitted, on ``state_dict`` keys (ImportError without JAX)."""
    import jax
    import jax.numpy as jnp

    def conv(x, w, b):
        y = jax.lax.conv_general_dilated(x, w, (1, 1), "VALID",
                                         dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return y + b[None, :, None, None]

    def pool(x):
        return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2),
                                     "VALID")

    def loss_fn(p, x, labels):
        h = pool(jax.nn.relu(conv(x, p["0.weight"], p["0.bias"])))
        h = pool(jax.nn.relu(conv(h, p["3.weight"], p["3.bias"])))
        logits = h.reshape(x.shape[0], -1) @ p["7.weight"].T + p["7.bias"]
        logp = jax.nn.log_softmax(logits, axis=1)
        return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=1))

    def step(p, x, labels):
        return jax.tree.map(lambda a, g: a - LR * g, p, jax.grad(loss_fn)(p, x, labels))

    return jax.jit(step)


def _candidates(loss, numpy_step, params, *args):
    """The hand-written NumPy step and funcgrad's eager and jitted SGD steps on ``loss``,
    checked against it first; returns ``(reference result, candidates)``."""

    def step(p, *a):
        return sgd(p, fg.grad(loss)(p, *a))

    jit_step = fg.jit(step)
    ref = numpy_step(params, *args)
    for got in (step(params, *args), jit_step(params, *args)):
        for a, b in zip(fg.tree.leaves(got), fg.tree.leaves(ref)):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    return ref, {
        "numpy hand-written": lambda: numpy_step(params, *args),
        "funcgrad eager": lambda: step(params, *args),
        "funcgrad jit": lambda: jit_step(params, *args),
    }


def _add_jax(cands, make_step, model, params, ref, *args) -> None:
    """Add the ``jax.jit`` step from ``make_step()`` (on the same weights, as a flat
    state_dict), checked against the reference result, where JAX is installed."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return
    jstep = make_step()
    jp = {k: jnp.asarray(v) for k, v in model.state_dict(params).items()}
    jargs = [jnp.asarray(a) for a in args]
    flat_ref = model.state_dict(ref)
    got = jstep(jp, *jargs)
    assert got.keys() == flat_ref.keys()
    for k, a in got.items():
        np.testing.assert_allclose(np.asarray(a), flat_ref[k], rtol=1e-4, atol=1e-6)
    cands["JAX jit"] = lambda: jax.block_until_ready(jstep(jp, *jargs))


def bench_lenet(repeats: int) -> dict:
    rng = np.random.default_rng(0)
    model = lenet()
    params = model.init(fg.random.key(0))
    x = rng.random((BATCH, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, BATCH).astype(np.int32)

    ref, cands = _candidates(lambda p, x, y: losses.cross_entropy(model(p, x), y),
                             numpy_lenet_step, params, x, labels)
    try:
        import torch

        torch.set_num_threads(1)
        tm = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 5), torch.nn.ReLU(),
                                 torch.nn.MaxPool2d(2), torch.nn.Conv2d(8, 16, 5),
                                 torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                                 torch.nn.Linear(256, 10))
        tm.load_state_dict({k: torch.tensor(np.asarray(v))
                            for k, v in model.state_dict(params).items()})
        tps = list(tm.parameters())
        xt, yt = torch.tensor(x), torch.tensor(labels.astype(np.int64))

        def torch_step():
            loss = torch.nn.functional.cross_entropy(tm(xt), yt)
            gs = torch.autograd.grad(loss, tps)
            with torch.no_grad():
                return [p - LR * g for p, g in zip(tps, gs)]

        for a, b in zip(torch_step(), model.state_dict(ref).values()):
            np.testing.assert_allclose(a.numpy(), b, rtol=1e-4, atol=1e-6)
        cands["PyTorch eager"] = torch_step
    except ImportError:
        pass
    _add_jax(cands, jax_lenet_step, model, params, ref, x, labels)
    with pin_blas(1):
        return measure(cands, repeats=repeats, number=3)


# ---------------------------------------------------------------------------------------
# GRU
# ---------------------------------------------------------------------------------------


class GRUNet(nn.Module):
    """A GRU and a linear head on its last hidden state."""

    def __init__(self, n_in: int = 8, hidden: int = 64) -> None:
        self.gru = nn.GRU(n_in, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, params, x):
        _, h_n = self.gru(params["gru"], x)
        return self.head(params["head"], h_n[0])


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def numpy_gru_step(p, x, y):
    """Hand-written GRU forward and backpropagation through time."""
    g, hd = p["gru"], p["head"]
    w_ih, w_hh, b_ih, b_hh = (g["weight_ih_l0"], g["weight_hh_l0"], g["bias_ih_l0"],
                              g["bias_hh_l0"])
    n, steps, _ = x.shape
    hs = w_hh.shape[1]
    h = np.zeros((n, hs), x.dtype)
    cache = []
    for t in range(steps):
        gi = x[:, t] @ w_ih.T + b_ih
        gh = h @ w_hh.T + b_hh
        r = _sigmoid(gi[:, :hs] + gh[:, :hs])
        z = _sigmoid(gi[:, hs:2 * hs] + gh[:, hs:2 * hs])
        nn_ = np.tanh(gi[:, 2 * hs:] + r * gh[:, 2 * hs:])
        cache.append((h, r, z, nn_, gh[:, 2 * hs:]))
        h = (1 - z) * nn_ + z * h
    out = h @ hd["weight"].T + hd["bias"]
    gout = 2.0 * (out - y) / out.size
    grads_head = {"weight": gout.T @ h, "bias": gout.sum(0)}
    dh = gout @ hd["weight"]
    dw_ih, dw_hh = np.zeros_like(w_ih), np.zeros_like(w_hh)
    db_ih, db_hh = np.zeros_like(b_ih), np.zeros_like(b_hh)
    for t in range(steps - 1, -1, -1):
        h_prev, r, z, nn_, ghn = cache[t]
        dn = dh * (1 - z) * (1 - nn_ ** 2)
        dz = dh * (h_prev - nn_) * z * (1 - z)
        dr = dn * ghn * r * (1 - r)
        dgi = np.concatenate([dr, dz, dn], 1)
        dgh = np.concatenate([dr, dz, dn * r], 1)
        dw_ih += dgi.T @ x[:, t]
        dw_hh += dgh.T @ h_prev
        db_ih += dgi.sum(0)
        db_hh += dgh.sum(0)
        dh = dh * z + dgh @ w_hh
    grads = {"gru": {"weight_ih_l0": dw_ih, "weight_hh_l0": dw_hh, "bias_ih_l0": db_ih,
                     "bias_hh_l0": db_hh}, "head": grads_head}
    return sgd(p, grads)


def jax_gru_step():
    """``numpy_gru_step``'s network in JAX (``lax.scan`` over time), jitted, on ``state_dict``
    keys (ImportError without JAX)."""
    import jax
    import jax.numpy as jnp

    def loss_fn(p, x, y):
        w_ih, w_hh, b_ih, b_hh = (p["gru.weight_ih_l0"], p["gru.weight_hh_l0"],
                                  p["gru.bias_ih_l0"], p["gru.bias_hh_l0"])
        hs = w_hh.shape[1]

        def cell(h, x_t):
            gi = x_t @ w_ih.T + b_ih
            gh = h @ w_hh.T + b_hh
            r = jax.nn.sigmoid(gi[:, :hs] + gh[:, :hs])
            z = jax.nn.sigmoid(gi[:, hs:2 * hs] + gh[:, hs:2 * hs])
            n = jnp.tanh(gi[:, 2 * hs:] + r * gh[:, 2 * hs:])
            return (1 - z) * n + z * h, None

        h0 = jnp.zeros((x.shape[0], hs), x.dtype)
        h, _ = jax.lax.scan(cell, h0, jnp.swapaxes(x, 0, 1))
        out = h @ p["head.weight"].T + p["head.bias"]
        return jnp.mean((out - y) ** 2)

    def step(p, x, y):
        return jax.tree.map(lambda a, g: a - LR * g, p, jax.grad(loss_fn)(p, x, y))

    return jax.jit(step)


def bench_gru(repeats: int) -> dict:
    rng = np.random.default_rng(1)
    model = GRUNet()
    params = model.init(fg.random.key(0))
    x = rng.standard_normal((BATCH, 8, 8)).astype(np.float32)
    y = rng.standard_normal((BATCH, 1)).astype(np.float32)

    ref, cands = _candidates(lambda p, x, y: losses.mse_loss(model(p, x), y),
                             numpy_gru_step, params, x, y)
    try:
        import torch

        torch.set_num_threads(1)
        tg, th = torch.nn.GRU(8, 64, batch_first=True), torch.nn.Linear(64, 1)
        sd = model.state_dict(params)
        tg.load_state_dict({k[4:]: torch.tensor(np.asarray(v)) for k, v in sd.items()
                            if k.startswith("gru.")})
        th.load_state_dict({k[5:]: torch.tensor(np.asarray(v)) for k, v in sd.items()
                            if k.startswith("head.")})
        tps = list(tg.parameters()) + list(th.parameters())
        xt, yt = torch.tensor(x), torch.tensor(y)

        def torch_step():
            _, h_n = tg(xt)
            loss = torch.nn.functional.mse_loss(th(h_n[0]), yt)
            gs = torch.autograd.grad(loss, tps)
            with torch.no_grad():
                return [p - LR * g for p, g in zip(tps, gs)]

        flat_ref = model.state_dict(ref)
        for (k, _), a in zip(list(sd.items()), torch_step()):
            np.testing.assert_allclose(a.numpy(), flat_ref[k], rtol=1e-4, atol=1e-6)
        cands["PyTorch eager"] = torch_step
    except ImportError:
        pass
    _add_jax(cands, jax_gru_step, model, params, ref, x, y)
    with pin_blas(1):
        return measure(cands, repeats=repeats, number=5)


# ---------------------------------------------------------------------------------------


def _ratios(res: dict, targets: dict) -> list[str]:
    if "PyTorch eager" not in res:
        return ["(PyTorch not installed: no ratios)"]
    base = res["PyTorch eager"]
    lines = []
    for name, target in targets.items():
        r = res[name]["median_s"] / base["median_s"]
        r10 = res[name]["p10_s"] / base["p10_s"]  # steadier on a busy machine
        lines.append(f"{name} / PyTorch = {r:.2f} (p10: {r10:.2f}; target <= {target}): "
                     f"{'ok' if r <= target else 'MISSED'}")
    return lines


def _keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory (no trimming, no mmap for big arrays)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(libc.mallopt(m_trim_threshold, 1 << 30) and
                    libc.mallopt(m_mmap_threshold, 1 << 28))
    except (OSError, AttributeError):
        return False


def main(repeats: int = 31) -> dict:
    out = {}
    for mode in ("glibc malloc defaults", "mallopt: keep freed memory"):
        if mode.startswith("mallopt") and not _keep_freed_memory():
            break
        print(f"# {mode}")
        res = bench_lenet(repeats)
        print(report(f"LeNet SGD step, batch {BATCH}, 28x28 (ms)", res, "numpy hand-written"))
        print("\n".join(_ratios(res, {"funcgrad eager": 1.4, "funcgrad jit": 1.4})))
        out[f"lenet ({mode})"] = res
        res = bench_gru(repeats)
        print(report(f"GRU(8, 64) 8 steps + linear head SGD step, batch {BATCH} (ms)", res,
                     "numpy hand-written"))
        print("\n".join(_ratios(res, {"funcgrad eager": 1.5, "funcgrad jit": 1.2})))
        out[f"gru ({mode})"] = res
    with pin_blas(1):
        print("threads:", thread_settings())
    save("nn", out)
    return out


if __name__ == "__main__":
    main()
