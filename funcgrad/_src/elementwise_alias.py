"""Small aliases for ``fg.lax``."""

from funcgrad._src.ops.elementwise import where


def select(pred, on_true, on_false):
    """``on_true`` where ``pred`` else ``on_false`` (``jax.lax.select``).

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> fg.lax.select(fnp.array([True, False]), fnp.ones(2), fnp.zeros(2))
    array([1., 0.], dtype=float32)
    """
    return where(pred, on_true, on_false)
