"""Elementwise primitives and their NumPy-named wrappers.

Each primitive is one line: its implementation (a NumPy/CuPy function name) and its
derivative, written with funcgrad operations. The wrappers broadcast traced operands
explicitly (see :func:`_broadcast_operands`), so rules never un-broadcast.
"""

from __future__ import annotations

import math

import numpy as np

from funcgrad._src import backend, buffers
from funcgrad._src.backend import xp_of
from funcgrad._src.core import Tracer, as_array, bind
from funcgrad._src.ops.rules import binary, broadcast_shapes, unary

# ---------------------------------------------------------------------------------------
# Operand handling: dtype policy for Python values, explicit broadcasting of tracers
# ---------------------------------------------------------------------------------------

_SCALARS = (int, float, complex, bool)
_LN2, _LN10 = math.log(2.0), math.log(10.0)
_NO_PARAMS: dict = {}
_SCALAR_ARRAYS: dict = {}
_NUMPY_ONLY = backend._CUPY_TYPE is None


def _scalar_array(v, dtype):
    """A cached read-only 0-d array for Python scalar ``v`` next to an array of ``dtype``.

    NumPy ufuncs take about twice as long with a Python-scalar operand as with a 0-d array;
    the conversion gives the same result (NEP 50: the scalar takes the array's dtype) when
    ``v`` is a float and the array floating, or ``v`` an int and the array numeric."""
    kind = dtype.kind
    tv = type(v)
    if not ((tv is float and kind in "fc") or (tv is int and kind in "fciu")):
        return v
    key = (v, dtype)
    a = _SCALAR_ARRAYS.get(key)
    if a is None:
        if len(_SCALAR_ARRAYS) > 4096:
            _SCALAR_ARRAYS.clear()
        try:
            a = np.array(v, dtype)
        except OverflowError:
            return v
        if a != v:  # e.g. an int too large for the dtype: keep NumPy's own handling
            return v
        a.flags.writeable = False
        _SCALAR_ARRAYS[key] = a
    return a


def _operand(x):
    if isinstance(x, (Tracer, np.ndarray, np.generic)) or type(x) in _SCALARS:
        return x
    if backend._CUPY_TYPE is not None and isinstance(x, backend._CUPY_TYPE):
        return x
    return backend.canonicalize(x)


def _shape(x):
    return x.shape if hasattr(x, "shape") else ()


def _broadcast_operands(name, args):
    """Broadcast traced operands to the common shape with an explicit ``broadcast_to``."""
    args = [_operand(a) for a in args]
    if not any(isinstance(a, Tracer) for a in args):
        if all(type(a) in _SCALARS for a in args):  # Python scalars only: dtype policy
            args[0] = backend.canonicalize(args[0])
        return args
    shapes = [_shape(a) for a in args]
    first = shapes[0]
    if all(s == first for s in shapes):
        return args
    try:
        out = broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"{name}: operands could not be broadcast together with shapes "
                         f"{' '.join(str(tuple(s)) for s in shapes)}") from None
    from funcgrad._src.ops.shape import broadcast_to

    return [broadcast_to(a, out) if isinstance(a, Tracer) and _shape(a) != out else a
            for a in args]


def _binop(prim, x, y):
    tx, ty = type(x), type(y)
    if isinstance(x, Tracer):
        if ty in _SCALARS:  # the hot case: a traced operand and a Python scalar
            tr = x._trace
            if tr.alive:
                return tr.process_primitive(prim, (x, y), _NO_PARAMS)
            return bind(prim, x, y)
        if tx is ty and x._trace is y._trace and x.shape == y.shape:  # same-shape tracers
            tr = x._trace
            if tr.alive:
                return tr.process_primitive(prim, (x, y), _NO_PARAMS)
        return bind(prim, *_broadcast_operands(prim.name, (x, y)))
    if isinstance(y, Tracer):
        if tx in _SCALARS:
            return bind(prim, x, y)
        return bind(prim, *_broadcast_operands(prim.name, (x, y)))
    if tx is np.ndarray and ty in _SCALARS:
        out = prim.impl(x, y)
        return out if type(out) is np.ndarray else as_array(out)
    if tx is not np.ndarray or ty is not np.ndarray:  # lists, Python scalars, NumPy scalars
        x, y = _broadcast_operands(prim.name, (x, y))
    try:
        out = prim.impl(x, y)
        return out if type(out) is np.ndarray else as_array(out)
    except ValueError as e:
        if "broadcast" in str(e):
            raise ValueError(f"{prim.name}: operands could not be broadcast together with "
                             f"shapes {_shape(x)} {_shape(y)}") from None
        raise


def _unop(prim, x):
    if type(x) is np.ndarray:
        out = prim.impl(x)
        return out if type(out) is np.ndarray else as_array(out)
    if isinstance(x, Tracer):
        tr = x._trace
        if tr.alive:
            return tr.process_primitive(prim, (x,), _NO_PARAMS)
    else:
        x = backend.canonicalize(x)
    return bind(prim, x)


# ---------------------------------------------------------------------------------------
# Arithmetic
# ---------------------------------------------------------------------------------------


def _neg(g, *_):
    return negative(g)


add_p = binary("add", "add", lambda g, *_: g, lambda g, *_: g)
subtract_p = binary("subtract", "subtract", lambda g, *_: g, _neg)
multiply_p = binary("multiply", "multiply",
                    lambda g, ans, x, y: multiply(g, y), lambda g, ans, x, y: multiply(g, x))
divide_p = binary("divide", "true_divide",
                  lambda g, ans, x, y: divide(g, y),
                  lambda g, ans, x, y: negative(multiply(g, divide(ans, y))))


def _pow_dx(g, ans, x, y):
    return multiply(g, multiply(y, power(x, subtract(y, 1))))


def _pow_dy(g, ans, x, y):
    # NOTE: d/dy x**y = log(x) x**y; at x == 0 we use 0 (the limit from the right) so
    # that x**y with x == 0 never yields NaN gradients.
    safe = where(equal(x, 0), 1, x)
    return multiply(g, where(equal(x, 0), 0, multiply(ans, log(safe))))


power_p = binary("power", "power", _pow_dx, _pow_dy)


def _int_pow_impl(x, *, y):
    if y == 2:
        return x * x
    if y < 0 and x.dtype.kind in "iu":
        raise ValueError("integer_pow: integers to negative integer powers are not allowed")
    return x ** y


def _int_pow_d(g, ans, x, *, y):
    if y == 0:
        return zeros_like_raw(x)
    if y == 1:
        return g
    return multiply(g, multiply(integer_pow(x, y - 1) if y != 2 else x, y))


from funcgrad._src.core import Primitive  # noqa: E402
from funcgrad._src.ops.rules import elementwise_batch, jvp_from_partials  # noqa: E402

integer_pow_p = Primitive("integer_pow", _int_pow_impl)
integer_pow_p.vjp = (_int_pow_d,)
integer_pow_p.jvp = jvp_from_partials(integer_pow_p, (_int_pow_d,))
integer_pow_p.batch = elementwise_batch(integer_pow_p)


def zeros_like_raw(x):
    from funcgrad._src.ops.creation import zeros_like

    return zeros_like(x)


def _max_dx(g, ans, x, y):
    # NOTE: at ties the gradient is split evenly between x and y, as JAX does.
    return multiply(g, _choose_weight(x, y))


def _max_dy(g, ans, x, y):
    return multiply(g, _choose_weight(y, x))


def _choose_weight(a, b):
    return add(greater(a, b).astype(_dt(a, b)), multiply(equal(a, b).astype(_dt(a, b)), 0.5))


def _dt(a, b):
    for v in (a, b):
        if hasattr(v, "dtype") and v.dtype.kind in "fc":
            return v.dtype
    return backend.default_float()


def _min_dx(g, ans, x, y):
    return multiply(g, _min_weight(x, y))


def _min_weight(a, b):
    return add(less(a, b).astype(_dt(a, b)), multiply(equal(a, b).astype(_dt(a, b)), 0.5))


maximum_p = binary("maximum", "maximum", _max_dx, _max_dy)
minimum_p = binary("minimum", "minimum", _min_dx,
                   lambda g, ans, x, y: multiply(g, _min_weight(y, x)))
arctan2_p = binary(
    "arctan2", "arctan2",
    lambda g, ans, x, y: multiply(g, divide(y, add(square(x), square(y)))),
    lambda g, ans, x, y: multiply(g, negative(divide(x, add(square(x), square(y))))))
mod_p = binary("remainder", "remainder", lambda g, *_: g,
               lambda g, ans, x, y: multiply(g, negative(floor_divide(x, y))))
floor_divide_p = binary("floor_divide", "floor_divide", None, None, nondiff=True)

# ---------------------------------------------------------------------------------------
# Unary math: derivative as a function of (ans, x)
# ---------------------------------------------------------------------------------------

negative_p = unary("negative", "negative", lambda ans, x: -1)
sin_p = unary("sin", "sin", lambda ans, x: cos(x))
cos_p = unary("cos", "cos", lambda ans, x: negative(sin(x)))
tan_p = unary("tan", "tan", lambda ans, x: add(1, square(ans)))
arcsin_p = unary("arcsin", "arcsin", lambda ans, x: reciprocal(sqrt(subtract(1, square(x)))))
arccos_p = unary("arccos", "arccos",
                 lambda ans, x: negative(reciprocal(sqrt(subtract(1, square(x))))))
arctan_p = unary("arctan", "arctan", lambda ans, x: reciprocal(add(1, square(x))))
sinh_p = unary("sinh", "sinh", lambda ans, x: cosh(x))
cosh_p = unary("cosh", "cosh", lambda ans, x: sinh(x))
tanh_p = unary("tanh", "tanh", lambda ans, x: subtract(1, square(ans)))
arcsinh_p = unary("arcsinh", "arcsinh", lambda ans, x: reciprocal(sqrt(add(square(x), 1))))
# NOTE: 1 / (sqrt(x - 1) sqrt(x + 1)), not 1 / sqrt(x**2 - 1): the same for real x > 1, but
# only the former is the derivative of the principal branch for complex x with Re x < 0.
arccosh_p = unary("arccosh", "arccosh",
                  lambda ans, x: reciprocal(multiply(sqrt(subtract(x, 1)), sqrt(add(x, 1)))))
arctanh_p = unary("arctanh", "arctanh", lambda ans, x: reciprocal(subtract(1, square(x))))
exp_p = unary("exp", "exp", lambda ans, x: ans)
# NOTE: Python-float constants, so the derivative keeps float32/complex64 (NEP 50).
exp2_p = unary("exp2", "exp2", lambda ans, x: multiply(ans, _LN2))
expm1_p = unary("expm1", "expm1", lambda ans, x: add(ans, 1))
log_p = unary("log", "log", lambda ans, x: reciprocal(x))
log2_p = unary("log2", "log2", lambda ans, x: reciprocal(multiply(x, _LN2)))
log10_p = unary("log10", "log10", lambda ans, x: reciprocal(multiply(x, _LN10)))
log1p_p = unary("log1p", "log1p", lambda ans, x: reciprocal(add(x, 1)))
sqrt_p = unary("sqrt", "sqrt", lambda ans, x: divide(0.5, ans))
cbrt_p = unary("cbrt", "cbrt", lambda ans, x: divide(1.0 / 3.0, square(ans)))
square_p = unary("square", "square", lambda ans, x: multiply(x, 2))
reciprocal_p = unary("reciprocal", lambda x: 1 / x, lambda ans, x: negative(square(ans)))
# NOTE: |x| has subgradient 0 at 0 (sign(0) == 0), as JAX.
abs_p = unary("abs", "abs", lambda ans, x: sign(x))


# |z| of complex z is not holomorphic: d|z| = Re(conj(z) dz) / |z| (0 at z == 0, as JAX), a
# real tangent; the transpose (JAX's convention, no conjugation of the cotangent) is
# g -> g conj(z) / |z|. Real x keeps the one-multiply rule g sign(x).
def _abs_dir(ans, x):
    from funcgrad._src.ops.complex_ops import conj

    return divide(conj(x), where(equal(ans, 0), 1, ans))


def _abs_vjp(g, ans, x):
    if x.dtype.kind != "c":
        return multiply(g, sign(x))
    from funcgrad._src.ops.complex_ops import real_cotangent

    return multiply(real_cotangent(g), _abs_dir(ans, x))


def _abs_tangent(t, ans, x):
    if x.dtype.kind != "c":
        return multiply(t, sign(x))
    from funcgrad._src.ops.complex_ops import real

    return real(multiply(t, _abs_dir(ans, x)))


abs_p.vjp = (_abs_vjp,)
abs_p.jvp = jvp_from_partials(abs_p, (_abs_tangent,))


def _logistic_impl(x):
    # NOTE: 0.5 * (tanh(x / 2) + 1) never overflows, unlike 1 / (1 + exp(-x)).
    xp = xp_of(x)
    return 0.5 * (xp.tanh(0.5 * x) + 1)


logistic_p = unary("logistic", _logistic_impl,
                   lambda ans, x: multiply(ans, subtract(1, ans)))


# NOTE: relu is a fused primitive because the MLP and CNN benchmarks ask for it: its VJP is
# one comparison and one multiply by the boolean mask, where maximum(x, 0) needs five passes
# to split ties (and np.where with a random mask is ~15x slower than the multiply). The
# gradient at 0 is 0, as JAX's relu; a NaN cotangent where x <= 0 stays NaN (PyTorch and
# JAX give 0 there).
def _relu_impl(x):
    xp = xp_of(x)
    if xp is np and x.nbytes >= buffers.MIN_BYTES and x.dtype.kind == "f":
        return np.maximum(x, 0, out=buffers.empty(x.shape, x.dtype))
    return xp.maximum(x, 0)


def _relu_d(g, ans, x):
    return relu_grad_p.bind(g, ans)


relu_p = Primitive("relu", _relu_impl, vjp=(_relu_d,))
relu_p.jvp = jvp_from_partials(relu_p, (_relu_d,))
relu_p.batch = elementwise_batch(relu_p)
relu_p.fresh_result = True  # for jit's buffer reuse: a new array, and a form with `out`
relu_p.jit_into = lambda xp: lambda x, out: xp.maximum(x, 0, out=out)


# relu's VJP ``g * (ans > 0)`` as one primitive: linear in ``g``, piecewise constant in
# ``ans``; eager calls on large arrays take both the mask and the result from the recycled
# buffers (funcgrad/_src/buffers.py) instead of two fresh arrays.
def _relu_grad_impl(g, ans):
    if (type(g) is np.ndarray and type(ans) is np.ndarray and g.shape == ans.shape
            and g.nbytes >= buffers.MIN_BYTES and g.dtype.kind == "f"):
        mask = np.greater(ans, 0, out=buffers.empty(ans.shape, np.bool_))
        return np.multiply(g, mask, out=buffers.empty(g.shape, g.dtype))
    return g * (ans > 0)


relu_grad_p = Primitive("relu_grad", _relu_grad_impl,
                        vjp=(lambda c, out, g, ans: relu_grad_p.bind(c, ans),
                             lambda c, out, g, ans: None))
relu_grad_p.jvp = jvp_from_partials(relu_grad_p, (lambda t, out, g, ans: relu_grad_p.bind(t, ans),
                                                  lambda t, out, g, ans: None))
relu_grad_p.batch = elementwise_batch(relu_grad_p)
relu_grad_p.jit_impl = lambda xp: lambda g, ans: g * (ans > 0)
relu_grad_p.fresh_result = True
relu_grad_p.jit_into = lambda xp: lambda g, ans, out: xp.multiply(g, ans > 0, out=out)

# Non-differentiable (integer-valued or piecewise constant) ops: zero gradient.
sign_p = unary("sign", "sign", None)
floor_p = unary("floor", "floor", None)
ceil_p = unary("ceil", "ceil", None)
rint_p = unary("rint", "rint", None)
trunc_p = unary("trunc", "trunc", None)
isfinite_p = unary("isfinite", "isfinite", None)
isnan_p = unary("isnan", "isnan", None)
isinf_p = unary("isinf", "isinf", None)
logical_not_p = unary("logical_not", "logical_not", None)
equal_p = binary("equal", "equal", None, None, nondiff=True)
not_equal_p = binary("not_equal", "not_equal", None, None, nondiff=True)
less_p = binary("less", "less", None, None, nondiff=True)
less_equal_p = binary("less_equal", "less_equal", None, None, nondiff=True)
greater_p = binary("greater", "greater", None, None, nondiff=True)
greater_equal_p = binary("greater_equal", "greater_equal", None, None, nondiff=True)
logical_and_p = binary("logical_and", "logical_and", None, None, nondiff=True)
logical_or_p = binary("logical_or", "logical_or", None, None, nondiff=True)
logical_xor_p = binary("logical_xor", "logical_xor", None, None, nondiff=True)
bitwise_and_p = binary("bitwise_and", "bitwise_and", None, None, nondiff=True)
bitwise_or_p = binary("bitwise_or", "bitwise_or", None, None, nondiff=True)
bitwise_xor_p = binary("bitwise_xor", "bitwise_xor", None, None, nondiff=True)
invert_p = unary("invert", "invert", None)

# ---------------------------------------------------------------------------------------
# select (where): a ternary elementwise op with a non-differentiable condition
# ---------------------------------------------------------------------------------------


def _select_impl(c, x, y):
    return xp_of(c, x, y).where(c, x, y)


def _select_dx(g, ans, c, x, y):
    return _select_impl_op(c, g, 0)


def _select_dy(g, ans, c, x, y):
    return _select_impl_op(c, 0, g)


select_p = Primitive("select", _select_impl, jit_impl=lambda xp: xp.where)
select_p.vjp = (None, _select_dx, _select_dy)
select_p.jvp = jvp_from_partials(select_p, (None, _select_dx, _select_dy))
select_p.batch = elementwise_batch(select_p)


def _select_impl_op(c, x, y):
    if not isinstance(x, Tracer) and not isinstance(y, Tracer) and not isinstance(c, Tracer):
        return _select_impl(c, x, y)
    x = zeros_like_raw(y) if type(x) is int and x == 0 and hasattr(y, "shape") else x
    y = zeros_like_raw(x) if type(y) is int and y == 0 and hasattr(x, "shape") else y
    c, x, y = _broadcast_operands("where", (c, x, y))
    return bind(select_p, c, x, y)


def where(condition, x=None, y=None):
    """Elements from ``x`` where ``condition`` holds, else from ``y`` (``numpy.where``).

    The gradient flows to ``x`` where the condition holds and to ``y`` elsewhere. NOTE: the
    branch not taken still enters the computation, so ``where(x > 0, sqrt(x), 0)`` has a NaN
    gradient at negative ``x`` (NaN * 0). Guard the input too ("double where"):
    ``where(x > 0, sqrt(where(x > 0, x, 1)), 0)``.

    >>> import funcgrad.numpy as fnp
    >>> fnp.where(fnp.array([True, False]), 1.0, 2.0)
    array([1., 2.], dtype=float32)
    """
    if x is None and y is None:
        from funcgrad._src.ops.indexing import nonzero

        return nonzero(condition)
    if x is None or y is None:
        raise ValueError("where: either both or neither of x and y should be given")
    c, x, y = _broadcast_operands("where", (condition, x, y))
    if not any(isinstance(a, Tracer) for a in (c, x, y)):
        out = _select_impl(c, x, y)
        if type(x) in _SCALARS and type(y) in _SCALARS and out.dtype == np.float64:
            out = out.astype(backend.default_float())
        return out
    return bind(select_p, c, x, y)


# ---------------------------------------------------------------------------------------
# Public wrappers (NumPy names)
# ---------------------------------------------------------------------------------------


def add_any(x, y):
    """Add two same-shaped cotangents (no broadcasting checks): the tape's accumulator."""
    return bind(add_p, x, y)


def _mk_bin(prim, name, doc):
    impl = prim.impl

    def f(x1, x2, /):
        # Inlined hot paths (this is the eager dispatch); everything else goes to _binop.
        t1, t2 = type(x1), type(x2)
        if t1 is np.ndarray:
            if t2 in _SCALARS:
                x2 = _scalar_array(x2, x1.dtype)
            elif t2 is not np.ndarray:
                return _binop(prim, x1, x2)
            try:
                out = impl(x1, x2)
            except ValueError:
                return _binop(prim, x1, x2)  # re-raised with the op's name and shapes
            return out if type(out) is np.ndarray else as_array(out)
        if t2 in _SCALARS and isinstance(x1, Tracer):
            tr = x1._trace
            if tr.alive:
                if _NUMPY_ONLY:
                    x2 = _scalar_array(x2, x1.dtype)
                return tr.process_primitive(prim, (x1, x2), _NO_PARAMS)
        elif t1 in _SCALARS and isinstance(x2, Tracer):
            tr = x2._trace
            if tr.alive:
                if _NUMPY_ONLY:
                    x1 = _scalar_array(x1, x2.dtype)
                return tr.process_primitive(prim, (x1, x2), _NO_PARAMS)
        return _binop(prim, x1, x2)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"{doc} (``numpy.{name}``), broadcasting; differentiable.\n\n"
                 f">>> import funcgrad.numpy as fnp\n"
                 f">>> fnp.{name}(fnp.array([1.0, 2.0]), 2.0).shape\n(2,)\n")
    return f


def _mk_un(prim, name, doc, example="0.5"):
    impl = prim.impl

    def f(x, /):
        if type(x) is np.ndarray:
            out = impl(x)
            return out if type(out) is np.ndarray else as_array(out)
        if isinstance(x, Tracer):
            tr = x._trace
            if tr.alive:
                return tr.process_primitive(prim, (x,), _NO_PARAMS)
        return _unop(prim, x)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"{doc} (``numpy.{name}``), elementwise.\n\n"
                 f">>> import funcgrad.numpy as fnp\n"
                 f">>> fnp.{name}(fnp.array([{example}])).shape\n(1,)\n")
    return f


add = _mk_bin(add_p, "add", "Sum")
subtract = _mk_bin(subtract_p, "subtract", "Difference")
multiply = _mk_bin(multiply_p, "multiply", "Product")
divide = _mk_bin(divide_p, "divide", "True division")
true_divide = divide
maximum = _mk_bin(maximum_p, "maximum", "Elementwise maximum (ties split the gradient)")
minimum = _mk_bin(minimum_p, "minimum", "Elementwise minimum (ties split the gradient)")
arctan2 = _mk_bin(arctan2_p, "arctan2", "Four-quadrant arctangent of x1/x2")
remainder = _mk_bin(mod_p, "remainder", "Remainder of division")
mod = remainder
floor_divide = _mk_bin(floor_divide_p, "floor_divide", "Floor division (no gradient)")
equal = _mk_bin(equal_p, "equal", "x1 == x2")
not_equal = _mk_bin(not_equal_p, "not_equal", "x1 != x2")
less = _mk_bin(less_p, "less", "x1 < x2")
less_equal = _mk_bin(less_equal_p, "less_equal", "x1 <= x2")
greater = _mk_bin(greater_p, "greater", "x1 > x2")
greater_equal = _mk_bin(greater_equal_p, "greater_equal", "x1 >= x2")
logical_and = _mk_bin(logical_and_p, "logical_and", "Logical and")
logical_or = _mk_bin(logical_or_p, "logical_or", "Logical or")
logical_xor = _mk_bin(logical_xor_p, "logical_xor", "Logical xor")


def bitwise_and(x1, x2, /):
    """Bitwise and of integer or bool arrays (``numpy.bitwise_and``, ``&``); no gradient.

    >>> import funcgrad.numpy as fnp
    >>> fnp.bitwise_and(fnp.array([True, True]), fnp.array([True, False]))
    array([ True, False])
    """
    return _binop(bitwise_and_p, x1, x2)


def bitwise_or(x1, x2, /):
    """Bitwise or of integer or bool arrays (``numpy.bitwise_or``, ``|``); no gradient.

    >>> import funcgrad.numpy as fnp
    >>> fnp.bitwise_or(fnp.array([1, 4]), 2)
    array([3, 6], dtype=int32)
    """
    return _binop(bitwise_or_p, x1, x2)


def bitwise_xor(x1, x2, /):
    """Bitwise xor of integer or bool arrays (``numpy.bitwise_xor``, ``^``); no gradient.

    >>> import funcgrad.numpy as fnp
    >>> fnp.bitwise_xor(fnp.array([True, False]), True)
    array([False,  True])
    """
    return _binop(bitwise_xor_p, x1, x2)


def invert(x, /):
    """Bitwise not of integer or bool arrays (``numpy.invert``, ``~``); no gradient.

    >>> import funcgrad.numpy as fnp
    >>> fnp.invert(fnp.array([True, False]))
    array([False,  True])
    """
    return _unop(invert_p, x)


bitwise_not = invert


def power(x1, x2, /):
    """``x1 ** x2`` (``numpy.power``); integer Python exponents use ``integer_pow``.

    >>> import funcgrad.numpy as fnp
    >>> fnp.power(fnp.array([2.0]), 3)
    array([8.], dtype=float32)
    """
    if type(x2) is int and (isinstance(x1, Tracer) or hasattr(x1, "dtype")):
        return integer_pow(x1, x2)
    return _binop(power_p, x1, x2)


def integer_pow(x, y: int):
    """``x ** y`` for a static Python integer ``y`` (JAX's ``lax.integer_pow``)."""
    return _unop_params(integer_pow_p, x, y=y)


def _unop_params(prim, x, **params):
    if not isinstance(x, Tracer):
        x = backend.canonicalize(x)
    return bind(prim, x, **params)


negative = _mk_un(negative_p, "negative", "Numerical negative")
sin = _mk_un(sin_p, "sin", "Sine")
cos = _mk_un(cos_p, "cos", "Cosine")
tan = _mk_un(tan_p, "tan", "Tangent")
arcsin = _mk_un(arcsin_p, "arcsin", "Inverse sine")
arccos = _mk_un(arccos_p, "arccos", "Inverse cosine")
arctan = _mk_un(arctan_p, "arctan", "Inverse tangent")
sinh = _mk_un(sinh_p, "sinh", "Hyperbolic sine")
cosh = _mk_un(cosh_p, "cosh", "Hyperbolic cosine")
tanh = _mk_un(tanh_p, "tanh", "Hyperbolic tangent")
arcsinh = _mk_un(arcsinh_p, "arcsinh", "Inverse hyperbolic sine")
arccosh = _mk_un(arccosh_p, "arccosh", "Inverse hyperbolic cosine", "1.5")
arctanh = _mk_un(arctanh_p, "arctanh", "Inverse hyperbolic tangent")
exp = _mk_un(exp_p, "exp", "Exponential")
exp2 = _mk_un(exp2_p, "exp2", "Base-2 exponential")
expm1 = _mk_un(expm1_p, "expm1", "exp(x) - 1, accurate near 0")
log = _mk_un(log_p, "log", "Natural logarithm")
log2 = _mk_un(log2_p, "log2", "Base-2 logarithm")
log10 = _mk_un(log10_p, "log10", "Base-10 logarithm")
log1p = _mk_un(log1p_p, "log1p", "log(1 + x), accurate near 0")
sqrt = _mk_un(sqrt_p, "sqrt", "Square root")
cbrt = _mk_un(cbrt_p, "cbrt", "Cube root")
square = _mk_un(square_p, "square", "Square")
reciprocal = _mk_un(reciprocal_p, "reciprocal", "Reciprocal")
absolute = _mk_un(abs_p, "absolute", "Absolute value (subgradient 0 at 0)")
abs = absolute  # noqa: A001
fabs = absolute
sign = _mk_un(sign_p, "sign", "Sign (no gradient)")
floor = _mk_un(floor_p, "floor", "Floor (no gradient)")
ceil = _mk_un(ceil_p, "ceil", "Ceiling (no gradient)")
rint = _mk_un(rint_p, "rint", "Round to nearest integer (no gradient)")
trunc = _mk_un(trunc_p, "trunc", "Truncate towards zero (no gradient)")
isfinite = _mk_un(isfinite_p, "isfinite", "Finite test")
isnan = _mk_un(isnan_p, "isnan", "NaN test")
isinf = _mk_un(isinf_p, "isinf", "Infinity test")
logical_not = _mk_un(logical_not_p, "logical_not", "Logical not")


def positive(x, /):
    """``+x`` (``numpy.positive``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.positive(fnp.array([1.0]))
    array([1.], dtype=float32)
    """
    return x if isinstance(x, Tracer) else backend.canonicalize(x)


def logistic(x, /):
    """The logistic sigmoid ``1 / (1 + exp(-x))``, stable for any ``x``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad._src.ops.elementwise import logistic
    >>> float(logistic(fnp.array(0.0)))
    0.5
    """
    return _unop(logistic_p, x)


def clip(a, a_min=None, a_max=None):
    """Clip values to ``[a_min, a_max]`` (``numpy.clip``); gradient 1 inside, 0 outside.

    >>> import funcgrad.numpy as fnp
    >>> fnp.clip(fnp.array([-2.0, 0.5, 3.0]), 0.0, 1.0)
    array([0. , 0.5, 1. ], dtype=float32)
    """
    if a_min is not None:
        a = maximum(a, a_min)
    if a_max is not None:
        a = minimum(a, a_max)
    return a
