"""``import funcgrad.numpy as fnp``: NumPy's names and signatures, differentiable.

Every function here accepts arrays, Python scalars and lists, and traced values inside
``grad``/``vjp``/``jvp``/``vmap``/``jit``. Python scalars and lists follow JAX's dtype
policy (float32 unless ``fg.config.update("enable_x64", True)``).

>>> import funcgrad.numpy as fnp
>>> fnp.sum(fnp.tanh(fnp.array([0.0, 1.0])) ** 2).dtype
dtype('float32')
"""

from numpy import (  # noqa: F401  dtypes and constants, as in NumPy
    bool_,
    complex64,
    complex128,
    dtype,
    e,
    euler_gamma,
    float16,
    float32,
    float64,
    inf,
    int8,
    int16,
    int32,
    int64,
    nan,
    ndarray,
    newaxis,
    pi,
    uint8,
    uint16,
    uint32,
    uint64,
)

from funcgrad._src.ops.complex_ops import conj, conjugate, real
from funcgrad._src.ops.creation import (
    arange,
    array,
    asarray,
    empty,
    empty_like,
    eye,
    full,
    full_like,
    identity,
    linspace,
    ndim,
    ones,
    ones_like,
    shape,
    size,
    tri,
    zeros,
    zeros_like,
)
from funcgrad._src.ops.elementwise import (
    abs,
    absolute,
    add,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    cbrt,
    ceil,
    clip,
    cos,
    cosh,
    divide,
    equal,
    exp,
    exp2,
    expm1,
    fabs,
    floor,
    floor_divide,
    greater,
    greater_equal,
    isfinite,
    isinf,
    isnan,
    less,
    less_equal,
    log,
    log1p,
    log2,
    log10,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    maximum,
    minimum,
    mod,
    multiply,
    negative,
    not_equal,
    positive,
    power,
    reciprocal,
    remainder,
    rint,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    subtract,
    tan,
    tanh,
    true_divide,
    trunc,
    where,
)
from funcgrad._src.ops.indexing import nonzero, take, take_along_axis
from funcgrad._src.ops.linalg import dot, einsum, inner, matmul, outer, tensordot, vdot
from funcgrad._src.ops.reductions import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    max,
    mean,
    min,
    std,
    sum,
    var,
)
from funcgrad._src.ops.shape import (
    broadcast_arrays,
    broadcast_to,
    concatenate,
    expand_dims,
    flip,
    hstack,
    moveaxis,
    ravel,
    reshape,
    squeeze,
    stack,
    swapaxes,
    transpose,
    vstack,
)

from funcgrad._src.ops.special import logaddexp, logaddexp2

round = rint  # noqa: A001
around = rint

__all__ = [n for n in dir() if not n.startswith("_")]
