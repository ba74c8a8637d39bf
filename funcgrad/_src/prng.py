"""Counter-based pseudo-random numbers: the Threefry-2x32 kernels and samplers, in NumPy.

This module is pure NumPy with no global state: every function takes a *key* and returns
arrays that depend only on that key and the arguments.

**Keys.** A key is a ``uint32`` array of shape ``(..., 2)``, JAX's raw key layout. The
leading dimensions hold a batch of independent keys; every function here works on such a
batch elementwise (one vectorised NumPy computation, no Python loop over keys), prepending
the batch shape ``key.shape[:-1]`` to its result. This is how ``vmap`` over keys is built.

**The bit stream.** :func:`random_bits` with ``n`` 32-bit words evaluates the Threefry-2x32
block cipher (20 rounds) under the key on the counters ``0 .. n-1``, laid out as JAX does:
the counters are padded with a zero to an even length ``2h`` and split in halves, block
``i`` enciphers the pair ``(i, h + i)``, and the output is the first lanes of all blocks
followed by the second lanes, truncated to ``n``. Wider and narrower draws are derived from
these words (see :func:`random_bits`); :func:`split` and :func:`fold_in` derive new keys
with the same cipher. With this layout :func:`split` reproduces the keys of JAX's original
(non-partitionable) Threefry implementation, e.g. for ``jax.random.PRNGKey(0)``.

**Floats.** :func:`uniform` puts random bits in the mantissa of a number in ``[1, 2)`` and
subtracts one, so it is bit-exact everywhere. Samplers that go on to apply ``log``,
``exp`` or :func:`erfinv` are deterministic for a given NumPy build; across CPUs and builds
they can differ in the last unit of precision, because NumPy's ``log`` and ``exp`` can.

Defaults follow JAX without 64-bit mode: ``float32`` and ``int32``.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Sequence

import numpy as np

__all__ = [
    "bernoulli",
    "bits",
    "categorical",
    "choice",
    "erf",
    "erfc",
    "erfcinv",
    "erfcx",
    "erfinv",
    "exponential",
    "fold_in",
    "gumbel",
    "key_from_seed",
    "laplace",
    "normal",
    "permutation",
    "randint",
    "random_bits",
    "split",
    "threefry2x32",
    "truncated_normal",
    "uniform",
]

Shape = int | Sequence[int]

_MASK32 = 0xFFFFFFFF
_SQRT_PI = math.sqrt(math.pi)
_SQRT2 = math.sqrt(2.0)

# --------------------------------------------------------------------------------------
# Argument checking
# --------------------------------------------------------------------------------------


def _as_key(key) -> np.ndarray:
    """Check a (batch of) raw key(s) and return it as a ``uint32`` array of shape (..., 2)."""
    key = np.asarray(key)
    if key.ndim == 0 or key.shape[-1] != 2:
        raise ValueError(f"a PRNG key has shape (..., 2), got shape {key.shape}")
    if key.dtype != np.uint32:
        in_range = key.size == 0 or (key.min() >= 0 and key.max() <= _MASK32)
        if key.dtype.kind not in "iu" or not in_range:
            raise TypeError(f"a PRNG key holds uint32 words, got dtype {key.dtype}")
        key = key.astype(np.uint32)
    return key


def _as_shape(shape: Shape) -> tuple[int, ...]:
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    shape = tuple(operator.index(d) for d in shape)
    if any(d < 0 for d in shape):
        raise ValueError(f"negative dimension in shape {shape}")
    return shape


def _float_dtype(dtype) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in (np.float16, np.float32, np.float64):
        raise ValueError(f"expected float16, float32 or float64, got {dtype}")
    return dtype


def _batch(key: np.ndarray) -> tuple[int, ...]:
    return key.shape[:-1]


def _check_broadcast(shape: tuple[int, ...], *others: tuple[int, ...]) -> None:
    if np.broadcast_shapes(shape, *others) != shape:
        raise ValueError(f"parameter shapes {others} do not broadcast to shape {shape}")


# --------------------------------------------------------------------------------------
# The Threefry-2x32 block cipher and keys
# --------------------------------------------------------------------------------------

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = np.uint32(0x1BD11BDA)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << r) | (x >> (32 - r))


def threefry2x32(key, x0, x1) -> tuple[np.ndarray, np.ndarray]:
    """Encipher the counter pairs ``(x0, x1)`` with Threefry-2x32, 20 rounds.

    The key schedule is ``(k0, k1, k0 ^ k1 ^ 0x1BD11BDA)``, injected every four rounds;
    the rotations cycle through 13, 15, 26, 6 and 17, 29, 16, 24 (Salmon et al., 2011,
    "Parallel random numbers: as easy as 1, 2, 3"). All arithmetic wraps modulo 2**32.

    Args:
      key: ``uint32`` array of shape ``(..., 2)``.
      x0, x1: ``uint32`` arrays broadcasting against ``key[..., 0]``.

    Returns:
      The two enciphered ``uint32`` words, each of the broadcast shape.

    >>> y0, y1 = threefry2x32(np.zeros(2, np.uint32), np.uint32(0), np.uint32(0))
    >>> hex(int(y0)), hex(int(y1))
    ('0x6b200159', '0x99ba4efe')
    """
    key = _as_key(key)
    k0, k1 = key[..., 0], key[..., 1]
    schedule = (k0, k1, k0 ^ k1 ^ _PARITY)
    x0 = np.asarray(x0, np.uint32)
    x1 = np.asarray(x1, np.uint32)
    with np.errstate(over="ignore"):  # wraparound is the point; 0-d values would warn
        x0 = x0 + schedule[0]
        x1 = x1 + schedule[1]
        for group in range(5):
            for r in _ROTATIONS[group % 2]:
                x0 = x0 + x1
                x1 = _rotl(x1, r) ^ x0
            x0 = x0 + schedule[(group + 1) % 3]
            x1 = x1 + schedule[(group + 2) % 3] + np.uint32(group + 1)
    return np.asarray(x0, np.uint32), np.asarray(x1, np.uint32)


def _int_words(value) -> tuple[np.ndarray, np.ndarray]:
    """High and low 32-bit words of integers taken modulo 2**64 (two's complement)."""
    if isinstance(value, (int, np.integer)):
        value = operator.index(value)
        if not -(2**63) <= value < 2**64:
            raise OverflowError(f"{value} does not fit in 64 bits")
        value %= 2**64
        return np.asarray(value >> 32, np.uint32), np.asarray(value & _MASK32, np.uint32)
    value = np.asarray(value)
    if value.dtype.kind not in "iu":
        raise TypeError(f"expected integers, got dtype {value.dtype}")
    words = value.astype(np.int64 if value.dtype.kind == "i" else np.uint64).astype(np.uint64)
    return (words >> 32).astype(np.uint32), (words & _MASK32).astype(np.uint32)


def key_from_seed(seed: int) -> np.ndarray:
    """Make a key from an integer seed, as ``jax.random.PRNGKey`` in 64-bit mode.

    The seed is read as a 64-bit two's-complement integer; the key is its high and low
    32-bit words.

    Args:
      seed: a Python or NumPy integer in ``[-2**63, 2**64)``.

    Returns:
      A ``uint32`` key of shape ``(2,)``.

    >>> key_from_seed(42)
    array([ 0, 42], dtype=uint32)
    >>> key_from_seed(-1)
    array([4294967295, 4294967295], dtype=uint32)
    """
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"a seed is an integer, got {type(seed).__name__}")
    hi, lo = _int_words(seed)
    return np.stack([hi, lo])


def _words(key: np.ndarray, n: int) -> np.ndarray:
    """The first ``n`` 32-bit words of each key's stream: shape ``batch + (n,)``."""
    if n > 2**32:
        raise ValueError(f"cannot draw {n} words from one key (at most 2**32)")
    half = (n + 1) // 2
    counters = np.zeros(2 * half, np.uint32)
    counters[:n] = np.arange(n, dtype=np.uint32)
    y0, y1 = threefry2x32(key[..., None, :], counters[:half], counters[half:])
    return np.concatenate([y0, y1], axis=-1)[..., :n]


def random_bits(key, shape: Shape = (), bit_width: int = 32) -> np.ndarray:
    """Uniformly random unsigned integers from the key's counter stream.

    32-bit draws are the stream's words in order. A 64-bit draw of ``n`` values takes
    ``2n`` words, the first ``n`` as high halves and the last ``n`` as low halves. 8- and
    16-bit draws keep the low bits of one word each.

    Args:
      key: key(s) of shape ``(..., 2)``.
      shape: shape of the draw for each key.
      bit_width: 8, 16, 32 or 64.

    Returns:
      A ``uint{bit_width}`` array of shape ``key.shape[:-1] + shape``.

    >>> random_bits(key_from_seed(0), (2, 3)).shape
    (2, 3)
    >>> random_bits(np.zeros((4, 2), np.uint32), 5, bit_width=64).dtype
    dtype('uint64')
    """
    key, shape = _as_key(key), _as_shape(shape)
    if bit_width not in (8, 16, 32, 64):
        raise ValueError(f"bit_width must be 8, 16, 32 or 64, got {bit_width}")
    n = math.prod(shape)
    if bit_width == 64:
        words = _words(key, 2 * n).astype(np.uint64)
        out = (words[..., :n] << 32) | words[..., n:]
    else:
        out = _words(key, n).astype(f"uint{bit_width}")  # keeps the low bits
    return out.reshape(_batch(key) + shape)


def bits(key, shape: Shape = (), dtype=np.uint32) -> np.ndarray:
    """Uniformly random bits as an unsigned integer array, as ``jax.random.bits``.

    Args:
      key: key(s) of shape ``(..., 2)``.
      shape: shape of the draw for each key.
      dtype: ``uint8``, ``uint16``, ``uint32`` or ``uint64``.

    Returns:
      An array of ``dtype`` and shape ``key.shape[:-1] + shape``.

    >>> bits(key_from_seed(0), (3,), np.uint8).dtype
    dtype('uint8')
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "u":
        raise ValueError(f"bits: expected an unsigned integer dtype, got {dtype}")
    return random_bits(key, shape, 8 * dtype.itemsize)


def split(key, num: int = 2) -> np.ndarray:
    """Derive ``num`` new keys from a key: the first ``2 * num`` words of its stream.

    Args:
      key: key(s) of shape ``(..., 2)``.
      num: how many keys to make.

    Returns:
      Keys of shape ``key.shape[:-1] + (num, 2)``.

    >>> split(key_from_seed(0))
    array([[4146024105,  967050713],
           [2718843009, 1272950319]], dtype=uint32)
    """
    return random_bits(key, (operator.index(num), 2))


def fold_in(key, data) -> np.ndarray:
    """Derive a new key from a key and an integer: the cipher of ``data``'s 64-bit words.

    Args:
      key: key(s) of shape ``(..., 2)``.
      data: an integer in ``[-2**63, 2**64)``, or an integer array broadcasting against
        the key batch.

    Returns:
      Keys of shape ``broadcast(key.shape[:-1], shape(data)) + (2,)``.

    >>> key = key_from_seed(0)
    >>> bool((fold_in(key, 1) != fold_in(key, 2)).any())
    True
    """
    key = _as_key(key)
    hi, lo = _int_words(data)
    return np.stack(threefry2x32(key, hi, lo), axis=-1)


# --------------------------------------------------------------------------------------
# Error function and its inverse (float64, no SciPy)
# --------------------------------------------------------------------------------------

_NEWTON_STEPS = 3

# Below |x| = 0.5, erf(x) = 2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1)), the Maclaurin
# series: term n is below 0.25^n / n!, so 13 terms reach double precision. Highest first,
# for np.polyval in x**2.
_ERF_TAYLOR = tuple((-1) ** n / (math.factorial(n) * (2 * n + 1)) for n in range(12, -1, -1))
_ERF_SMALL = 0.5

# From 0.5 on, erfc(x) = exp(-x**2) erfcx(x), with (1 + 2x) erfcx(x) expanded in Chebyshev
# polynomials of t = (x - K) / (x + K), K = 3.75, which maps [0, inf) onto [-1, 1]
# (Shepherd and Laframboise, Math. Comp. 36 (1981) 249-253). The function is smooth in t up
# to t = 1, where it tends to 2/sqrt(pi), so one expansion covers the whole half-line. The
# coefficients were computed for this module with mpmath (50 digits) by Chebyshev-Gauss
# quadrature at 160 nodes, and cut where they fall below 1e-18; the first is halved.
_ERFCX_K = 3.75
_ERFCX_CHEB = (
    1.1775789345674017541, -4.5900545806464773309e-3, -8.4249133366517915584e-2,
    5.9209939998191890498e-2, -2.6658668435305752277e-2, 9.0749976707052650939e-3,
    -2.4131635404176081909e-3, 4.9077583652580863229e-4, -6.9169733025012063671e-5,
    4.1390279860730101675e-6, 7.7403830661984906686e-7, -2.1886401049234395661e-7,
    1.0764999465670910377e-8, 4.5219598112182868979e-9, -7.7544002088313511065e-10,
    -6.3180883408866844944e-11, 2.8687950109306698981e-11, 1.945586854577734723e-13,
    -9.6546967484334389059e-13, 3.2525481481487398415e-14, 3.3478119482868053878e-14,
    -1.8645628804193131015e-15, -1.2507950530688647085e-15, 7.418235256624043463e-17,
    5.0681489047961113168e-17, -2.2370566594359995974e-18, -2.187342944303017665e-18,
)
_VELTKAMP = 134217729.0  # 2**27 + 1: splits a double into two 26-bit halves


def _erf_taylor(x: np.ndarray) -> np.ndarray:
    """``erf(x)`` for ``|x| <= 0.5`` (keeps the sign of zero)."""
    return (2 / _SQRT_PI) * x * np.polyval(_ERF_TAYLOR, x * x)


def _erfcx_nonneg(a: np.ndarray) -> np.ndarray:
    """``erfcx(a) = exp(a**2) erfc(a)`` for ``a >= 0`` (0 at ``inf``, NaN stays NaN)."""
    t = (np.minimum(a, 1e300) - _ERFCX_K) / (np.minimum(a, 1e300) + _ERFCX_K)
    t2, b1, b2 = t + t, np.zeros_like(t), np.zeros_like(t)
    for c in _ERFCX_CHEB[:0:-1]:  # Clenshaw's recurrence
        b1, b2 = t2 * b1 - b2 + c, b1
    f = t * b1 - b2 + _ERFCX_CHEB[0]
    return (0.5 * f) / (a + 0.5)  # f / (1 + 2a) without overflow


def _square_parts(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``hi, lo`` with ``hi + lo == a**2`` exactly (Dekker's product; ``|a| <= 1e150``)."""
    c = _VELTKAMP * a
    ah = c - (c - a)
    al = a - ah
    hi = a * a
    return hi, ((ah * ah - hi) + 2 * ah * al) + al * al


def _exp_square(a: np.ndarray, sign: float) -> np.ndarray:
    """``exp(sign * a**2)`` without the rounding error of ``a**2`` (relative, ``~a**2 eps``),
    which would otherwise dominate ``erfc`` in the tail. ``|a|`` is capped at 40, where the
    result has long under- or overflowed."""
    hi, lo = _square_parts(np.minimum(np.abs(a), 40.0))
    return np.exp(sign * hi) * (1 + sign * lo)


def _erfc_nonneg(a: np.ndarray) -> np.ndarray:
    """``erfc(a)`` for ``a >= 0`` (1-d float64); NaN stays NaN."""
    out = np.empty_like(a)
    small = a < _ERF_SMALL
    out[small] = 1 - _erf_taylor(a[small])
    big = ~small
    out[big] = _exp_square(a[big], -1.0) * _erfcx_nonneg(a[big])
    return out


def _float_in(x) -> tuple[np.ndarray, np.dtype]:
    x = np.asarray(x)
    out_dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    return x.astype(np.float64), out_dtype


def _on_flat_float64(fn):
    """``fn`` applied to the input as a flat float64 array, with floating-point warnings
    off, its result reshaped and cast back to the input's float dtype (float64 for integer
    input; a cast to float32 may overflow to inf, silently)."""

    @functools.wraps(fn)
    def wrapper(x):
        x, dtype = _float_in(x)
        with np.errstate(all="ignore"):
            return np.asarray(fn(x.ravel()).reshape(x.shape), dtype)

    return wrapper


@_on_flat_float64
def erf(x) -> np.ndarray:
    """The error function, elementwise, to a few units in the last place of float64.

    A Maclaurin series below ``|x| = 0.5`` and ``1 - erfc(|x|)`` above (see :func:`erfc`).

    Args:
      x: real array.

    Returns:
      ``erf(x)``, with ``x``'s float dtype (float64 for integer input).

    >>> float(erf(0.5))  # doctest: +ELLIPSIS
    0.52049987781304...
    """
    out = np.empty_like(x)
    small = np.abs(x) < _ERF_SMALL
    out[small] = _erf_taylor(x[small])
    big = ~small
    out[big] = np.copysign(1 - _erfc_nonneg(np.abs(x[big])), x[big])
    return out


@_on_flat_float64
def erfc(x) -> np.ndarray:
    """The complementary error function ``1 - erf(x)``, accurate in the right tail.

    From ``|x| = 0.5`` on, ``erfc(|x|) = exp(-x**2) erfcx(|x|)`` with :func:`erfcx` from a
    Chebyshev expansion and ``x**2`` split exactly in two parts, so the result keeps full
    relative precision down to the smallest doubles (``x`` near 27); ``erfc(-x) = 2 -
    erfc(x)``.

    Args:
      x: real array.

    Returns:
      ``erfc(x)``, with ``x``'s float dtype (float64 for integer input).

    >>> float(erfc(10.0))  # doctest: +ELLIPSIS
    2.08848758376254...e-45
    """
    c = _erfc_nonneg(np.abs(x))
    return np.where(x < 0, 2 - c, c)


@_on_flat_float64
def erfcx(x) -> np.ndarray:
    """The scaled complementary error function ``exp(x**2) erfc(x)``, elementwise.

    It decreases like ``1 / (x sqrt(pi))`` as ``x`` grows, so it neither underflows nor
    loses precision where ``erfc`` itself underflows; for ``x < 0`` it is ``2 exp(x**2) -
    erfcx(-x)`` and overflows below about ``-26.6``.

    Args:
      x: real array.

    Returns:
      ``erfcx(x)``, with ``x``'s float dtype (float64 for integer input).

    >>> float(erfcx(1e5))  # doctest: +ELLIPSIS
    5.6418958351...e-06
    """
    cx = _erfcx_nonneg(np.abs(x))
    return np.where(x < 0, 2 * _exp_square(x, 1.0) - cx, cx)


# Giles (2010), "Approximating the erfinv function", single-precision version:
# erfinv(x) ~= x * P(w) with w = -log(1 - x**2); one polynomial below w = 5, one above.
_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                  0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
               0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def _giles_ratio(w: np.ndarray) -> np.ndarray:
    """Giles' ``erfinv(x) / x`` as a function of ``w = -log(1 - x**2)``, for ``w < 16``."""
    return np.where(w < 5, np.polyval(_GILES_CENTRAL, w - 2.5),
                    np.polyval(_GILES_TAIL, np.sqrt(w) - 3))


def _erfinv_central(x: np.ndarray) -> np.ndarray:
    """``erfinv`` for ``|x| < 0.5``: Giles' guess, then Newton steps on ``erf(y) = x``."""
    y = x * _giles_ratio(-np.log((1 - x) * (1 + x)))
    for _ in range(_NEWTON_STEPS):  # |y| < 0.48 stays in the Maclaurin range of erf
        y = y - (_erf_taylor(y) - x) * (_SQRT_PI / 2) * np.exp(y * y)
    return y


def _erfcinv_small(q: np.ndarray) -> np.ndarray:
    """``erfcinv`` for ``0 <= q <= 0.5``, accurate down to the smallest doubles.

    Starts from Giles' guess (or, past its range, from ``erfc(y) ~ exp(-y**2)/(y
    sqrt(pi))``) and takes Newton steps on ``log erfc(y) = log q``, whose derivative is
    ``-2 / (sqrt(pi) erfcx(y))``: no underflow, and monotone convergence since ``log erfc``
    is concave.
    """
    y = np.full(q.shape, np.inf)
    positive = q > 0
    q = q[positive]
    log_q = np.log(q)
    w = -np.log(q * (2 - q))
    asymptotic = np.sqrt(-log_q - 0.5 * np.log(-np.pi * log_q))
    guess = np.where(w < 16, (1 - q) * _giles_ratio(w), asymptotic)
    for _ in range(_NEWTON_STEPS):
        cx = _erfcx_nonneg(guess)
        guess = guess + (np.log(cx) - guess * guess - log_q) * cx * (_SQRT_PI / 2)
    y[positive] = guess
    return y


@_on_flat_float64
def erfinv(x) -> np.ndarray:
    """The inverse error function, elementwise, to about 1e-15 relative accuracy.

    Giles' single-precision approximation refined by Newton's method in float64; ``|x|
    >= 0.5`` goes through ``erfcinv(1 - |x|)``, where ``1 - |x|`` is exact.

    Args:
      x: real array with values in ``[-1, 1]`` (``+-1`` give ``+-inf``, others NaN).

    Returns:
      ``y`` with ``erf(y) = x``, with ``x``'s float dtype (float64 for integer input).

    >>> float(erfinv(0.5))  # doctest: +ELLIPSIS
    0.47693627620446...
    """
    a = np.abs(x)
    y = np.full(x.shape, np.nan)
    central, tail = a < 0.5, (a >= 0.5) & (a <= 1)
    y[central] = _erfinv_central(x[central])
    y[tail] = np.copysign(_erfcinv_small(1 - a[tail]), x[tail])
    return y


def erfcinv(q) -> np.ndarray:
    """The inverse complementary error function, accurate for tiny ``q``.

    Args:
      q: real array with values in ``[0, 2]`` (0 and 2 give ``+inf`` and ``-inf``).

    Returns:
      ``y`` with ``erfc(y) = q``, with ``q``'s float dtype (float64 for integer input).

    >>> float(erfcinv(1e-300))  # doctest: +ELLIPSIS
    26.209469960516...
    """
    q, dtype = _float_in(q)
    flat = q.ravel()
    y = np.full(flat.shape, np.nan)
    low, high = (flat >= 0) & (flat <= 0.5), (flat >= 1.5) & (flat <= 2)
    central = (flat > 0.5) & (flat < 1.5)
    y[low] = _erfcinv_small(flat[low])
    y[central] = _erfinv_central(1 - flat[central])
    y[high] = -_erfcinv_small(2 - flat[high])
    return np.asarray(y.reshape(q.shape), dtype)


# --------------------------------------------------------------------------------------
# Continuous samplers
# --------------------------------------------------------------------------------------


def _unit_uniform(key, shape: Shape, dtype: np.dtype) -> np.ndarray:
    """``[0, 1)``: random mantissa bits under the exponent of 1.0, minus 1 (bit-exact)."""
    nbits = 8 * dtype.itemsize
    raw = random_bits(key, shape, nbits)
    one = np.asarray(1, dtype).view(raw.dtype)
    mantissa = raw >> (nbits - np.finfo(dtype).nmant)
    return (mantissa | one).view(dtype) - dtype.type(1)


def uniform(key, shape: Shape = (), dtype=np.float32, minval=0.0, maxval=1.0) -> np.ndarray:
    """Uniform floats in ``[minval, maxval)``, as ``jax.random.uniform``.

    A draw in ``[0, 1)`` carries ``nmant`` random mantissa bits (23 for float32, 52 for
    float64) and is scaled to the range; the result is clamped so that it is never below
    ``minval`` and always strictly below ``maxval`` despite rounding.

    Args:
      key: key(s) of shape ``(..., 2)``.
      shape: shape of the draw for each key.
      dtype: float16, float32 or float64.
      minval, maxval: bounds broadcasting to ``shape``; an empty range gives ``minval``.

    Returns:
      An array of ``dtype`` and shape ``key.shape[:-1] + shape``.

    >>> u = uniform(key_from_seed(0), (1000,), np.float64, -2.0, 3.0)
    >>> bool(u.min() >= -2.0 and u.max() < 3.0), u.dtype
    (True, dtype('float64'))
    """
    key, shape, dtype = _as_key(key), _as_shape(shape), _float_dtype(dtype)
    lo, hi = np.asarray(minval, dtype), np.asarray(maxval, dtype)
    _check_broadcast(shape, lo.shape, hi.shape)
    out = _unit_uniform(key, shape, dtype) * (hi - lo) + lo
    out = np.maximum(np.minimum(out, np.nextafter(hi, dtype.type(-np.inf))), lo)
    return np.asarray(out, dtype)


def normal(key, shape: Shape = (), dtype=np.float32) -> np.ndarray:
    """Standard normal floats: ``sqrt(2) * erfinv(u)`` with ``u`` uniform in ``(-1, 1)``.

    This is JAX's inverse-CDF method; :func:`erfinv` runs in float64 and the result is
    rounded to ``dtype``.

    Args:
      key: key(s) of shape ``(..., 2)``.
      shape: shape of the draw for each key.
      dtype: float16, float32 or float64.

    Returns:
      An array of ``dtype`` and shape ``key.shape[:-1] + shape``.

    >>> z = normal(key_from_seed(0), (10000,), np.float64)
    >>> bool(abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05)
    True
    """
    dtype = _float_dtype(dtype)
    lo = np.nextafter(dtype.type(-1), dtype.type(0))
    u = uniform(key, shape, dtype, lo, 1.0)
    return np.asarray(_SQRT2 * erfinv(u.astype(np.float64)), dtype)


def truncated_normal(key, lower, upper, shape: Shape | None = None,
                     dtype=np.float32) -> np.ndarray:
    """Standard normal floats conditioned on ``lower < x < upper``, by inverse CDF.

    With ``Phi(t) = erfc(-t / sqrt(2)) / 2``, a uniform ``p`` between ``Phi(lower)`` and
    ``Phi(upper)`` maps to ``-sqrt(2) erfcinv(2p)``. Intervals lying mostly above zero are
    mirrored below zero first, where ``Phi`` keeps full relative precision, so even far-tail
    intervals such as ``(10, inf)`` are sampled correctly. As in JAX, results are clipped
    into the open interval.

    Args:
      key: key(s) of shape ``(..., 2)``.
      lower, upper: bounds (may be infinite) broadcasting to ``shape``.
      shape: shape of the draw for each key; default the broadcast shape of the bounds.
      dtype: float16, float32 or float64.

    Returns:
      An array of ``dtype`` and shape ``key.shape[:-1] + shape``.

    >>> x = truncated_normal(key_from_seed(0), 1.0, 2.0, (1000,))
    >>> bool(x.min() > 1.0 and x.max() < 2.0)
    True
    """
    dtype = _float_dtype(dtype)
    lower, upper = np.asarray(lower, np.float64), np.asarray(upper, np.float64)
    shape = np.broadcast_shapes(lower.shape, upper.shape) if shape is None else _as_shape(shape)
    _check_broadcast(shape, lower.shape, upper.shape)
    mirror = lower > -upper  # more of the interval above zero than below
    a, b = np.where(mirror, -upper, lower), np.where(mirror, -lower, upper)
    phi_a, phi_b = erfc(-a / _SQRT2) / 2, erfc(-b / _SQRT2) / 2
    p = phi_a + _unit_uniform(_as_key(key), shape, np.dtype(np.float64)) * (phi_b - phi_a)
    x = -_SQRT2 * erfcinv(2 * p)
    x = np.where(mirror, -x, x)
    lo, hi = lower.astype(dtype), upper.astype(dtype)
    x = np.clip(x.astype(dtype), np.nextafter(lo, dtype.type(np.inf)),
                np.nextafter(hi, dtype.type(-np.inf)))
    return np.asarray(x, dtype)


def gumbel(key, shape: Shape = (), dtype=np.float32) -> np.ndarray:
    """Standard Gumbel floats: ``-log(-log(u))``, ``u`` uniform in ``[tiny, 1)``.

    Args:
      key: key(s) of shape ``(..., 2)``.
      shape: shape of the draw for each key.
      dtype: float16, float32 or float64.

    Returns:
      An array of ``dtype`` and shape ``key.shape[:-1] + shape``.

    >>> g = gumbel(key_from_seed(0), (10000,), np.float64)
    >>> bool(abs(g.mean() - 0.5772) < 0.05)  # Euler's constant
    True
    """
    dtype = _float_dtype(dtype)
    u = uniform(key, shape, dtype, np.finfo(dtype).tiny, 1.0)
    return np.asarray(-np.log(-np.log(u)), dtype)


def exponential(key, shape: Shape = (), dtype=np.float32) -> np.ndarray:
    """Standard exponential floats (rate 1): ``-log1p(-u)``, ``u`` uniform in ``[0, 1)``.

    Args:
      key: key(s) of shape ``(..., 2)``.
      shape: shape of the draw for each key.
      dtype: float16, float32 or float64.

    Returns:
      An array of ``dtype`` and shape ``key.shape[:-1] + shape``, all ``>= 0``.

    >>> e = exponential(key_from_seed(0), (10000,), np.float64)
    >>> bool(e.min() >= 0 and abs(e.mean() - 1) < 0.05)
    True
    """
    dtype = _float_dtype(dtype)
    u = uniform(key, shape, dtype)
    return np.asarray(-np.log1p(-u), dtype)


def laplace(key, shape: Shape = (), dtype=np.float32) -> np.ndarray:
    """Standard Laplace floats: ``sign(u) * -log1p(-|u|)``, ``u`` uniform in ``(-1, 1)``.

    Args:
      key: key(s) of shape ``(..., 2)``.
      shape: shape of the draw for each key.
      dtype: float16, float32 or float64.

    Returns:
      An array of ``dtype`` and shape ``key.shape[:-1] + shape``.

    >>> x = laplace(key_from_seed(0), (10000,), np.float64)
    >>> bool(abs(np.abs(x).mean() - 1) < 0.05)
    True
    """
    dtype = _float_dtype(dtype)
    u = uniform(key, shape, dtype, -1 + np.finfo(dtype).epsneg, 1.0)
    return np.asarray(np.sign(u) * -np.log1p(-np.abs(u)), dtype)


# --------------------------------------------------------------------------------------
# Discrete samplers
# --------------------------------------------------------------------------------------


def bernoulli(key, p=0.5, shape: Shape | None = None) -> np.ndarray:
    """Booleans that are ``True`` with probability ``p``: ``uniform < p`` in float64.

    Args:
      key: key(s) of shape ``(..., 2)``.
      p: probabilities broadcasting to ``shape``.
      shape: shape of the draw for each key; default ``p``'s shape.

    Returns:
      A ``bool`` array of shape ``key.shape[:-1] + shape``.

    >>> b = bernoulli(key_from_seed(0), 0.3, (10000,))
    >>> bool(abs(b.mean() - 0.3) < 0.02)
    True
    """
    p = np.asarray(p)
    shape = p.shape if shape is None else _as_shape(shape)
    _check_broadcast(shape, p.shape)
    return np.asarray(uniform(key, shape, np.float64) < p)


def _mul_high(r_limbs: list[np.ndarray], s_limbs: list[np.ndarray]) -> np.ndarray:
    """``floor(R * S / 2**(32 len(r_limbs)))`` for integers in little-endian 32-bit limbs.

    Schoolbook multiplication on ``uint64`` arrays; every partial sum is below 2**64. The
    result must be below 2**64.
    """
    prod: list = [0] * (len(r_limbs) + len(s_limbs))
    for i, r in enumerate(r_limbs):
        carry = 0
        for j, s in enumerate(s_limbs):
            t = prod[i + j] + r * s + carry
            prod[i + j], carry = t & _MASK32, t >> 32
        prod[i + len(s_limbs)] = carry
    high = prod[len(r_limbs):]
    return np.asarray(high[0] | (high[1] << 32), np.uint64)


def _clipped_ints(value, lo: int, hi: int) -> np.ndarray:
    """Integers as an object array of Python ints (no overflow), clipped to ``[lo, hi]``."""
    clip = np.frompyfunc(lambda v: min(max(operator.index(v), lo), hi), 1, 1)
    return np.asarray(clip(np.array(value, dtype=object)), dtype=object)


def randint(key, shape: Shape, minval, maxval, dtype=np.int32) -> np.ndarray:
    """Uniform integers in ``[minval, maxval)``, as ``jax.random.randint``.

    Each value is ``minval + floor(R * span / 2**b)`` with ``R`` a ``b``-bit random
    integer: ``b = 64`` for dtypes of up to 32 bits, ``b = 128`` for 64-bit dtypes. Every
    value's probability is within a relative ``span / 2**b`` (at most ``2**-32``) of
    ``1 / span``. Bounds outside ``dtype``'s range are clipped to it (``maxval`` to one past
    the largest value, which can then be drawn); an empty range yields ``minval``.

    Args:
      key: key(s) of shape ``(..., 2)``.
      shape: shape of the draw for each key.
      minval: inclusive lower bound(s), broadcasting to ``shape``.
      maxval: exclusive upper bound(s), broadcasting to ``shape``.
      dtype: a signed or unsigned integer dtype.

    Returns:
      An array of ``dtype`` and shape ``key.shape[:-1] + shape``.

    >>> r = randint(key_from_seed(0), (1000,), -3, 3)
    >>> sorted(set(r.tolist()))
    [-3, -2, -1, 0, 1, 2]
    """
    key, shape, dtype = _as_key(key), _as_shape(shape), np.dtype(dtype)
    if dtype.kind not in "iu":
        raise ValueError(f"randint: expected an integer dtype, got {dtype}")
    info = np.iinfo(dtype)
    lo = _clipped_ints(minval, info.min, info.max)
    hi = _clipped_ints(maxval, info.min, info.max + 1)
    _check_broadcast(shape, lo.shape, hi.shape)
    span = np.frompyfunc(lambda h, low: max(h - low, 0), 2, 1)(hi, lo)  # at most 2**64
    span_limbs = [np.asarray((span >> (32 * i)) & _MASK32, np.uint64) for i in range(3)]
    n_limbs = 2 if dtype.itemsize <= 4 else 4
    r = random_bits(key, shape + (n_limbs,)).astype(np.uint64)
    offset = _mul_high([r[..., i] for i in range(n_limbs)], span_limbs)
    # Work in uint64 as offsets from info.min, then shift back (modulo 2**64).
    base = np.asarray(lo - info.min, np.uint64)
    with np.errstate(over="ignore"):
        value = base + offset + np.uint64(info.min % 2**64)
    value = np.asarray(value, np.uint64)
    if dtype.kind == "i":
        value = value.view(np.int64)
    return value.astype(dtype)


def permutation(key, x, axis: int = 0) -> np.ndarray:
    """A random permutation of ``range(x)``, or of an array's slices along ``axis``.

    Shuffles by stable sorting on random 64-bit keys, repeated for
    ``ceil(3 log2(n) / 64)`` rounds (one round up to ``n`` = 2**21) with fresh keys
    from :func:`split`, as JAX's shuffle: ties, which keep their order, become vanishingly
    unlikely. The output is always a true permutation.

    Args:
      key: key(s) of shape ``(..., 2)``.
      x: an integer ``n`` or an array with at least one dimension.
      axis: the axis of ``x`` to permute.

    Returns:
      For an integer, an ``int64`` array of shape ``key.shape[:-1] + (n,)``; for an array,
      the array with its slices permuted, of shape ``key.shape[:-1] + x.shape``.

    >>> sorted(permutation(key_from_seed(0), 5).tolist())
    [0, 1, 2, 3, 4]
    """
    key = _as_key(key)
    batch = _batch(key)
    if isinstance(x, (int, np.integer)):
        n, arr = operator.index(x), None
        if n < 0:
            raise ValueError(f"permutation: n must be non-negative, got {n}")
    else:
        arr = np.asarray(x)
        if arr.ndim == 0:
            raise ValueError("permutation: x must be an integer or have at least one axis")
        axis = operator.index(axis) % arr.ndim
        n = arr.shape[axis]
    rounds = max(1, math.ceil(3 * math.log2(max(n, 1)) / 64))
    subkeys = split(key, rounds)
    perm = np.broadcast_to(np.arange(n), batch + (n,))
    for i in range(rounds):
        sort_keys = random_bits(subkeys[..., i, :], (n,), 64)
        order = np.argsort(sort_keys, axis=-1, kind="stable")
        perm = np.take_along_axis(perm, order, axis=-1)
    if arr is None:
        return perm
    return np.moveaxis(np.moveaxis(arr, axis, 0)[perm], len(batch), len(batch) + axis)


def choice(key, a, shape: Shape = (), replace: bool = True, p=None,
           axis: int = 0) -> np.ndarray:
    """Random draws from ``range(a)`` or from an array's slices along ``axis``.

    With replacement and no ``p``: :func:`randint`. With ``p``: inverse CDF on the
    cumulative sum. Without replacement: a prefix of :func:`permutation`, or with ``p`` the
    top ``prod(shape)`` of ``log(p) + gumbel`` (Gumbel top-k). ``p`` is normalised.

    Args:
      key: key(s) of shape ``(..., 2)``.
      a: an integer ``n`` or an array with at least one dimension.
      shape: shape of the draws.
      replace: whether to draw with replacement.
      p: optional non-negative weights of shape ``(n,)``.
      axis: the axis of ``a`` to draw slices from.

    Returns:
      For an integer, ``int64`` indices of shape ``key.shape[:-1] + shape``; for an array,
      ``a`` with ``axis`` replaced by ``shape``, after the key batch dimensions.

    >>> c = choice(key_from_seed(0), 5, (3,), replace=False)
    >>> c.shape, len(set(c.tolist()))
    ((3,), 3)
    """
    key, shape = _as_key(key), _as_shape(shape)
    batch = _batch(key)
    if isinstance(a, (int, np.integer)):
        n, arr = operator.index(a), None
    else:
        arr = np.asarray(a)
        if arr.ndim == 0:
            raise ValueError("choice: a must be an integer or have at least one axis")
        axis = operator.index(axis) % arr.ndim
        n = arr.shape[axis]
    m = math.prod(shape)
    if m > 0 and n <= 0:
        raise ValueError("choice: cannot draw from an empty population")
    if not replace and m > n:
        raise ValueError(f"choice: cannot draw {m} of {n} without replacement")
    if p is None:
        if replace:
            idx = randint(key, shape, 0, n, np.int64)
        else:
            idx = permutation(key, n)[..., :m].reshape(batch + shape)
    else:
        p = np.asarray(p, np.float64)
        if p.shape != (n,) or (p < 0).any():
            raise ValueError(f"choice: p must be non-negative of shape ({n},)")
        if replace:
            cdf = np.cumsum(p)
            target = cdf[-1] * (1 - _unit_uniform(key, shape, np.dtype(np.float64)))
            idx = np.minimum(np.searchsorted(cdf, target, side="left"), n - 1)
        else:
            if m > np.count_nonzero(p):
                raise ValueError("choice: fewer non-zero probabilities than draws")
            with np.errstate(divide="ignore"):
                scores = np.log(p) + gumbel(key, (n,), np.float64)
            idx = np.argsort(-scores, axis=-1, kind="stable")[..., :m].reshape(batch + shape)
    if arr is None:
        return np.asarray(idx, np.int64)
    out = np.moveaxis(arr, axis, 0)[idx]  # batch + shape + other axes
    nb, ns = len(batch), len(shape)
    return np.moveaxis(out, list(range(nb, nb + ns)), list(range(nb + axis, nb + axis + ns)))


def categorical(key, logits, axis: int = -1, shape: Shape | None = None) -> np.ndarray:
    """Indices drawn with probabilities ``softmax(logits)`` along ``axis`` (Gumbel-max).

    Args:
      key: key(s) of shape ``(..., 2)``.
      logits: unnormalised log-probabilities; ``-inf`` excludes a category.
      axis: the category axis of ``logits``.
      shape: shape of the draws; must end with ``logits``' shape without ``axis`` (to which
        it defaults).

    Returns:
      ``int64`` indices of shape ``key.shape[:-1] + shape``.

    >>> logits = np.log(np.array([0.1, 0.9]))
    >>> c = categorical(key_from_seed(0), logits, shape=(10000,))
    >>> bool(abs(c.mean() - 0.9) < 0.02)
    True
    """
    logits = np.asarray(logits)
    dtype = logits.dtype if logits.dtype.kind == "f" else np.dtype(np.float64)
    moved = np.moveaxis(logits, axis, -1)
    batch_shape = moved.shape[:-1]
    shape = batch_shape if shape is None else _as_shape(shape)
    _check_broadcast(shape, batch_shape)
    scores = gumbel(key, shape + moved.shape[-1:], dtype) + moved
    return np.asarray(np.argmax(scores, axis=-1), np.int64)
