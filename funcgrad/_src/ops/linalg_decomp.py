"""``fnp.linalg``: inverses, solves, determinants and decompositions, differentiable.

Primitives (each with a VJP, a JVP and a batching rule; NumPy's ``linalg`` already
broadcasts over leading dimensions, so batching moves the batch dimension to the front):

* ``inv``, ``solve``, ``det``, ``slogdet``, ``pinv`` — the standard matrix-calculus
  formulas, e.g. ``d inv(A) = -inv(A) dA inv(A)``;
* ``cholesky``, ``qr``, ``eigh``, ``svd`` — the JVP rules of JAX (Murray 2016 for Cholesky;
  Walter & Lehmann for QR; Giles 2008 for eigh; Townsend 2016 for the SVD) and the VJPs
  that are their transposes.

Conventions. ``cholesky`` and ``eigh`` read one triangle of their input (as NumPy and
LAPACK do); their derivatives are those of the function of the *symmetrised* input
``(A + A^T) / 2``, so the gradient is symmetric (as in JAX and PyTorch). Gradients of the
eigenvectors and singular vectors need distinct eigen/singular values; where values
coincide the ill-defined terms are set to 0 rather than producing inf or NaN (so
``eigvalsh`` and ``svd(..., compute_uv=False)`` have finite gradients everywhere).
``inv``, ``solve``, ``det`` and ``slogdet`` (and the composites built on them and on
``matmul``) are differentiable for complex inputs too, with JAX's convention (VJPs are
transposes, not adjoints: ``grad`` of ``real(det(A))`` is ``det(A) inv(A)^T``, no
conjugation; see :mod:`funcgrad._src.ops.complex_ops`). The other decompositions'
gradients are implemented for real inputs; complex inputs evaluate but raise
``NotImplementedError`` when differentiated.

Everything else (``norm``, ``matrix_power``, ``lstsq``, ``multi_dot``, ``eigvalsh``,
``matrix_rank``, ``cond``, ...) is a composite of these and the core ops.
"""

from __future__ import annotations

import builtins
import operator
from typing import NamedTuple

import numpy as np

from funcgrad._src import backend
from funcgrad._src.backend import xp_of
from funcgrad._src.core import ConcretizationTypeError, Primitive, Tracer, bind, concrete_value
from funcgrad._src.ops import elementwise as ew
from funcgrad._src.ops import misc
from funcgrad._src.ops.complex_ops import conj, real, real_cotangent
from funcgrad._src.ops.linalg import matmul
from funcgrad._src.ops.reductions import max as _max
from funcgrad._src.ops.reductions import min as _min
from funcgrad._src.ops.reductions import normalize_axes
from funcgrad._src.ops.reductions import sum as _sum
from funcgrad._src.ops.shape import broadcast_to, moveaxis, reshape, swapaxes

#: NumPy's exception class itself, so ``except np.linalg.LinAlgError`` clauses match.
LinAlgError = np.linalg.LinAlgError


def _arr(x):
    return x if isinstance(x, Tracer) else backend.canonicalize(x)


def _inexact(x):
    x = _arr(x)
    if x.dtype.kind not in "fc":
        x = misc.convert_element_type(x, backend.default_float())
    return x


def _T(x):
    return swapaxes(x, -1, -2)


def _sym(x):
    return ew.multiply(ew.add(x, _T(x)), 0.5)


def _eye_like(x):
    return np.eye(x.shape[-1], dtype=x.dtype)


def _tr(x):
    """Trace over the last two axes."""
    return _sum(ew.multiply(x, _eye_like(x)), axis=(-2, -1))


def _diag_embed(v):
    """Batched diagonal matrices from vectors ``(..., n)``."""
    return ew.multiply(reshape(v, tuple(v.shape) + (1,)), np.eye(v.shape[-1], dtype=v.dtype))


def _diag_part(x):
    return _sum(ew.multiply(x, _eye_like(x)), axis=-1)


def _tril_mask(n, k, dtype):
    return np.tri(n, n, k, dtype=dtype)


def _safe_recip(d):
    """``1 / d`` where ``d != 0``, else 0 (used for eigen/singular value gaps)."""
    zero = ew.equal(d, 0)
    return ew.where(zero, np.zeros((), d.dtype), ew.reciprocal(ew.where(zero, 1, d)))


def _real_only(name, x):
    if x.dtype.kind == "c":
        raise NotImplementedError(f"linalg.{name}: derivatives of complex inputs are not "
                                  "implemented")


def _square(name, x):
    if x.ndim < 2:
        raise LinAlgError(f"{x.ndim}-dimensional array given. Array must be at least "
                          "two-dimensional")
    if x.shape[-1] != x.shape[-2]:
        raise LinAlgError("Last 2 dimensions of the array must be square")


def _front_batch(prim):
    def rule(axis_size, args, dims, **params):
        from funcgrad._src.batching import move_bdim

        moved = [move_bdim(a, d, 0, axis_size) for a, d in zip(args, dims)]
        out = bind(prim, *moved, **params)
        return out, ([0] * len(out) if prim.multiple_results else 0)

    return rule


def _np_linalg(x):
    xp = xp_of(x)
    return xp.linalg


# ---------------------------------------------------------------------------------------
# inv, solve
# ---------------------------------------------------------------------------------------


def _inv_vjp(g, ans, x):
    ait = _T(ans)
    return ew.negative(matmul(matmul(ait, g), ait))


def _inv_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    ans = bind(inv_p, x)
    if t is None:
        return ans, None
    return ans, ew.negative(matmul(matmul(ans, t), ans))


inv_p = Primitive("inv", lambda x: _np_linalg(x).inv(x), vjp=(_inv_vjp,), jvp=_inv_jvp)
inv_p.batch = _front_batch(inv_p)


def inv(a):
    """Inverse of a (stack of) square matrices (``numpy.linalg.inv``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.linalg.inv(fnp.array([[2.0, 0.0], [0.0, 4.0]]))
    array([[0.5 , 0.  ],
           [0.  , 0.25]], dtype=float32)
    """
    a = _inexact(a)
    _square("inv", a)
    return bind(inv_p, a)


def _solve_vjp(g, ans, a, b, *, needs):
    gb = bind(solve_p, _T(a), g)
    ga = ew.negative(matmul(gb, _T(ans))) if 0 in needs else None
    return ga, gb if 1 in needs else None


def _solve_jvp(primals, tangents):
    a, b = primals
    ta, tb = tangents
    ans = bind(solve_p, a, b)
    if ta is None and tb is None:
        return ans, None
    rhs = tb
    if ta is not None:
        da = matmul(ta, ans)
        rhs = ew.negative(da) if rhs is None else ew.subtract(rhs, da)
    return ans, bind(solve_p, a, rhs)


solve_p = Primitive("solve", lambda a, b: _np_linalg(a).solve(a, b), vjp=_solve_vjp,
                    jvp=_solve_jvp)
solve_p.batch = _front_batch(solve_p)


def solve(a, b):
    """Solve ``a @ x = b`` (``numpy.linalg.solve``): ``b`` is a vector if 1-D, else a
    (stack of) matrices ``(..., M, K)``; leading dimensions broadcast.

    >>> import funcgrad.numpy as fnp
    >>> fnp.linalg.solve(fnp.array([[2.0, 0.0], [0.0, 4.0]]), fnp.array([1.0, 1.0]))
    array([0.5 , 0.25], dtype=float32)
    """
    a, b = _inexact(a), _inexact(b)
    _square("solve", a)
    if a.dtype != b.dtype:
        dt = np.result_type(a.dtype, b.dtype)
        a, b = misc.convert_element_type(a, dt), misc.convert_element_type(b, dt)
    vec = b.ndim == 1
    if vec:
        b = reshape(b, (b.shape[0], 1))
    if b.shape[-2] != a.shape[-1]:
        raise ValueError(f"solve: a of shape {tuple(a.shape)} and b of shape "
                         f"{tuple(b.shape)} are incompatible")
    lead = np.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2]))
    a = broadcast_to(a, lead + tuple(a.shape[-2:]))
    b = broadcast_to(b, lead + tuple(b.shape[-2:]))
    x = bind(solve_p, a, b)
    return reshape(x, tuple(x.shape[:-1])) if vec else x


# ---------------------------------------------------------------------------------------
# det, slogdet
# ---------------------------------------------------------------------------------------


def _scalar_to_mat(s):
    return reshape(s, tuple(s.shape) + (1, 1))


def _det_impl(x):
    return np.asarray(_np_linalg(x).det(x))


def _det_vjp(g, ans, x):
    # holomorphic: d det = det tr(A^-1 dA); the transpose (no conjugation) g det A^-T
    return ew.multiply(_scalar_to_mat(ew.multiply(g, ans)), _T(bind(inv_p, x)))


def _det_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    ans = bind(det_p, x)
    if t is None:
        return ans, None
    return ans, ew.multiply(ans, _tr(bind(solve_p, x, t)))


det_p = Primitive("det", _det_impl, vjp=(_det_vjp,), jvp=_det_jvp)
det_p.batch = _front_batch(det_p)


def det(a):
    """Determinant (``numpy.linalg.det``). Its gradient ``det(A) inv(A)^T`` needs an
    invertible matrix.

    >>> import funcgrad.numpy as fnp
    >>> fnp.linalg.det(fnp.array([[2.0, 1.0], [1.0, 3.0]]))
    array(5., dtype=float32)
    """
    a = _inexact(a)
    _square("det", a)
    return bind(det_p, a)


class SlogdetResult(NamedTuple):
    sign: object
    logabsdet: object


def _slogdet_impl(x):
    s, l = _np_linalg(x).slogdet(x)  # noqa: E741
    return np.asarray(s), np.asarray(l)


def _imag(x):
    from funcgrad._src.ops.more_numpy import imag

    return imag(x)


# With T = tr(A^-1 dA): d logabsdet = Re(T); for complex A, sign = det / |det| moves too,
# d sign = 1j Im(T) sign (for real A it is piecewise constant). The VJP is the transpose
# (JAX's convention, no conjugation): (Re(g_logdet) + 1j Im(g_sign sign)) A^-T.
def _slogdet_vjp(g, ans, x):
    gs, gl = g
    c = real_cotangent(gl)
    if x.dtype.kind == "c":
        c = ew.add(c, ew.multiply(_imag(ew.multiply(gs, ans[0])), 1j))
    return ew.multiply(_scalar_to_mat(c), _T(bind(inv_p, x)))


def _slogdet_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    sign, logdet = bind(slogdet_p, x)
    if t is None:
        return (sign, logdet), (None, None)
    tr = _tr(bind(solve_p, x, t))
    if x.dtype.kind != "c":
        return (sign, logdet), (None, tr)
    return (sign, logdet), (ew.multiply(ew.multiply(_imag(tr), 1j), sign), real(tr))


slogdet_p = Primitive("slogdet", _slogdet_impl, vjp=(_slogdet_vjp,), jvp=_slogdet_jvp,
                      multiple_results=True)
slogdet_p.batch = _front_batch(slogdet_p)


def slogdet(a):
    """Sign and ``log|det|`` (``numpy.linalg.slogdet``), a named tuple ``(sign,
    logabsdet)``; ``logabsdet`` is differentiable, and ``sign`` for complex input
    (``det / |det|``; for real input it is piecewise constant: zero derivative).

    >>> import funcgrad.numpy as fnp
    >>> fnp.linalg.slogdet(fnp.array([[-2.0, 0.0], [0.0, 1.0]])).sign
    array(-1., dtype=float32)
    """
    a = _inexact(a)
    _square("slogdet", a)
    return SlogdetResult(*bind(slogdet_p, a))


# ---------------------------------------------------------------------------------------
# cholesky
# ---------------------------------------------------------------------------------------


def _phi(x):
    """Lower triangle with the diagonal halved."""
    n = x.shape[-1]
    return ew.multiply(x, _tril_mask(n, -1, x.dtype) + 0.5 * np.eye(n, dtype=x.dtype))


def _cholesky_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    L = bind(cholesky_p, x)
    if t is None:
        return L, None
    _real_only("cholesky", x)
    linv_t = bind(solve_p, L, _sym(t))                    # L^-1 dA
    s = _T(bind(solve_p, L, _T(linv_t)))                  # L^-1 dA L^-T
    return L, matmul(L, _phi(s))


def _cholesky_vjp(g, L, x):
    _real_only("cholesky", x)
    p = _phi(matmul(_T(L), g))
    lt = _T(L)
    y = bind(solve_p, lt, p)                              # L^-T P
    return _sym(_T(bind(solve_p, lt, _T(y))))             # L^-T P L^-1


cholesky_p = Primitive("cholesky", lambda x: _np_linalg(x).cholesky(x),
                       vjp=(_cholesky_vjp,), jvp=_cholesky_jvp)
cholesky_p.batch = _front_batch(cholesky_p)


def cholesky(a, /, *, upper=False):
    """Cholesky factor of a symmetric positive-definite matrix (``numpy.linalg.cholesky``):
    lower-triangular ``L`` with ``a = L L^T`` (or ``L^T`` with ``upper=True``).

    Only the lower triangle of ``a`` is read; the gradient is that of the function of
    ``(a + a^T) / 2`` (symmetric).

    >>> import funcgrad.numpy as fnp
    >>> fnp.linalg.cholesky(fnp.array([[4.0, 2.0], [2.0, 2.0]]))
    array([[2., 0.],
           [1., 1.]], dtype=float32)
    """
    a = _inexact(a)
    _square("cholesky", a)
    L = bind(cholesky_p, a)
    return conj(_T(L)) if upper else L


# ---------------------------------------------------------------------------------------
# qr
# ---------------------------------------------------------------------------------------


class QRResult(NamedTuple):
    Q: object
    R: object


def _qr_impl(x, *, full_matrices):
    q, r = _np_linalg(x).qr(x, mode="complete" if full_matrices else "reduced")
    return q, r


def _qr_check(x, full_matrices):
    _real_only("qr", x)
    m, n = x.shape[-2:]
    if m < n or (full_matrices and m != n):
        raise NotImplementedError("linalg.qr: derivatives are implemented for mode='reduced' "
                                  "(or 'r') with M >= N only")


def _qr_jvp(primals, tangents, *, full_matrices):
    (x,), (t,) = primals, tangents
    q, r = bind(qr_p, x, full_matrices=full_matrices)
    if t is None:
        return (q, r), (None, None)
    _qr_check(x, full_matrices)
    n = x.shape[-1]
    c = _T(bind(solve_p, _T(r), _T(t)))                   # dA R^-1
    b = matmul(_T(q), c)
    bl = ew.multiply(b, _tril_mask(n, -1, b.dtype))
    do = ew.subtract(bl, _T(bl))
    dq = ew.add(matmul(q, ew.subtract(do, b)), c)
    dr = matmul(ew.subtract(b, do), r)
    return (q, r), (dq, dr)


def _qr_vjp(g, ans, x, *, full_matrices):
    _qr_check(x, full_matrices)
    gq, gr = g
    q, r = ans
    n = x.shape[-1]
    xm = ew.subtract(matmul(_T(q), gq), matmul(gr, _T(r)))
    y = ew.subtract(ew.multiply(ew.subtract(xm, _T(xm)), _tril_mask(n, -1, xm.dtype)), xm)
    m = ew.add(gq, matmul(q, y))
    return _T(bind(solve_p, r, _T(m)))                    # M R^-T


qr_p = Primitive("qr", _qr_impl, vjp=(_qr_vjp,), jvp=_qr_jvp, multiple_results=True)
qr_p.batch = _front_batch(qr_p)


def qr(a, mode="reduced"):
    """QR decomposition (``numpy.linalg.qr``): a named tuple ``(Q, R)``, or ``R`` alone for
    ``mode="r"``. Differentiable for ``mode="reduced"``/``"r"`` with ``M >= N``.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> q, r = fnp.linalg.qr(fnp.array([[3.0, 1.0], [4.0, 2.0]]))
    >>> bool(np.allclose(q @ r, [[3.0, 1.0], [4.0, 2.0]]))
    True
    """
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"qr: unrecognized mode {mode!r} (supported: 'reduced', 'complete', "
                         "'r')")
    a = _inexact(a)
    if a.ndim < 2:
        raise LinAlgError(f"{a.ndim}-dimensional array given. Array must be at least "
                          "two-dimensional")
    q, r = bind(qr_p, a, full_matrices=mode == "complete")
    return r if mode == "r" else QRResult(q, r)


# ---------------------------------------------------------------------------------------
# eigh
# ---------------------------------------------------------------------------------------


class EighResult(NamedTuple):
    eigenvalues: object
    eigenvectors: object


def _eigh_impl(x, *, UPLO):
    w, v = _np_linalg(x).eigh(x, UPLO=UPLO)
    return w, v


def _gap_matrix(w):
    """``F[i, j] = 1 / (w_j - w_i)`` off the diagonal, 0 on it and for equal values."""
    d = ew.subtract(reshape(w, tuple(w.shape[:-1]) + (1, w.shape[-1])),
                    reshape(w, tuple(w.shape) + (1,)))
    return _safe_recip(d)


def _eigh_jvp(primals, tangents, *, UPLO):
    (x,), (t,) = primals, tangents
    w, v = bind(eigh_p, x, UPLO=UPLO)
    if t is None:
        return (w, v), (None, None)
    _real_only("eigh", x)
    vsv = matmul(matmul(_T(v), _sym(t)), v)
    dw = _diag_part(vsv)
    dv = matmul(v, ew.multiply(_gap_matrix(w), vsv))
    return (w, v), (dw, dv)


def _eigh_vjp(g, ans, x, *, UPLO):
    _real_only("eigh", x)
    gw, gv = g
    w, v = ans
    inner = ew.add(_diag_embed(gw), ew.multiply(_gap_matrix(w), matmul(_T(v), gv)))
    return _sym(matmul(matmul(v, inner), _T(v)))


eigh_p = Primitive("eigh", _eigh_impl, vjp=(_eigh_vjp,), jvp=_eigh_jvp, multiple_results=True)
eigh_p.batch = _front_batch(eigh_p)


def eigh(a, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix
    (``numpy.linalg.eigh``), a named tuple ``(eigenvalues, eigenvectors)``.

    Reads the ``UPLO`` triangle; gradients are those of the function of the symmetrised
    input, and need distinct eigenvalues for the eigenvectors.

    >>> import funcgrad.numpy as fnp
    >>> fnp.linalg.eigh(fnp.array([[2.0, 0.0], [0.0, 1.0]])).eigenvalues
    array([1., 2.], dtype=float32)
    """
    if UPLO not in ("L", "U"):
        raise ValueError("eigh: UPLO argument must be 'L' or 'U'")
    a = _inexact(a)
    _square("eigh", a)
    return EighResult(*bind(eigh_p, a, UPLO=UPLO))


def eigvalsh(a, UPLO="L"):
    """Eigenvalues of a symmetric matrix, ascending (``numpy.linalg.eigvalsh``); the gradient
    ``V diag(g) V^T`` is finite even for repeated eigenvalues.

    >>> import funcgrad.numpy as fnp
    >>> fnp.linalg.eigvalsh(fnp.array([[2.0, 1.0], [1.0, 2.0]]))
    array([1., 3.], dtype=float32)
    """
    a = _inexact(a)
    if not isinstance(a, Tracer):
        _square("eigvalsh", a)
        return _np_linalg(a).eigvalsh(a, UPLO=UPLO)
    return eigh(a, UPLO).eigenvalues


# ---------------------------------------------------------------------------------------
# svd
# ---------------------------------------------------------------------------------------


class SVDResult(NamedTuple):
    U: object
    S: object
    Vh: object


def _svd_impl(x, *, full_matrices):
    u, s, vh = _np_linalg(x).svd(x, full_matrices=full_matrices)
    return u, s, vh


def _svd_check(x, full_matrices):
    _real_only("svd", x)
    m, n = x.shape[-2:]
    if full_matrices and m != n:
        raise NotImplementedError("linalg.svd: derivatives of non-square matrices need "
                                  "full_matrices=False (the extra singular vectors are not "
                                  "unique)")


def _svd_factors(s):
    """``F[i, j] = 1 / (s_j^2 - s_i^2)`` (0 where equal) and ``1 / s`` (0 where s == 0)."""
    s2 = ew.square(s)
    return _gap_matrix(s2), _safe_recip(s)


def _row(v):
    return reshape(v, tuple(v.shape[:-1]) + (1, v.shape[-1]))


def _col(v):
    return reshape(v, tuple(v.shape) + (1,))


def _svd_jvp(primals, tangents, *, full_matrices):
    (x,), (t,) = primals, tangents
    u, s, vh = bind(svd_p, x, full_matrices=full_matrices)
    if t is None:
        return (u, s, vh), (None, None, None)
    _svd_check(x, full_matrices)
    v = _T(vh)
    ds_mat = matmul(matmul(_T(u), t), v)
    ds = _diag_part(ds_mat)
    f, s_inv = _svd_factors(s)
    dss = ew.multiply(_row(s), ds_mat)
    sds = ew.multiply(_col(s), ds_mat)
    du = matmul(u, ew.multiply(f, ew.add(dss, _T(dss))))
    dv = matmul(v, ew.multiply(f, ew.add(sds, _T(sds))))
    m, n = x.shape[-2:]
    if m > n:
        dav = matmul(t, v)
        du = ew.add(du, ew.multiply(ew.subtract(dav, matmul(u, matmul(_T(u), dav))),
                                    _row(s_inv)))
    if n > m:
        dau = matmul(_T(t), u)
        dv = ew.add(dv, ew.multiply(ew.subtract(dau, matmul(v, matmul(vh, dau))),
                                    _row(s_inv)))
    return (u, s, vh), (du, ds, _T(dv))


def _svd_vjp(g, ans, x, *, full_matrices):
    _svd_check(x, full_matrices)
    gu, gs, gvh = g
    u, s, vh = ans
    v = _T(vh)
    gv = _T(gvh)
    f, s_inv = _svd_factors(s)
    ut_gu = matmul(_T(u), gu)
    vt_gv = matmul(_T(v), gv)
    j = ew.multiply(f, ew.subtract(ut_gu, _T(ut_gu)))
    k = ew.multiply(f, ew.subtract(vt_gv, _T(vt_gv)))
    inner = ew.add(ew.add(ew.multiply(j, _row(s)), _diag_embed(gs)), ew.multiply(_col(s), k))
    out = matmul(matmul(u, inner), vh)
    m, n = x.shape[-2:]
    if m > n:
        proj = ew.subtract(gu, matmul(u, ut_gu))
        out = ew.add(out, matmul(ew.multiply(proj, _row(s_inv)), vh))
    if n > m:
        proj = ew.subtract(_T(gv), matmul(_T(vt_gv), vh))  # gV^T (I - V V^T)
        out = ew.add(out, matmul(u, ew.multiply(_col(s_inv), proj)))
    return out


svd_p = Primitive("svd", _svd_impl, vjp=(_svd_vjp,), jvp=_svd_jvp, multiple_results=True)
svd_p.batch = _front_batch(svd_p)


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """Singular value decomposition (``numpy.linalg.svd``): a named tuple ``(U, S, Vh)``,
    or ``S`` alone with ``compute_uv=False``.

    Gradients of ``U`` and ``Vh`` need distinct singular values and, for non-square
    input, ``full_matrices=False``. The singular values alone are differentiable
    everywhere (finite gradient ``U diag(g) Vh``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.linalg.svd(fnp.array([[3.0, 0.0], [0.0, -2.0]]), compute_uv=False)
    array([3., 2.], dtype=float32)
    """
    a = _inexact(a)
    if a.ndim < 2:
        raise LinAlgError(f"{a.ndim}-dimensional array given. Array must be at least "
                          "two-dimensional")
    if not compute_uv:
        if not isinstance(a, Tracer):
            return _np_linalg(a).svd(a, compute_uv=False, hermitian=hermitian)
        return bind(svd_p, a, full_matrices=False)[1]
    return SVDResult(*bind(svd_p, a, full_matrices=bool(full_matrices)))


def svdvals(x, /):
    """Singular values, descending (``numpy.linalg.svdvals``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.linalg.svdvals(fnp.eye(2))
    array([1., 1.], dtype=float32)
    """
    return svd(x, compute_uv=False)


# ---------------------------------------------------------------------------------------
# pinv
# ---------------------------------------------------------------------------------------


def _pinv_impl(x, *, rcond, hermitian):
    return _np_linalg(x).pinv(x, rcond=rcond, hermitian=hermitian)


def _pinv_jvp(primals, tangents, *, rcond, hermitian):
    (a,), (t,) = primals, tangents
    p = bind(pinv_p, a, rcond=rcond, hermitian=hermitian)
    if t is None:
        return p, None
    _real_only("pinv", a)
    m, n = a.shape[-2:]
    ap = ew.subtract(np.eye(m, dtype=p.dtype), matmul(a, p))    # I - A P   (m x m)
    pa = ew.subtract(np.eye(n, dtype=p.dtype), matmul(p, a))    # I - P A   (n x n)
    tt = _T(t)
    d = ew.negative(matmul(matmul(p, t), p))
    d = ew.add(d, matmul(matmul(matmul(p, _T(p)), tt), ap))
    d = ew.add(d, matmul(matmul(pa, tt), matmul(_T(p), p)))
    return p, d


def _pinv_vjp(g, p, a, *, rcond, hermitian):
    _real_only("pinv", a)
    m, n = a.shape[-2:]
    ap = ew.subtract(np.eye(m, dtype=p.dtype), matmul(a, p))
    pa = ew.subtract(np.eye(n, dtype=p.dtype), matmul(p, a))
    pt = _T(p)
    gt = _T(g)
    out = ew.negative(matmul(matmul(pt, g), pt))
    out = ew.add(out, matmul(matmul(ap, gt), matmul(p, pt)))
    out = ew.add(out, matmul(matmul(matmul(pt, p), gt), pa))
    return out


pinv_p = Primitive("pinv", _pinv_impl, vjp=(_pinv_vjp,), jvp=_pinv_jvp)
pinv_p.batch = _front_batch(pinv_p)


def pinv(a, rcond=None, hermitian=False, *, rtol=None):
    """Moore-Penrose pseudo-inverse (``numpy.linalg.pinv``); singular values up to
    ``rcond`` (default ``1e-15``; ``rtol`` is its Array API name) times the largest are
    dropped. The gradient (Golub & Pereyra) is valid where the rank is locally constant.

    >>> import funcgrad.numpy as fnp
    >>> fnp.linalg.pinv(fnp.array([[2.0, 0.0], [0.0, 0.0]]))
    array([[0.5, 0. ],
           [0. , 0. ]], dtype=float32)
    """
    if rcond is not None and rtol is not None:
        raise ValueError("pinv: `rtol` and `rcond` can't be both set.")
    cut = rtol if rcond is None else rcond
    if isinstance(cut, Tracer):
        raise NotImplementedError("pinv: rcond must be static")
    cut = 1e-15 if cut is None else float(np.asarray(cut))
    a = _inexact(a)
    if a.ndim < 2:
        raise LinAlgError(f"{a.ndim}-dimensional array given. Array must be at least "
                          "two-dimensional")
    return bind(pinv_p, a, rcond=cut, hermitian=bool(hermitian))


# ---------------------------------------------------------------------------------------
# Composites: norm, matrix_power, lstsq, multi_dot, matrix_rank, cond
# ---------------------------------------------------------------------------------------


def _abs2(x):
    return real(ew.multiply(x, conj(x))) if x.dtype.kind == "c" else ew.square(x)


def _safe_root(s, p=2.0):
    """``s ** (1/p)`` with value and gradient 0 at ``s == 0`` (a subgradient, never NaN)."""
    zero = ew.equal(s, 0)
    safe = ew.where(zero, np.ones((), s.dtype), s)
    # NOTE: exponents as arrays of the input's dtype, so derivatives stay in that precision.
    r = ew.sqrt(safe) if p == 2.0 else ew.power(safe, np.asarray(1.0 / p, s.dtype))
    return ew.where(zero, np.zeros((), s.dtype), r)


def _vector_norm(x, order, axis, keepdims):
    if order is None or order == 2:
        return _safe_root(_sum(_abs2(x), axis=axis, keepdims=keepdims))
    ax = ew.absolute(x)
    if order == np.inf:
        return _max(ax, axis=axis, keepdims=keepdims)
    if order == -np.inf:
        return _min(ax, axis=axis, keepdims=keepdims)
    if order == 0:
        return _sum(ew.not_equal(x, 0).astype(ax.dtype), axis=axis, keepdims=keepdims)
    if order == 1:
        return _sum(ax, axis=axis, keepdims=keepdims)
    if isinstance(order, str):
        raise ValueError(f"norm: Invalid norm order '{order}' for vectors")
    order = float(order)
    p = np.asarray(order, ax.dtype)
    if order > 0:
        return _safe_root(_sum(ew.power(ax, p), axis=axis, keepdims=keepdims), order)
    return ew.power(_sum(ew.power(ax, p), axis=axis, keepdims=keepdims),
                    np.asarray(1.0 / order, ax.dtype))


def _matrix_norm(x, order, axes, keepdims):
    r0, c0 = axes
    if order in (None, "fro", "f"):
        out = _safe_root(_sum(_abs2(x), axis=axes, keepdims=keepdims))
        return out
    if order in (2, -2, "nuc"):
        y = moveaxis(x, (r0, c0), (-2, -1))
        s = svd(y, compute_uv=False)
        out = _sum(s, axis=-1) if order == "nuc" else (
            _max(s, axis=-1) if order == 2 else _min(s, axis=-1))
    elif order in (1, -1, np.inf, -np.inf):
        ax = ew.absolute(x)
        if order in (1, -1):
            sums = _sum(ax, axis=r0, keepdims=True)
        else:
            sums = _sum(ax, axis=c0, keepdims=True)
        red = c0 if order in (1, -1) else r0
        out = (_max if order in (1, np.inf) else _min)(sums, axis=red, keepdims=True)
        out = reshape(out, tuple(s for i, s in enumerate(out.shape) if i not in axes))
    else:
        raise ValueError(f"norm: Invalid norm order {order!r} for matrices")
    if keepdims:
        shape = [1 if i in axes else s for i, s in enumerate(x.shape)]
        out = reshape(out, tuple(shape))
    return out


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002  (NumPy's name)
    """Vector or matrix norm (``numpy.linalg.norm``), with NumPy's ``ord``, ``axis`` and
    ``keepdims`` semantics: vector orders ``None``/2, ``inf``, ``-inf``, 0, 1 and any
    ``p``; matrix orders ``"fro"``, ``"nuc"``, ``inf``, ``-inf``, 1, -1, 2, -2.

    The 2-norm, Frobenius norm and ``p``-norms (``p > 0``) have gradient 0 at the zero
    vector (a subgradient), never NaN.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> fnp.linalg.norm(fnp.array([3.0, 4.0]))
    array(5., dtype=float32)
    >>> fg.grad(fnp.linalg.norm)(fnp.zeros(2))
    array([0., 0.], dtype=float32)
    """
    x = _inexact(x)
    nd = x.ndim
    if axis is None:
        if ord is None:
            out = _safe_root(_sum(_abs2(x)))
            return reshape(out, (1,) * nd) if keepdims else out
        if nd == 1:
            return _vector_norm(x, ord, (0,), keepdims)
        if nd == 2:
            return _matrix_norm(x, ord, (0, 1), keepdims)
        raise ValueError("norm: Improper number of dimensions to norm.")
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if len(axes) == 1:
        return _vector_norm(x, ord, normalize_axes(axes, nd, "norm"), keepdims)
    if len(axes) == 2:
        a0, a1 = (operator.index(a) % builtins.max(nd, 1) for a in axes)
        if a0 == a1:
            raise ValueError("norm: Duplicate axes given.")
        return _matrix_norm(x, ord, (a0, a1), keepdims)
    raise ValueError("norm: Improper number of dimensions to norm.")


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):  # noqa: A002
    """Vector norm over ``axis`` (all axes when ``None``) (``numpy.linalg.vector_norm``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.linalg.vector_norm(fnp.ones((2, 2)))
    array(2., dtype=float32)
    """
    x = _inexact(x)
    axes = normalize_axes(axis, x.ndim, "vector_norm")
    return _vector_norm(x, ord, axes, keepdims)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):  # noqa: A002
    """Matrix norm over the last two axes (``numpy.linalg.matrix_norm``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.linalg.matrix_norm(fnp.eye(2), ord=2)
    array(1., dtype=float32)
    """
    x = _inexact(x)
    return _matrix_norm(x, ord, (x.ndim - 2, x.ndim - 1), keepdims)


def matrix_power(a, n):
    """Integer power of a square matrix by repeated squaring (``numpy.linalg.matrix_power``);
    negative powers invert first.

    >>> import funcgrad.numpy as fnp
    >>> fnp.linalg.matrix_power(fnp.array([[1.0, 1.0], [0.0, 1.0]]), 3)
    array([[1., 3.],
           [0., 1.]], dtype=float32)
    """
    a = _arr(a)
    _square("matrix_power", a)
    n = operator.index(n)
    if n == 0:
        return broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), tuple(a.shape))
    if n < 0:
        a = inv(a)
        n = -n
    if n == 1:
        return a
    if n == 2:
        return matmul(a, a)
    if n == 3:
        return matmul(matmul(a, a), a)
    z = result = None
    while n > 0:
        z = a if z is None else matmul(z, z)
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else matmul(result, z)
    return result


def lstsq(a, b, rcond=None):
    """Least-squares solution of ``a @ x = b`` (``numpy.linalg.lstsq``): ``(x, residuals,
    rank, s)``, via the pseudo-inverse (differentiable in ``a``, ``b``; constant rank).

    ``residuals`` are the squared residual norms when ``M > N``; NumPy returns an empty
    array instead when the rank is below ``N``, which is matched when the rank is known
    (it is not under ``jit``/``vmap``, where the residuals are always returned).

    >>> import funcgrad.numpy as fnp
    >>> x, res, rank, s = fnp.linalg.lstsq(fnp.array([[1.0], [1.0]]), fnp.array([1.0, 3.0]))
    >>> fnp.round(x, 4), fnp.round(res, 4), int(rank)
    (array([2.], dtype=float32), array([2.], dtype=float32), 1)
    """
    a, b = _inexact(a), _inexact(b)
    if a.ndim != 2:
        raise LinAlgError(f"{a.ndim}-dimensional array given. Array must be two-dimensional")
    if b.ndim not in (1, 2) or b.shape[0] != a.shape[0]:
        raise LinAlgError("Incompatible dimensions")
    m, n = a.shape
    eps = np.finfo(a.dtype).eps
    rc = eps * builtins.max(m, n) if rcond is None else float(rcond)
    s = svd(a, compute_uv=False)
    smax = s[0] if s.shape[0] else np.zeros((), s.dtype)
    rank = _sum(ew.greater(s, ew.multiply(smax, rc))).astype(np.int32)  # LAPACK's int
    x = matmul(pinv(a, rcond=rc), b)
    if m > n:
        resid = _sum(_abs2(ew.subtract(b, matmul(a, x))), axis=0)
        if b.ndim == 1:
            resid = reshape(resid, (1,))
        try:
            r = int(concrete_value(rank))
        except ConcretizationTypeError:
            r = None
        if r is not None and r < n:
            resid = np.zeros((0,), np.finfo(a.dtype).dtype)
    else:
        resid = np.zeros((0,), np.finfo(a.dtype).dtype)
    return x, resid, rank, s


def multi_dot(arrays, *, out=None):
    """Product of two or more matrices in the cheapest order (``numpy.linalg.multi_dot``);
    the first and last may be vectors.

    >>> import funcgrad.numpy as fnp
    >>> fnp.linalg.multi_dot([fnp.ones(2), fnp.ones((2, 3)), fnp.ones(3)])
    array(6., dtype=float32)
    """
    if out is not None:
        raise NotImplementedError("multi_dot: 'out' is not supported")
    arrs = [_arr(a) for a in arrays]
    k = len(arrs)
    if k < 2:
        raise ValueError("multi_dot: Expecting at least two arrays.")
    if k == 2:
        return matmul(arrs[0], arrs[1])
    first_vec, last_vec = arrs[0].ndim == 1, arrs[-1].ndim == 1
    if first_vec:
        arrs[0] = reshape(arrs[0], (1, -1))
    if last_vec:
        arrs[-1] = reshape(arrs[-1], (-1, 1))
    for a in arrs:
        if a.ndim != 2:
            raise ValueError(f"multi_dot: {a.ndim}-dimensional array given. Array must be "
                             "two-dimensional")
    dims = [arrs[0].shape[0]] + [a.shape[1] for a in arrs]
    cost = [[0] * k for _ in range(k)]
    split = [[0] * k for _ in range(k)]
    for length in range(1, k):
        for i in range(k - length):
            j = i + length
            cost[i][j] = None
            for s in range(i, j):
                c = cost[i][s] + cost[s + 1][j] + dims[i] * dims[s + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, s

    def chain(i, j):
        if i == j:
            return arrs[i]
        s = split[i][j]
        return matmul(chain(i, s), chain(s + 1, j))

    res = chain(0, k - 1)
    if first_vec and last_vec:
        return reshape(res, ())
    if first_vec:
        return reshape(res, (res.shape[1],))
    if last_vec:
        return reshape(res, (res.shape[0],))
    return res


def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    """Rank by counting singular values above a tolerance (``numpy.linalg.matrix_rank``);
    no gradient.

    >>> import funcgrad.numpy as fnp
    >>> int(fnp.linalg.matrix_rank(fnp.array([[1.0, 2.0], [2.0, 4.0]])))
    1
    """
    A = _inexact(A)
    if A.ndim < 2:
        return _rank_1d(A)
    s = svd(A, compute_uv=False)
    smax = _max(s, axis=-1, keepdims=True)
    if tol is None:
        if rtol is None:
            rtol = builtins.max(A.shape[-2:]) * np.finfo(s.dtype).eps
        tol = ew.multiply(smax, rtol)
    else:
        tol = _arr(tol)
        tol = reshape(tol, tuple(tol.shape) + (1,))
    return _sum(ew.greater(s, tol), axis=-1)


def _rank_1d(A):
    from funcgrad._src.ops.reductions import any as _any

    return _any(ew.not_equal(A, 0)).astype(backend.default_int())


def cond(x, p=None):
    """Condition number (``numpy.linalg.cond``): ``s_max / s_min`` for ``p`` in
    ``None, 2, -2``, else ``norm(x, p) * norm(inv(x), p)``.

    >>> import funcgrad.numpy as fnp
    >>> fnp.linalg.cond(fnp.array([[2.0, 0.0], [0.0, 1.0]]))
    array(2., dtype=float32)
    """
    x = _inexact(x)
    if p in (None, 2, -2):
        s = svd(x, compute_uv=False)
        hi, lo = s[..., 0], s[..., -1]
        return ew.divide(hi, lo) if p != -2 else ew.divide(lo, hi)
    _square("cond", x)
    ax = (x.ndim - 2, x.ndim - 1)
    return ew.multiply(_matrix_norm(x, p, ax, False), _matrix_norm(inv(x), p, ax, False))


def matrix_transpose(x, /):
    """Transpose of the last two axes (``numpy.linalg.matrix_transpose``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.linalg.matrix_transpose(fnp.ones((2, 3))).shape
    (3, 2)
    """
    x = _arr(x)
    if x.ndim < 2:
        raise ValueError("matrix_transpose: Input array must be at least 2-dimensional")
    return _T(x)
