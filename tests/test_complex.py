"""Complex inputs: NumPy's values and dtypes, and JAX's differentiation convention.

The convention (see ``funcgrad._src.ops.complex_ops`` and ``funcgrad.testing``): a VJP is
the transpose of the (R-linear) JVP under the bilinear pairing ``<u, v> = Re(sum(u * v))``,
without conjugation. Hence

* ``vjp`` of a holomorphic ``f`` is ``ct -> ct * f'(z)``, and ``grad(f, holomorphic=True)``
  is ``f'(z)``;
* ``grad`` of a real-valued ``f(z)``, ``z = x + iy``, is ``df/dx - 1j df/dy``, e.g.
  ``grad(abs(z) ** 2) == 2 conj(z)`` (JAX's autodiff cookbook: ``6 - 8j`` at ``3 + 4j``);
* PyTorch reports the conjugate: for a real loss ``z.grad == conj(grad(f)(z))``, and in
  general ``backward(v)`` gives ``conj(vjp(conj(v)))``; JVPs (directional derivatives)
  agree exactly.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads, check_vjp
from funcgrad.tree_util import tree_leaves, tree_map

C64, C128 = np.dtype(np.complex64), np.dtype(np.complex128)


def crand(rng, shape, dtype=C128, lo=0.3, hi=1.2):
    """Complex values with real and imaginary parts in ``+-[lo, hi]``: off both axes, so
    off the branch cuts of log, sqrt, the inverse trig/hyperbolic functions and power."""
    def part():
        return rng.uniform(lo, hi, shape) * rng.choice([-1.0, 1.0], shape)

    return np.asarray(part() + 1j * part()).astype(dtype)


def cmat(rng, n=3, dtype=C128, batch=()):
    """Well-conditioned complex matrices."""
    a = rng.uniform(-1, 1, batch + (n, n)) + 1j * rng.uniform(-1, 1, batch + (n, n))
    return np.asarray(a + 3.0 * np.eye(n)).astype(dtype)


def hermitian_pd(rng, n=3, dtype=C128):
    a = cmat(rng, n, C128)
    return np.asarray(a @ a.conj().T + n * np.eye(n)).astype(dtype)


def _tol(dtype):
    return (2e-5, 2e-6) if np.dtype(dtype) == C64 else (1e-12, 1e-13)


def assert_like_numpy(got, want, dtype, what, scale=1.0):
    rtol, atol = _tol(dtype)
    gl, wl = tree_leaves(got), tree_leaves(want)
    assert len(gl) == len(wl), what
    for g, w in zip(gl, wl):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype, f"{what}: dtype {g.dtype}, NumPy's {w.dtype}"
        assert g.shape == w.shape, f"{what}: shape {g.shape}, NumPy's {w.shape}"
        np.testing.assert_allclose(g, w, rtol=rtol * scale, atol=atol * scale, err_msg=what)


def traced(f):
    """``f`` evaluated on tracers (a reverse-mode trace), returning the primal output."""
    def run(*args):
        return fg.vjp(lambda *a: f(*a), *args)[0]

    return run


# ---------------------------------------------------------------------------------------
# The elementwise functions NumPy defines on complex numbers
# ---------------------------------------------------------------------------------------

UNARY = ["negative", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
         "arcsinh", "arccosh", "arctanh", "exp", "exp2", "expm1", "log", "log2", "log10",
         "log1p", "sqrt", "square", "reciprocal", "absolute", "sign", "conj", "real", "imag",
         "angle", "sinc", "isfinite", "isnan", "isinf"]
# Differentiable ones (sign and the predicates have no gradient).
DIFF_UNARY = [n for n in UNARY if n not in ("sign", "isfinite", "isnan", "isinf")]
BINARY = ["add", "subtract", "multiply", "divide", "power", "equal", "not_equal"]
REDUCTIONS = {"sum": lambda z: fnp.sum(z, axis=0), "prod": lambda z: fnp.prod(z, axis=-1),
              "mean": fnp.mean, "cumsum": lambda z: fnp.cumsum(z, axis=1),
              "cumprod": lambda z: fnp.cumprod(z, axis=0), "var": lambda z: fnp.var(z, axis=0),
              "std": lambda z: fnp.std(z, axis=1, ddof=1)}
NP_REDUCTIONS = {"sum": lambda z: np.sum(z, axis=0), "prod": lambda z: np.prod(z, axis=-1),
                 "mean": np.mean, "cumsum": lambda z: np.cumsum(z, axis=1),
                 "cumprod": lambda z: np.cumprod(z, axis=0), "var": lambda z: np.var(z, axis=0),
                 "std": lambda z: np.std(z, axis=1, ddof=1)}


@pytest.mark.parametrize("dtype", [C64, C128], ids=["c64", "c128"])
@pytest.mark.parametrize("name", UNARY)
def test_unary_forward_matches_numpy(name, dtype):
    z = crand(np.random.default_rng(0), (2, 3), dtype)
    f, ref = getattr(fnp, name), getattr(np, name)
    want = ref(z)
    assert_like_numpy(f(z), want, dtype, f"{name} (eager)")
    if name not in ("isfinite", "isnan", "isinf"):
        assert_like_numpy(traced(f)(z), want, dtype, f"{name} (traced)")


@pytest.mark.parametrize("dtype", [C64, C128], ids=["c64", "c128"])
@pytest.mark.parametrize("name", BINARY)
def test_binary_forward_matches_numpy(name, dtype):
    rng = np.random.default_rng(1)
    z, w = crand(rng, (2, 3), dtype), crand(rng, (3,), dtype)
    f, ref = getattr(fnp, name), getattr(np, name)
    assert_like_numpy(f(z, w), ref(z, w), dtype, f"{name} (eager)", scale=5)
    assert_like_numpy(traced(f)(z, w), ref(z, w), dtype, f"{name} (traced)", scale=5)
    # Python complex scalars are weakly typed, as in NumPy (complex64 stays complex64)
    assert_like_numpy(f(z, 0.5 - 1j), ref(z, 0.5 - 1j), dtype, f"{name} (scalar)", scale=5)
    assert_like_numpy(traced(lambda a: f(a, 0.5 - 1j))(z), ref(z, 0.5 - 1j), dtype,
                      f"{name} (traced, scalar)", scale=5)


@pytest.mark.parametrize("dtype", [C64, C128], ids=["c64", "c128"])
@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reductions_forward_match_numpy(name, dtype):
    z = crand(np.random.default_rng(2), (3, 4), dtype)
    want = NP_REDUCTIONS[name](z)
    assert_like_numpy(REDUCTIONS[name](z), want, dtype, name, scale=5)
    assert_like_numpy(traced(REDUCTIONS[name])(z), want, dtype, f"{name} (traced)", scale=5)


# ---------------------------------------------------------------------------------------
# Linear algebra
# ---------------------------------------------------------------------------------------


def _linalg_cases(rng, dtype):
    a, b = cmat(rng, 3, dtype), cmat(rng, 3, dtype)
    v, u = crand(rng, (3,), dtype), crand(rng, (3,), dtype)
    h = hermitian_pd(rng, 3, dtype)
    rect = crand(rng, (4, 3), dtype)
    L = fnp.linalg
    # name: (funcgrad function, NumPy function, arguments)
    return {
        "matmul": (fnp.matmul, np.matmul, (a, b)),
        "matmul_vec": (fnp.matmul, np.matmul, (a, v)),
        "dot": (fnp.dot, np.dot, (v, u)),
        "vdot": (fnp.vdot, np.vdot, (v, u)),
        "inner": (fnp.inner, np.inner, (a, v)),
        "outer": (fnp.outer, np.outer, (v, u)),
        "tensordot": (lambda x, y: fnp.tensordot(x, y, axes=([0], [1])),
                      lambda x, y: np.tensordot(x, y, axes=([0], [1])), (a, b)),
        "einsum": (lambda x, y: fnp.einsum("ij,kj->ik", x, y),
                   lambda x, y: np.einsum("ij,kj->ik", x, y), (a, b)),
        "trace": (fnp.trace, np.trace, (a,)),
        "kron": (fnp.kron, np.kron, (a[:2, :2], b[:2, :2])),
        "inv": (L.inv, np.linalg.inv, (a,)),
        "solve": (L.solve, np.linalg.solve, (a, b)),
        "solve_vec": (L.solve, np.linalg.solve, (a, v)),
        "det": (L.det, np.linalg.det, (a,)),
        "slogdet": (lambda x: tuple(L.slogdet(x)), lambda x: tuple(np.linalg.slogdet(x)), (a,)),
        "norm": (L.norm, np.linalg.norm, (a,)),
        "norm_vec": (L.norm, np.linalg.norm, (v,)),
        "norm_1": (lambda x: L.norm(x, 1), lambda x: np.linalg.norm(x, 1), (a,)),
        "norm_inf_vec": (lambda x: L.norm(x, np.inf), lambda x: np.linalg.norm(x, np.inf), (v,)),
        "norm_nuc": (lambda x: L.norm(x, "nuc"), lambda x: np.linalg.norm(x, "nuc"), (a,)),
        "matrix_power": (lambda x: L.matrix_power(x, 3), lambda x: np.linalg.matrix_power(x, 3),
                         (a,)),
        "matrix_power_neg": (lambda x: L.matrix_power(x, -2),
                             lambda x: np.linalg.matrix_power(x, -2), (a,)),
        "multi_dot": (lambda x, y: L.multi_dot([x, y, x]),
                      lambda x, y: np.linalg.multi_dot([x, y, x]), (a, b)),
        "pinv": (L.pinv, np.linalg.pinv, (rect,)),
        "cholesky": (L.cholesky, np.linalg.cholesky, (h,)),
        "qr": (lambda x: tuple(L.qr(x)), lambda x: tuple(np.linalg.qr(x)), (rect,)),
        "eigh": (lambda x: tuple(L.eigh(x)), lambda x: tuple(np.linalg.eigh(x)), (h,)),
        "eigvalsh": (L.eigvalsh, np.linalg.eigvalsh, (h,)),
        "svd": (lambda x: tuple(L.svd(x)), lambda x: tuple(np.linalg.svd(x)), (a,)),
        "svdvals": (L.svdvals, np.linalg.svdvals, (a,)),
        "cond": (L.cond, np.linalg.cond, (a,)),
        "lstsq": (lambda x, y: L.lstsq(x, y)[:2], lambda x, y: np.linalg.lstsq(x, y)[:2],
                  (rect, crand(rng, (4,), dtype))),
        "lstsq_square": (lambda x, y: L.lstsq(x, y)[:2],
                         lambda x, y: np.linalg.lstsq(x, y)[:2], (a, v)),
    }


LINALG = list(_linalg_cases(np.random.default_rng(0), C128))


@pytest.mark.parametrize("dtype", [C64, C128], ids=["c64", "c128"])
@pytest.mark.parametrize("name", LINALG)
def test_linalg_forward_matches_numpy(name, dtype):
    f, ref, args = _linalg_cases(np.random.default_rng(3), dtype)[name]
    want = ref(*args)
    scale = 50 if dtype == C64 else 100
    assert_like_numpy(f(*args), want, dtype, f"{name} (eager)", scale=scale)
    assert_like_numpy(traced(f)(*args), want, dtype, f"{name} (traced)", scale=scale)


# Linear-algebra functions differentiable on complex inputs (as functions of all arguments).
LINALG_GRAD = ["matmul", "matmul_vec", "dot", "vdot", "inner", "outer", "tensordot", "einsum",
               "trace", "kron", "inv", "solve", "solve_vec", "det", "slogdet", "norm",
               "norm_vec", "norm_1", "matrix_power", "matrix_power_neg", "multi_dot"]


@pytest.mark.parametrize("name", LINALG_GRAD)
def test_linalg_check_grads(name):
    f, _, args = _linalg_cases(np.random.default_rng(4), C128)[name]
    check_grads(f, args, order=2, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name", ["cholesky", "qr", "eigh", "svd", "svdvals", "pinv"])
def test_decompositions_without_complex_gradients_say_so(name):
    f, _, args = _linalg_cases(np.random.default_rng(5), C128)[name]

    def loss(x):
        return sum(fnp.sum(fnp.abs(o)) for o in tree_leaves(f(x)))

    with pytest.raises(NotImplementedError, match="complex"):
        fg.grad(loss)(args[0])


# ---------------------------------------------------------------------------------------
# Gradient checks on complex inputs (finite differences along real and imaginary parts)
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DIFF_UNARY)
def test_unary_check_grads(name):
    z = crand(np.random.default_rng(6), (2, 3))
    check_grads(getattr(fnp, name), (z,), order=2)


@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "divide", "power"])
def test_binary_check_grads(name):
    rng = np.random.default_rng(7)
    check_grads(getattr(fnp, name), (crand(rng, (2, 3)), crand(rng, (3,))), order=2)


@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reductions_check_grads(name):
    check_grads(REDUCTIONS[name], (crand(np.random.default_rng(8), (3, 4)),), order=2)
    if name in ("var", "std"):  # real-valued, as NumPy's: grad in JAX's convention
        z = crand(np.random.default_rng(8), (5,))
        c = z - z.mean()  # d sum|c|^2 = 2 Re(conj(c) dz) (sum(c) == 0): gradient 2 conj(c)
        if name == "var":
            np.testing.assert_allclose(fg.grad(fnp.var)(z), 2 * c.conj() / 5)
        else:
            s = np.sqrt(np.sum(abs(c) ** 2) / 4)
            np.testing.assert_allclose(fg.grad(lambda z: fnp.std(z, ddof=1))(z),
                                       2 * c.conj() / 4 / (2 * s))


NONHOLOMORPHIC = {
    "abs2": lambda z: fnp.abs(z) ** 2,
    "z_conj_z": lambda z: z * fnp.conj(z),
    "real_times_c": lambda z: fnp.real(z) * (1 + 2j),
    "imag_times_c": lambda z: fnp.imag(z) * (2 - 1j),
    "abs_times_c": lambda z: fnp.abs(z) * (0.5 + 1j),
    "angle_times_c": lambda z: fnp.exp(fnp.angle(z) * 1j) * z,
    "abs_in_holomorphic": lambda z: fnp.exp(fnp.abs(z) * z) + fnp.sin(fnp.imag(z) * z),
    "norm_times_z": lambda z: fnp.linalg.norm(z) * z,
    "sqrt_abs2": lambda z: fnp.sqrt(fnp.real(z * fnp.conj(z))),
    "where": lambda z: fnp.where(fnp.real(z) > 0, z, fnp.conj(z) * 2.0),
    "astype_complex": lambda z: fnp.real(z).astype(np.complex128) * (1 + 1j) + z,
}


@pytest.mark.parametrize("name", list(NONHOLOMORPHIC))
def test_non_holomorphic_check_grads(name):
    check_grads(NONHOLOMORPHIC[name], (crand(np.random.default_rng(9), (4,)),), order=2)


def test_slogdet_logabsdet_promoted_to_complex():
    # A real output of complex input (logabsdet, abs) multiplied by a complex number: its
    # cotangent is complex, and only its real part may reach the input.
    a = cmat(np.random.default_rng(10))
    check_grads(lambda x: fnp.linalg.slogdet(x).logabsdet * (1 - 2j), (a,), order=2)
    check_grads(lambda x: fnp.linalg.slogdet(x).sign * (1 - 2j), (a,), order=2)


def test_real_input_through_complex_intermediates():
    x = np.array([0.3, -0.7, 1.1])

    def f(x):
        z = x * (1 + 2j) + fnp.exp(1j * x)
        return fnp.sum(fnp.abs(z) ** 2 + fnp.real(fnp.log(z)) * fnp.imag(z))

    check_grads(f, (x,), order=2)
    check_grads(lambda x: fnp.exp(1j * x) * x, (x,), order=2)  # real in, complex out
    g = fg.grad(f)(x)
    assert g.dtype == np.float64
    # a complex constant mixed with a real input: the gradient is that of the real part
    np.testing.assert_allclose(fg.grad(lambda x: fnp.real(fnp.sum(x[:2] * (2 + 3j))))(x),
                               [2.0, 2.0, 0.0])


def test_mixed_real_and_complex_arguments():
    rng = np.random.default_rng(11)
    x, z = rng.normal(size=3), crand(rng, (3,))
    check_grads(lambda x, z: x * z + fnp.sin(x) / z, (x, z), order=2)
    check_grads(lambda x, z: fnp.sum(fnp.abs(x * z) ** 2), (x, z), order=2)
    # 0-d and Python scalars (float32/complex64: check_grads' loose defaults)
    check_grads(lambda x, z: x * fnp.exp(z), (np.array(0.5), np.array(1 - 1j)), order=2)
    check_grads(lambda x, z: x * z ** 2, (1.5, 0.5 + 1j), order=2)


# ---------------------------------------------------------------------------------------
# Closed forms: JAX's convention
# ---------------------------------------------------------------------------------------


def test_grad_of_abs_squared_is_twice_the_conjugate():
    z = np.array(3.0 + 4.0j)
    np.testing.assert_allclose(fg.grad(lambda z: fnp.abs(z) ** 2)(z), 6.0 - 8.0j)
    # JAX's autodiff cookbook: f = x**2 + y**2 at 3 + 4j gives 6 - 8j
    np.testing.assert_allclose(
        fg.grad(lambda z: fnp.real(z) ** 2 + fnp.imag(z) ** 2)(z), 6.0 - 8.0j)
    zs = crand(np.random.default_rng(12), (5,))
    np.testing.assert_allclose(fg.grad(lambda z: fnp.sum(fnp.abs(z) ** 2))(zs), 2 * zs.conj())
    np.testing.assert_allclose(fg.grad(lambda z: fnp.sum(fnp.real(z * fnp.conj(z))))(zs),
                               2 * zs.conj())


def test_grads_of_complex_parts():
    z = crand(np.random.default_rng(13), (4,))
    one = np.ones(4)
    np.testing.assert_allclose(fg.grad(lambda z: fnp.sum(fnp.real(z)))(z), one + 0j)
    np.testing.assert_allclose(fg.grad(lambda z: fnp.sum(fnp.imag(z)))(z), -1j * one)
    np.testing.assert_allclose(fg.grad(lambda z: fnp.sum(fnp.abs(z)))(z), z.conj() / abs(z))
    np.testing.assert_allclose(fg.grad(lambda z: fnp.sum(fnp.angle(z)))(z), -1j / z)
    # |z| has gradient 0 at 0 (JAX); forward mode gives a real zero tangent there
    assert fg.grad(fnp.abs)(np.array(0j)) == 0
    t = fg.jvp(fnp.abs, (np.array([0j, 3 + 4j]),), (np.array([1 + 1j, 1j]),))[1]
    assert t.dtype == np.float64
    np.testing.assert_allclose(t, [0.0, 0.8])


def test_holomorphic_grads_are_complex_derivatives():
    z = crand(np.random.default_rng(14), (4,))
    for f, df in [(lambda z: z ** 3, lambda z: 3 * z ** 2),
                  (fnp.exp, np.exp), (fnp.sin, np.cos), (fnp.log, lambda z: 1 / z),
                  (fnp.sqrt, lambda z: 0.5 / np.sqrt(z)),
                  (fnp.tanh, lambda z: 1 - np.tanh(z) ** 2),
                  (fnp.arccosh, lambda z: 1 / (np.sqrt(z - 1) * np.sqrt(z + 1))),
                  (lambda z: fnp.power(z, 2.5 - 1j), lambda z: (2.5 - 1j) * z ** (1.5 - 1j))]:
        for k in range(4):
            np.testing.assert_allclose(fg.grad(f, holomorphic=True)(z[k]), df(z[k]),
                                       rtol=1e-12)
        np.testing.assert_allclose(fg.vmap(fg.grad(f, holomorphic=True))(z), df(z), rtol=1e-12)
    # a second derivative: d^2/dz^2 z**3 = 6z
    d2 = fg.grad(fg.grad(lambda z: z ** 3, holomorphic=True), holomorphic=True)(z[0])
    np.testing.assert_allclose(d2, 6 * z[0])
    # holomorphic=True only permits complex outputs (JAX): for a non-holomorphic function the
    # result is the VJP at cotangent 1, the gradient of real(f): for conj, that of Re z, 1
    np.testing.assert_allclose(fg.grad(fnp.conj, holomorphic=True)(np.array(3 + 4j)), 1.0)


def test_jacfwd_equals_jacrev_for_holomorphic_functions():
    rng = np.random.default_rng(15)
    a = cmat(rng)
    z = crand(rng, (3,))

    def f(z):
        return fnp.sin(z) * z[::-1] + a @ fnp.exp(z) + fnp.linalg.inv(a + fnp.outer(z, z)) @ z

    jf = fg.jacfwd(f, holomorphic=True)(z)
    jr = fg.jacrev(f, holomorphic=True)(z)
    assert jf.shape == jr.shape == (3, 3) and jf.dtype == jr.dtype == C128
    np.testing.assert_allclose(jf, jr, rtol=1e-10, atol=1e-12)
    # against the closed form of a simpler function
    j = fg.jacfwd(lambda z: a @ (z ** 2), holomorphic=True)(z)
    np.testing.assert_allclose(j, a * (2 * z)[None, :])
    # Hessian of a holomorphic scalar function
    h = fg.hessian(lambda z: fnp.sum(z ** 3) + z[0] * z[1], holomorphic=True)(z)
    want = np.diag(6 * z)
    want[0, 1] = want[1, 0] = 1
    np.testing.assert_allclose(h, want, atol=1e-12)


def test_linalg_closed_forms():
    rng = np.random.default_rng(16)
    a = cmat(rng)
    ainv_t = np.linalg.inv(a).T
    np.testing.assert_allclose(fg.grad(fnp.linalg.det, holomorphic=True)(a),
                               np.linalg.det(a) * ainv_t)
    # log|det A| = Re(log det A): its gradient is A^-T (no conjugation; PyTorch: A^-H)
    np.testing.assert_allclose(fg.grad(lambda x: fnp.linalg.slogdet(x).logabsdet)(a), ainv_t)
    # d/dA sum(inv(A)) (holomorphic): -A^-T 1 1^T A^-T
    ones = np.ones((3, 3))
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(fnp.linalg.inv(x)),
                                       holomorphic=True)(a), -ainv_t @ ones @ ainv_t)
    b = crand(rng, (3,))
    np.testing.assert_allclose(fg.grad(lambda v: fnp.sum(a @ v), holomorphic=True)(b),
                               a.sum(axis=0))


# ---------------------------------------------------------------------------------------
# Errors, as JAX's
# ---------------------------------------------------------------------------------------


def test_complex_output_errors():
    z = np.array(1.0 + 2.0j)
    msg = (r"grad requires real-valued outputs \(output dtype that is a sub-dtype of "
           r"np.floating\), but got complex128. For holomorphic differentiation, pass "
           r"holomorphic=True. For differentiation of non-holomorphic functions involving "
           r"complex outputs, use vjp directly.")
    with pytest.raises(TypeError, match=msg):
        fg.grad(lambda z: z ** 2)(z)
    with pytest.raises(TypeError, match="value_and_grad requires real-valued outputs"):
        fg.value_and_grad(lambda z: z ** 2)(z)
    with pytest.raises(TypeError, match="grad requires real-valued outputs"):
        fg.grad(lambda x: x * 1j)(np.array(1.0))  # real input, complex output
    with pytest.raises(TypeError, match="grad with holomorphic=True requires inputs with "
                                        "complex dtype, but got float64"):
        fg.grad(lambda x: x * 1j, holomorphic=True)(np.array(1.0))
    with pytest.raises(TypeError, match="grad with holomorphic=True requires outputs with "
                                        "complex dtype, but got float64"):
        fg.grad(fnp.abs, holomorphic=True)(z)
    with pytest.raises(TypeError, match="jacrev requires real-valued outputs .* but got "
                                        "complex128. For holomorphic differentiation"):
        fg.jacrev(lambda z: z * 2)(np.array([z]))
    with pytest.raises(TypeError, match="jacrev with holomorphic=True requires outputs"):
        fg.jacrev(fnp.abs, holomorphic=True)(np.array([z]))
    with pytest.raises(TypeError, match="jacrev with holomorphic=True requires inputs"):
        fg.jacrev(lambda x: x * 1j, holomorphic=True)(np.ones(2))
    msg = (r"jacfwd requires real-valued inputs \(input dtype that is a sub-dtype of "
           r"np.floating\), but got complex128. For holomorphic differentiation, pass "
           r"holomorphic=True. For differentiation of non-holomorphic functions involving "
           r"complex inputs or integer inputs, use jvp directly.")
    with pytest.raises(TypeError, match=msg):
        fg.jacfwd(fnp.abs)(np.array([z]))
    with pytest.raises(TypeError, match="jacfwd with holomorphic=True requires inputs"):
        fg.jacfwd(lambda x: x * 1j, holomorphic=True)(np.ones(2))
    with pytest.raises(TypeError, match="jacfwd with holomorphic=True requires outputs"):
        fg.jacfwd(fnp.abs, holomorphic=True)(np.array([z]))
    with pytest.raises(TypeError, match="jacfwd requires real-valued inputs .* but got int32"):
        fg.jacfwd(lambda x: x * 2.0)(np.array([1], np.int32))


def test_what_works_without_holomorphic():
    z = crand(np.random.default_rng(17), (3,))
    # jacrev of a real-valued function of complex inputs: rows in grad's convention
    j = fg.jacrev(lambda z: fnp.abs(z) ** 2)(z)
    np.testing.assert_allclose(j, np.diag(2 * z.conj()))
    # jacfwd of a complex-valued function of real inputs: directional derivatives
    x = np.array([0.3, 0.5])
    np.testing.assert_allclose(fg.jacfwd(lambda x: fnp.exp(1j * x))(x),
                               np.diag(1j * np.exp(1j * x)))
    # vjp and jvp take anything
    y, pull = fg.vjp(lambda z: fnp.conj(z) * z[::-1], z)
    ct = crand(np.random.default_rng(18), (3,))
    (g,) = pull(ct)
    np.testing.assert_allclose(g, np.conj(ct * z[::-1]) + (ct * z.conj())[::-1])


# ---------------------------------------------------------------------------------------
# check_grads itself: the pairing, and what it catches
# ---------------------------------------------------------------------------------------


def test_check_vjp_accepts_the_transpose_and_rejects_the_adjoint():
    c = 0.5 + 2.0j
    z = crand(np.random.default_rng(19), (3,))

    def make(bwd_factor):
        f = fg.custom_vjp(lambda z: z * c)
        f.defvjp(lambda z: (z * c, None), lambda _, g: (g * bwd_factor,))
        return f

    check_vjp(make(c), (z,))                              # JAX's: the transpose
    with pytest.raises(AssertionError, match="VJP vs finite differences"):
        check_vjp(make(np.conj(c)), (z,))                 # PyTorch's: the adjoint


def test_check_grads_catches_a_holomorphic_rule_for_abs():
    f = fg.custom_jvp(lambda z: fnp.abs(z))
    # the rule a holomorphic function would have (funcgrad's abs before complex support)
    f.defjvp(lambda p, t: (fnp.abs(p[0]), t[0] * fnp.sign(p[0])))
    z = crand(np.random.default_rng(20), (3,))
    with pytest.raises(AssertionError, match="along real parts"):
        check_grads(f, (z,), order=1, modes=("fwd",))
    check_grads(fnp.abs, (z,), order=2)


# ---------------------------------------------------------------------------------------
# PyTorch: the conjugate convention
# ---------------------------------------------------------------------------------------


def _torch_cases():
    import torch

    T = torch
    return {
        "abs2": (lambda z: fnp.sum(fnp.abs(z) ** 2), lambda z: (z.abs() ** 2).sum(), "vec"),
        "abs": (lambda z: fnp.sum(fnp.abs(z)), lambda z: z.abs().sum(), "vec"),
        "angle": (lambda z: fnp.sum(fnp.angle(z)), lambda z: T.angle(z).sum(), "vec"),
        "mixed": (lambda z: fnp.sum(fnp.real(fnp.exp(z) * (1 + 2j)) + fnp.imag(fnp.sin(z))
                                    * fnp.abs(fnp.log(z))),
                  lambda z: (T.real(T.exp(z) * (1 + 2j)) + T.imag(T.sin(z))
                             * T.log(z).abs()).sum(), "vec"),
        "sqrt_tanh": (lambda z: fnp.sum(fnp.abs(fnp.sqrt(z) * fnp.tanh(z) / z ** 2)),
                      lambda z: (T.sqrt(z) * T.tanh(z) / z ** 2).abs().sum(), "vec"),
        "norm": (fnp.linalg.norm, T.linalg.norm, "vec"),
        "logabsdet": (lambda a: fnp.linalg.slogdet(a).logabsdet,
                      lambda a: T.linalg.slogdet(a)[1], "mat"),
        "real_det": (lambda a: fnp.real(fnp.linalg.det(a)), lambda a: T.linalg.det(a).real,
                     "mat"),
        "abs_inv": (lambda a: fnp.sum(fnp.abs(fnp.linalg.inv(a) @ a.T)),
                    lambda a: (T.linalg.inv(a) @ a.T).abs().sum(), "mat"),
        "solve": (lambda a: fnp.sum(fnp.imag(fnp.linalg.solve(a, a[:, 0] * 1j))),
                  lambda a: T.imag(T.linalg.solve(a, a[:, 0] * 1j)).sum(), "mat"),
    }


def _torch_arg(kind):
    rng = np.random.default_rng(21)
    return crand(rng, (4,)) if kind == "vec" else cmat(rng)


TORCH = ["abs2", "abs", "angle", "mixed", "sqrt_tanh", "norm", "logabsdet", "real_det",
         "abs_inv", "solve"]


@pytest.mark.parametrize("name", TORCH)
def test_torch_real_loss_grad_is_the_conjugate(name):
    torch = pytest.importorskip("torch")
    f, tf, kind = _torch_cases()[name]
    z = _torch_arg(kind)
    zt = torch.tensor(z, requires_grad=True)
    tf(zt).backward()
    np.testing.assert_allclose(np.conj(fg.grad(f)(z)), zt.grad.numpy(), rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize("name", ["exp_conj", "inv", "matmul_conj", "abs_c"])
def test_torch_vjp_and_jvp(name):
    torch = pytest.importorskip("torch")
    import torch.autograd.forward_ad as fwad

    T = torch
    rng = np.random.default_rng(22)
    a = cmat(rng)
    f, tf = {
        "exp_conj": (lambda z: fnp.exp(z) * fnp.conj(z), lambda z: T.exp(z) * T.conj(z)),
        "inv": (fnp.linalg.inv, T.linalg.inv),
        "matmul_conj": (lambda z: z @ fnp.conj(z).T + z, lambda z: z @ T.conj(z).T + z),
        "abs_c": (lambda z: fnp.abs(z) * (1 + 2j) + z, lambda z: z.abs() * (1 + 2j) + z),
    }[name]
    z = a
    y, pull = fg.vjp(f, z)
    v = crand(rng, y.shape)
    zt = torch.tensor(z, requires_grad=True)
    tf(zt).backward(torch.tensor(v))
    # PyTorch's backward(v) is conj(vjp(conj(v)))
    np.testing.assert_allclose(np.conj(pull(np.conj(v))[0]), zt.grad.numpy(), rtol=1e-10,
                               atol=1e-12)
    t = crand(rng, z.shape)
    _, t_out = fg.jvp(f, (z,), (t,))
    # forward mode: directional derivatives, no convention involved (torch's forward AD
    # scripts a helper on first use, which warns about torch.jit.script)
    with warnings.catch_warnings(), fwad.dual_level():
        warnings.simplefilter("ignore", DeprecationWarning)
        t_torch = fwad.unpack_dual(tf(fwad.make_dual(torch.tensor(z), torch.tensor(t)))).tangent
    np.testing.assert_allclose(t_out, t_torch.numpy(), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------------------
# dtypes: complex64 stays complex64
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DIFF_UNARY)
def test_complex64_stays_complex64_elementwise(name):
    f = getattr(fnp, name)
    z = crand(np.random.default_rng(23), (3,), C64)
    out = f(z)
    assert out.dtype == np.asarray(getattr(np, name)(z)).dtype
    y, t = fg.jvp(f, (z,), (z,))
    assert y.dtype == t.dtype == out.dtype, (y.dtype, t.dtype)
    (g,) = fg.vjp(f, z)[1](np.ones_like(out))
    assert g.dtype == C64
    g = fg.grad(lambda z: fnp.sum(fnp.real(f(z))))(z)
    assert g.dtype == C64
    if out.dtype == C64:
        assert fg.grad(f, holomorphic=True)(z[0]).dtype == C64
        assert fg.jacfwd(f, holomorphic=True)(z).dtype == C64
        assert fg.jacrev(f, holomorphic=True)(z).dtype == C64


@pytest.mark.parametrize("name", LINALG_GRAD)
def test_complex64_stays_complex64_linalg(name):
    f, _, args = _linalg_cases(np.random.default_rng(24), C64)[name]
    out = f(*args)
    y, t = fg.jvp(f, tuple(args), tuple(args))
    for o, a, b in zip(tree_leaves(out), tree_leaves(y), tree_leaves(t)):
        assert o.dtype == a.dtype == b.dtype, (o.dtype, a.dtype, b.dtype)
    grads = fg.vjp(f, *args)[1](tree_map(np.ones_like, out))
    assert all(g.dtype == C64 for g in grads)
