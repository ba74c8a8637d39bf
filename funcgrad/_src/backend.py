"""Array namespaces, configuration and funcgrad's dtype policy.

Every primitive's implementation asks :func:`xp_of` for the namespace of its inputs
(NumPy, or CuPy on a GPU), so the same declaration runs on both. The dtype policy is
JAX's: Python scalars and lists become float32 (int32 for integers) unless 64-bit mode
is on; NumPy arrays keep their dtype.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

try:  # CuPy is optional: the `gpu` extra.
    import cupy as _cupy  # type: ignore[import-not-found]

    _CUPY_TYPE: type | None = _cupy.ndarray
except Exception:  # pragma: no cover - depends on the machine
    _cupy = None
    _CUPY_TYPE = None


def xp_of(*xs: Any):
    """Return the array namespace (``numpy`` or ``cupy``) of the given values.

    >>> import numpy as np
    >>> xp_of(np.ones(2)) is np
    True
    """
    if _CUPY_TYPE is not None:
        for x in xs:
            if isinstance(x, _CUPY_TYPE):
                return _cupy
    return np


class _Config:
    """Global switches, set with ``fg.config.update(name, value)`` as in JAX."""

    _OPTIONS = ("enable_x64", "buffer_pool_bytes")

    def __init__(self) -> None:
        self.enable_x64 = os.environ.get("FUNCGRAD_ENABLE_X64", "0").lower() in ("1", "true")
        #: Most bytes of idle memory kept for reuse by large eager results (0: off); see
        #: ``funcgrad/_src/buffers.py``.
        self.buffer_pool_bytes = int(os.environ.get("FUNCGRAD_BUFFER_POOL_BYTES", 256 << 20))

    def update(self, name: str, value: Any) -> None:
        """Set a configuration option: ``"enable_x64"`` (bool) or ``"buffer_pool_bytes"``
        (int, the most idle memory kept to recycle large arrays; 0 turns recycling off).

        >>> import funcgrad as fg
        >>> fg.config.update("enable_x64", False)
        >>> fg.config.update("buffer_pool_bytes", 64 << 20)
        >>> fg.config.read("buffer_pool_bytes")
        67108864
        >>> fg.config.update("buffer_pool_bytes", 256 << 20)
        """
        name = name.removeprefix("jax_")
        if name not in self._OPTIONS:
            raise ValueError(f"config.update: unknown option {name!r}; known: "
                             f"{list(self._OPTIONS)}")
        if name == "buffer_pool_bytes":
            value = int(value)
            if value < 0:
                raise ValueError(f"config.update: buffer_pool_bytes must be >= 0, got {value}")
            from funcgrad._src import buffers

            buffers.clear()
        setattr(self, name, value)

    def read(self, name: str) -> Any:
        return getattr(self, name.removeprefix("jax_"))


config = _Config()

#: JAX's dtype of the gradient of an integer input when ``allow_int=True``.
float0 = np.dtype([("float0", np.void, 0)])


def default_float() -> np.dtype:
    return np.dtype(np.float64 if config.enable_x64 else np.float32)


def default_int() -> np.dtype:
    return np.dtype(np.int64 if config.enable_x64 else np.int32)


def default_complex() -> np.dtype:
    return np.dtype(np.complex128 if config.enable_x64 else np.complex64)


def canonicalize(x: Any):
    """Convert a boundary value to an array following the dtype policy.

    Arrays (NumPy or CuPy) and NumPy scalars keep their dtype; Python scalars and nested
    lists become float32 / int32 / complex64 (64-bit variants in x64 mode), bools stay bool.

    >>> canonicalize(1.5).dtype
    dtype('float32')
    >>> canonicalize(np.ones(2)).dtype
    dtype('float64')
    """
    if isinstance(x, np.ndarray) or (_CUPY_TYPE is not None and isinstance(x, _CUPY_TYPE)):
        return x
    if isinstance(x, np.generic):
        return np.asarray(x)
    if isinstance(x, bool):
        return np.asarray(x)
    if isinstance(x, int):
        return np.asarray(x, default_int())
    if isinstance(x, float):
        return np.asarray(x, default_float())
    if isinstance(x, complex):
        return np.asarray(x, default_complex())
    arr = np.asarray(x)
    return _weak_to_default(arr)


def _weak_to_default(arr):
    kind = arr.dtype.kind
    if kind == "f" and arr.dtype != default_float():
        return arr.astype(default_float())
    if kind in "iu" and arr.dtype == np.int64 and not config.enable_x64:
        return arr.astype(np.int32)
    if kind == "c" and arr.dtype != default_complex():
        return arr.astype(default_complex())
    if kind == "O":
        raise TypeError(f"funcgrad cannot convert a value of type {type(arr.flat[0]).__name__} "
                        "to an array (object dtype)")
    return arr


def is_inexact(dtype) -> bool:
    """True for floating and complex dtypes (those that carry gradients)."""
    return dtype.kind in "fc"
