"""Explicit-key random numbers, as ``jax.random``: no global state anywhere.

A key is a ``uint32`` array of shape ``(2,)`` made by :func:`key` (alias ``PRNGKey``) and
consumed by the samplers, which take ``(key, shape, dtype)`` in JAX's order. The same key
always gives the same numbers; use :func:`split` or :func:`fold_in` for new streams.

Each sampler is a primitive, so it works under ``jit`` (recorded in the graph) and under
``vmap`` over a batch of keys (the Threefry kernels are vectorised over leading key
dimensions: one array computation for the whole batch).

>>> import funcgrad as fg
>>> k1, k2 = fg.random.split(fg.random.key(0))
>>> fg.random.normal(k1, (2, 3)).shape
(2, 3)
"""

from __future__ import annotations

import numpy as np

from funcgrad._src import backend, prng
from funcgrad._src.core import Primitive, Tracer, bind
from funcgrad._src.ops.rules import moveaxis_to_front

__all__ = ["key", "PRNGKey", "split", "fold_in", "normal", "uniform", "bernoulli", "randint",
           "permutation", "choice", "categorical", "truncated_normal", "gumbel", "bits",
           "exponential", "laplace", "key_data", "wrap_key_data"]


def _random_impl(key, *args, fn, kw):
    return getattr(prng, fn)(key, *args, **dict(kw))


def _random_batch(axis_size, args, dims, *, fn, kw):
    key, rest = args[0], args[1:]
    if any(d is not None for d in dims[1:]):
        raise NotImplementedError(f"vmap of random.{fn} over its data arguments is not "
                                  "supported; batch the key instead")
    key = moveaxis_to_front(key, dims[0])
    if fn in ("permutation", "choice", "categorical") and key.ndim > 2:
        raise NotImplementedError(f"random.{fn}: nested vmap over keys is not supported")
    if fn in ("permutation", "choice", "categorical", "fold_in", "split"):
        # The kernels vectorise over leading key dims for these too.
        return bind(random_p, key, *rest, fn=fn, kw=kw), 0
    return bind(random_p, key, *rest, fn=fn, kw=kw), 0


random_p = Primitive("random", _random_impl, nondiff=True, batch=_random_batch)


def _key_arg(k, name):
    if isinstance(k, Tracer):
        if k.dtype != np.uint32 or tuple(k.shape[-1:]) != (2,):
            raise TypeError(f"random.{name}: expected a key (uint32 array of shape (2,)), got "
                            f"dtype {k.dtype} and shape {tuple(k.shape)}")
        return k
    k = np.asarray(k) if not hasattr(k, "dtype") else k
    if k.dtype != np.uint32 or k.shape[-1:] != (2,):
        raise TypeError(f"random.{name}: expected a key (uint32 array of shape (2,)) made by "
                        f"fg.random.key(seed); got dtype {k.dtype} and shape {tuple(k.shape)}")
    return k


def _shape(shape):
    if shape is None:
        return None
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in
                                                                            shape)


def _call(name, key, *args, **kw):
    key = _key_arg(key, name)
    return bind(random_p, key, *args, fn=name, kw=tuple(sorted(kw.items())))


def key(seed: int):
    """A key from an integer seed.

    >>> import funcgrad as fg
    >>> fg.random.key(0)
    array([0, 0], dtype=uint32)
    """
    return prng.key_from_seed(int(seed))


PRNGKey = key


def key_data(keys):
    """The raw ``uint32`` data of keys (keys are already raw arrays in funcgrad)."""
    return keys


def wrap_key_data(data):
    """Keys from raw ``uint32`` data."""
    return _key_arg(np.asarray(data, np.uint32), "wrap_key_data")


def split(key, num: int = 2):
    """Split a key into ``num`` new keys, shape ``(num, 2)``.

    >>> import funcgrad as fg
    >>> fg.random.split(fg.random.key(1), 3).shape
    (3, 2)
    """
    return _call("split", key, num=int(num))


def fold_in(key, data):
    """A new key derived from ``key`` and integer ``data``.

    >>> import funcgrad as fg
    >>> fg.random.fold_in(fg.random.key(0), 7).shape
    (2,)
    """
    return _call("fold_in", key, data=int(data)) if not isinstance(data, Tracer) else \
        bind(random_p, _key_arg(key, "fold_in"), data, fn="fold_in", kw=())


def _dt(dtype):
    return backend.default_float() if dtype is None else np.dtype(dtype)


def normal(key, shape=(), dtype=None):
    """Standard normal samples.

    >>> import funcgrad as fg
    >>> fg.random.normal(fg.random.key(0), (3,)).dtype
    dtype('float32')
    """
    return _call("normal", key, shape=_shape(shape), dtype=_dt(dtype))


def uniform(key, shape=(), dtype=None, minval=0.0, maxval=1.0):
    """Uniform samples in ``[minval, maxval)``.

    >>> import funcgrad as fg
    >>> x = fg.random.uniform(fg.random.key(0), (100,), minval=-1.0, maxval=1.0)
    >>> bool((x >= -1).all() and (x < 1).all())
    True
    """
    if isinstance(minval, Tracer) or isinstance(maxval, Tracer):
        u = _call("uniform", key, shape=_shape(shape), dtype=_dt(dtype))
        return (u * (maxval - minval) + minval).astype(_dt(dtype))
    return _call("uniform", key, shape=_shape(shape), dtype=_dt(dtype), minval=float(minval),
                 maxval=float(maxval))


def truncated_normal(key, lower, upper, shape=None, dtype=None):
    """Normal samples truncated to ``(lower, upper)``.

    >>> import funcgrad as fg
    >>> x = fg.random.truncated_normal(fg.random.key(0), -1.0, 1.0, (50,))
    >>> bool((abs(x) <= 1).all())
    True
    """
    return _call("truncated_normal", key, lower=float(lower), upper=float(upper),
                 shape=_shape(shape), dtype=_dt(dtype))


def gumbel(key, shape=(), dtype=None):
    """Standard Gumbel samples.

    >>> import funcgrad as fg
    >>> fg.random.gumbel(fg.random.key(0), (2,)).shape
    (2,)
    """
    return _call("gumbel", key, shape=_shape(shape), dtype=_dt(dtype))


def exponential(key, shape=(), dtype=None):
    """Standard exponential samples.

    >>> import funcgrad as fg
    >>> bool((fg.random.exponential(fg.random.key(0), (5,)) >= 0).all())
    True
    """
    return _call("exponential", key, shape=_shape(shape), dtype=_dt(dtype))


def laplace(key, shape=(), dtype=None):
    """Standard Laplace samples.

    >>> import funcgrad as fg
    >>> fg.random.laplace(fg.random.key(0), (2,)).shape
    (2,)
    """
    return _call("laplace", key, shape=_shape(shape), dtype=_dt(dtype))


def bernoulli(key, p=0.5, shape=None):
    """Boolean samples, True with probability ``p``.

    >>> import funcgrad as fg
    >>> fg.random.bernoulli(fg.random.key(0), 0.5, (4,)).dtype
    dtype('bool')
    """
    if isinstance(p, Tracer) or np.ndim(p) > 0:
        shp = _shape(shape) if shape is not None else tuple(np.shape(p) if not isinstance(
            p, Tracer) else p.shape)
        return uniform(key, shp) < p
    return _call("bernoulli", key, p=float(p), shape=_shape(shape))


def randint(key, shape, minval, maxval, dtype=None):
    """Integers uniform in ``[minval, maxval)``.

    >>> import funcgrad as fg
    >>> x = fg.random.randint(fg.random.key(0), (10,), 0, 3)
    >>> bool(((x >= 0) & (x < 3)).all())
    True
    """
    dtype = backend.default_int() if dtype is None else np.dtype(dtype)
    return _call("randint", key, shape=_shape(shape), minval=int(minval), maxval=int(maxval),
                 dtype=dtype)


def permutation(key, x, axis: int = 0):
    """A random permutation of ``arange(x)`` (int ``x``) or of ``x`` along ``axis``.

    >>> import funcgrad as fg
    >>> sorted(fg.random.permutation(fg.random.key(0), 5).tolist())
    [0, 1, 2, 3, 4]
    """
    if isinstance(x, (int, np.integer)):
        return _call("permutation", key, x=int(x))
    from funcgrad._src.ops.indexing import take

    n = x.shape[axis]
    perm = _call("permutation", key, x=int(n))
    return take(x, perm, axis=axis)


def choice(key, a, shape=(), replace: bool = True, p=None, axis: int = 0):
    """Random samples from ``arange(a)`` or from ``a`` along ``axis``.

    >>> import funcgrad as fg
    >>> fg.random.choice(fg.random.key(0), 10, (3,), replace=False).shape
    (3,)
    """
    shape = _shape(shape)
    if isinstance(a, (int, np.integer)):
        if p is None:
            return _call("choice", key, a=int(a), shape=shape, replace=bool(replace))
        return _call("choice", key, a=int(a), shape=shape, replace=bool(replace),
                     p=tuple(np.asarray(p, np.float64).tolist()))
    from funcgrad._src.ops.indexing import take

    n = a.shape[axis]
    idx = choice(key, n, shape, replace, p)
    return take(a, idx, axis=axis)


def categorical(key, logits, axis: int = -1, shape=None):
    """Samples from a categorical distribution given (possibly traced) logits, by the
    Gumbel-max trick.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> int(fg.random.categorical(fg.random.key(0), fnp.array([-1e9, 0.0, -1e9])))
    1
    """
    from funcgrad._src.ops.reductions import argmax

    lshape = tuple(logits.shape)
    axis = axis % len(lshape)
    if shape is None:
        shape = lshape[:axis] + lshape[axis + 1:]
    from funcgrad._src.ops.shape import moveaxis

    shape = _shape(shape)
    g = gumbel(key, shape + (lshape[axis],), dtype=getattr(logits, "dtype", None))
    return argmax(g + moveaxis(logits, axis, -1), axis=-1)


def bits(key, shape=(), dtype=None):
    """Raw random bits as unsigned integers.

    >>> import funcgrad as fg
    >>> fg.random.bits(fg.random.key(0), (2,)).dtype
    dtype('uint32')
    """
    return _call("bits", key, shape=_shape(shape), dtype=np.dtype(dtype or np.uint32))
