"""Per-op overhead: 300 tiny elementwise ops (100 x [sin, *1.01, +0.1]) on a float32[4],
under value_and_grad, in microseconds per op. Baselines in the same run: raw NumPy forward,
NumPy forward plus a hand-written backward, and HIPS autograd / PyTorch / JAX (eager and
jit(value_and_grad)) where installed."""

from __future__ import annotations

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp
from benchmarks.harness import measure, pin_blas, report, save, thread_settings

N_REPS = 100
N_OPS = 3 * N_REPS


def chain(np_mod, x):
    for _ in range(N_REPS):
        x = np_mod.sin(x)
        x = x * 1.01
        x = x + 0.1
    return np_mod.sum(x)


def numpy_fwd_bwd(x):
    xs = []
    for _ in range(N_REPS):
        xs.append(x)
        x = np.sin(x) * 1.01 + 0.1
    g = np.ones_like(x)
    for xi in reversed(xs):
        g = g * 1.01 * np.cos(xi)
    return np.sum(x), g


def candidates(x):
    cands = {
        "numpy forward": lambda: chain(np, x),
        "numpy forward+hand backward": lambda: numpy_fwd_bwd(x),
        "funcgrad value_and_grad (eager)": lambda f=fg.value_and_grad(
            lambda v: chain(fnp, v)): f(x),
        "funcgrad jit(value_and_grad)": lambda f=fg.jit(fg.value_and_grad(
            lambda v: chain(fnp, v))): f(x),
    }
    try:
        import autograd
        import autograd.numpy as anp

        ag = autograd.value_and_grad(lambda v: chain(anp, v))
        cands["HIPS autograd"] = lambda: ag(x)
    except ImportError:
        pass
    try:
        import torch

        xt = torch.tensor(x)

        def torch_step():
            v = xt.clone().requires_grad_(True)
            out = chain(torch, v)
            out.backward()
            return v.grad

        cands["PyTorch eager"] = torch_step
    except ImportError:
        pass
    try:
        import jax
        import jax.numpy as jnp

        jf = jax.value_and_grad(lambda v: chain(jnp, v))
        xj = jnp.asarray(x)
        cands["JAX eager"] = lambda: jax.block_until_ready(jf(xj))
        jjf = jax.jit(jf)
        cands["JAX jit(value_and_grad)"] = lambda: jax.block_until_ready(jjf(xj))
    except ImportError:
        pass
    return cands


def main(repeats: int = 15) -> dict:
    x = np.linspace(0.1, 0.4, 4).astype(np.float32)
    cands = candidates(x)  # import the baselines first, so that pinning reaches their pools
    with pin_blas(1):
        res = measure(cands, repeats=repeats, number=5)
        threads = thread_settings()
    print(report(f"chain of {N_OPS} ops, value_and_grad (µs per op)", res,
                 "numpy forward+hand backward", unit="µs/op", scale=1e6 / N_OPS))
    print("threads:", threads)
    save("chain", {"results": res, "n_ops": N_OPS})
    return res


if __name__ == "__main__":
    main()
