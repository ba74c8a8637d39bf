"""``fnp.linalg``: NumPy's linear algebra, differentiable (``grad``/``jvp``) and batchable
(``vmap``), with NumPy's names and signatures.

>>> import funcgrad as fg, funcgrad.numpy as fnp
>>> a = fnp.array([[2.0, 1.0], [1.0, 3.0]])
>>> fg.grad(lambda m: fnp.linalg.slogdet(m).logabsdet)(a)
array([[ 0.6, -0.2],
       [-0.2,  0.4]], dtype=float32)

See ``docs/numpy_coverage.md`` for what is covered and what is not.
"""

from funcgrad._src.ops.linalg import matmul, outer, tensordot  # noqa: F401
from funcgrad._src.ops.linalg_decomp import (  # noqa: F401
    EighResult,
    LinAlgError,
    QRResult,
    SlogdetResult,
    SVDResult,
    cholesky,
    cond,
    det,
    eigh,
    eigvalsh,
    inv,
    lstsq,
    matrix_norm,
    matrix_power,
    matrix_rank,
    matrix_transpose,
    multi_dot,
    norm,
    pinv,
    qr,
    slogdet,
    solve,
    svd,
    svdvals,
    vector_norm,
)
from funcgrad._src.ops.more_numpy import diagonal as _diagonal
from funcgrad._src.ops.more_numpy import trace as _trace


def diagonal(x, /, *, offset=0):
    """Diagonals of the last two axes (``numpy.linalg.diagonal``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.linalg.diagonal(fnp.eye(2))
    array([1., 1.], dtype=float32)
    """
    return _diagonal(x, offset, -2, -1)


def trace(x, /, *, offset=0, dtype=None):
    """Traces of the last two axes (``numpy.linalg.trace``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.linalg.trace(fnp.eye(3))
    array(3., dtype=float32)
    """
    return _trace(x, offset, -2, -1, dtype)


def vecdot(x1, x2, /, *, axis=-1):
    """Vector dot product over ``axis``, conjugating ``x1`` (``numpy.linalg.vecdot``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.linalg.vecdot(fnp.ones((2, 3)), fnp.ones(3))
    array([3., 3.], dtype=float32)
    """
    from funcgrad._src.ops import elementwise as ew
    from funcgrad._src.ops.complex_ops import conj
    from funcgrad._src.ops.reductions import sum as _sum

    x1 = x1 if getattr(x1, "dtype", None) is not None and x1.dtype.kind != "c" else conj(x1)
    return _sum(ew.multiply(x1, x2), axis=axis)


__all__ = [n for n in dir() if not n.startswith("_")]
