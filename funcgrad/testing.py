"""Testing tools shipped to users: gradient checking and hypothesis strategies.

``check_grads`` compares forward mode, reverse mode and central finite differences,
recursively to the requested order, as JAX's ``jax.test_util.check_grads``.

Complex values. A JVP is an R-linear map ``J`` (complex arrays seen as real vector spaces)
and funcgrad's VJP is, as JAX's, its *transpose* under the real bilinear pairing

    <u, v> = Re(sum(u * v)) = sum(Re u Re v - Im u Im v)        (no conjugation)

a nondegenerate symmetric R-bilinear form, the ordinary dot product on real arrays. So
the checks use ``<ct, J t> = <J^T ct, t>`` with this pairing: for holomorphic ``f``
(``J t = f'(z) t``) it holds with ``J^T ct = f'(z) ct``. (Under the Euclidean pairing
``Re(sum(conj(u) * v))`` the transpose would be the adjoint ``conj(f'(z)) ct``: PyTorch's
convention.) Complex inputs are perturbed along their real and imaginary parts separately,
so a rule that assumed holomorphy where the function is not (``abs``, ``conj``) fails.

>>> import funcgrad.numpy as fnp
>>> from funcgrad.testing import check_grads
>>> check_grads(fnp.sin, (fnp.array([0.3, 1.2], dtype="float64"),), order=2)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from funcgrad._src.autodiff import jvp, vjp
from funcgrad._src.backend import canonicalize
from funcgrad._src.tree_util import tree_flatten, tree_map, tree_unflatten

__all__ = ["check_grads", "check_jvp", "check_vjp", "numerical_jvp", "strategies"]

_DEFAULT_TOL = {np.dtype(np.float32): 2e-2, np.dtype(np.float64): 1e-5,
                np.dtype(np.complex64): 2e-2, np.dtype(np.complex128): 1e-5}
_DEFAULT_EPS = {np.dtype(np.float32): 1e-2, np.dtype(np.float64): 1e-5,
                np.dtype(np.complex64): 1e-2, np.dtype(np.complex128): 1e-5}


def _tol(dtype, given):
    return given if given is not None else _DEFAULT_TOL.get(np.dtype(dtype), 1e-5)


def _rand_like(rng, x):
    x = np.asarray(x)
    r = rng.standard_normal(x.shape)
    if x.dtype.kind == "c":
        r = r + 1j * rng.standard_normal(x.shape)
    return r.astype(x.dtype)


def _inner(xs, ys):
    """``sum Re(x * y)`` over leaves: the pairing that makes VJPs the transposes of JVPs."""
    return sum(float(np.real(np.dot(np.asarray(x, np.complex128).ravel(),
                                    np.asarray(y, np.complex128).ravel())))
               for x, y in zip(xs, ys))


def _directions(rng, flat):
    """Tangent directions for inputs ``flat``: one random direction for real inputs; for
    complex inputs, random perturbations of the real parts, then of the imaginary parts
    (real inputs move with the real parts)."""
    ts = [_rand_like(rng, x) for x in flat]
    if not any(np.asarray(x).dtype.kind == "c" for x in flat):
        return [("", ts)]
    ts = [np.asarray(t) for t in ts]
    re = [np.asarray(t.real, t.dtype) if t.dtype.kind == "c" else t for t in ts]
    im = [np.asarray(1j * t.imag, t.dtype) if t.dtype.kind == "c" else np.zeros_like(t)
          for t in ts]
    return [(" along real parts", re), (" along imaginary parts", im)]


def _assert_close(name, a, b, atol, rtol):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise AssertionError(f"{name}: shapes differ: {a.shape} vs {b.shape}")
    if not np.allclose(a, b, atol=atol, rtol=rtol, equal_nan=True):
        err = np.max(np.abs(a - b)) if a.size else 0.0
        raise AssertionError(f"{name}: not close (atol={atol}, rtol={rtol}, max abs err {err})"
                             f"\n  got:      {a}\n  expected: {b}")


def numerical_jvp(f: Callable, primals: Sequence, tangents: Sequence, eps: float):
    """Central difference ``(f(x + eps t) - f(x - eps t)) / (2 eps)`` over pytrees."""
    plus = tree_map(lambda x, t: x + eps * t, tuple(primals), tuple(tangents))
    minus = tree_map(lambda x, t: x - eps * t, tuple(primals), tuple(tangents))
    fp = tree_flatten(f(*plus))[0]
    fm = tree_flatten(f(*minus))[0]
    return [(np.asarray(a, np.float64 if np.asarray(a).dtype.kind != "c" else np.complex128) -
             np.asarray(b)) / (2 * eps) for a, b in zip(fp, fm)]


def check_jvp(f, primals, *, atol=None, rtol=None, eps=None, rng=None):
    """Check ``jvp(f)`` against central differences at ``primals``."""
    rng = rng or np.random.default_rng(0)
    flat, tree = tree_flatten(tuple(primals))
    dt = flat[0].dtype if flat else np.dtype(np.float64)
    eps = eps or _DEFAULT_EPS.get(np.dtype(dt), 1e-5)
    tol = _tol(dt, atol)
    for where, ts in _directions(rng, flat):
        tangents = tree_unflatten(tree, ts)
        _, t_out = jvp(f, tuple(primals), tuple(tangents))
        num = numerical_jvp(f, primals, tangents, eps)
        t_flat = tree_flatten(t_out)[0]
        for k, (a, b) in enumerate(zip(t_flat, num)):
            _assert_close(f"JVP vs finite differences{where} (output {k})", a, b, tol,
                          _tol(dt, rtol))


def check_vjp(f, primals, *, atol=None, rtol=None, eps=None, rng=None):
    """Check ``vjp(f)`` against ``jvp(f)`` through the identity <ct, J t> = <J^T ct, t>,
    and against central differences; ``<u, v> = Re(sum(u * v))`` (see the module
    docstring), complex inputs perturbed along their real and imaginary parts."""
    rng = rng or np.random.default_rng(1)
    flat, tree = tree_flatten(tuple(primals))
    dt = flat[0].dtype if flat else np.dtype(np.float64)
    eps = eps or _DEFAULT_EPS.get(np.dtype(dt), 1e-5)
    out, f_vjp = vjp(f, *primals)
    out_flat, out_tree = tree_flatten(out)
    cts = [_rand_like(rng, o) for o in out_flat]
    ct_in = tree_flatten(f_vjp(tree_unflatten(out_tree, cts)))[0]
    tol = _tol(dt, atol)
    for where, tangents in _directions(rng, flat):
        num = numerical_jvp(f, primals, tree_unflatten(tree, tangents), eps)
        lhs = _inner(cts, num)
        rhs = _inner(ct_in, tangents)
        scale = max(1.0, abs(lhs), abs(rhs))
        if not abs(lhs - rhs) <= tol * scale + _tol(dt, rtol) * scale:
            raise AssertionError(f"VJP vs finite differences{where}: <ct, J t> = {lhs} but "
                                 f"<J^T ct, t> = {rhs} (tol {tol})")
        _, t_out = jvp(f, tuple(primals), tuple(tree_unflatten(tree, tangents)))
        lhs2 = _inner(cts, tree_flatten(t_out)[0])
        if not abs(lhs2 - rhs) <= tol * max(1.0, abs(lhs2), abs(rhs)):
            raise AssertionError(f"VJP vs JVP{where}: <ct, J t> = {lhs2} (forward mode) but "
                                 f"<J^T ct, t> = {rhs} (reverse mode)")


def check_grads(f: Callable, args: Sequence, order: int, modes=("fwd", "rev"), atol=None,
                rtol=None, eps=None) -> None:
    """Check ``f``'s derivatives at ``args`` up to ``order``.

    Forward mode is checked against central differences, reverse mode against forward mode
    and central differences, and then (for ``order > 1``) the same checks are applied to
    the JVP and VJP functions themselves, recursively.

    Args:
        f: function of arrays (pytrees allowed) returning arrays.
        args: tuple of arguments.
        order: highest derivative order to check.
        modes: any of ``"fwd"`` and ``"rev"``.
        atol, rtol: tolerances (defaults depend on the dtype: loose for float32).
        eps: finite-difference step.

    Raises:
        AssertionError: naming the mode and order that disagree.

    >>> import funcgrad.numpy as fnp
    >>> check_grads(lambda x, y: fnp.sum(x * fnp.tanh(y)),
    ...             (fnp.ones(3, dtype="float64"), fnp.zeros(3, dtype="float64")), order=2)
    """
    args = tuple(tree_map(canonicalize, tuple(args)))
    rng = np.random.default_rng(0)

    def _check(f, args, order):
        if "fwd" in modes:
            check_jvp(f, args, atol=atol, rtol=rtol, eps=eps, rng=rng)
            if order > 1:
                flat, tree = tree_flatten(args)
                tangents = tree_unflatten(tree, [_rand_like(rng, x) for x in flat])

                def f_jvp(*primals):
                    return jvp(f, primals, tuple(tangents))[1]

                _check(f_jvp, args, order - 1)
        if "rev" in modes:
            check_vjp(f, args, atol=atol, rtol=rtol, eps=eps, rng=rng)
            if order > 1:
                out = f(*args)
                out_flat, out_tree = tree_flatten(out)
                cts = tree_unflatten(out_tree, [_rand_like(rng, o) for o in out_flat])

                def f_vjp(*primals):
                    return vjp(f, *primals)[1](cts)

                _check(f_vjp, args, order - 1)

    _check(f, args, order)


from funcgrad import _strategies as strategies  # noqa: E402
