"""Recycled memory for large NumPy results.

A training step makes the same large arrays every time: convolution outputs, pooled maps,
their gradients. Fresh large NumPy arrays come from ``malloc``, and glibc hands freed large
blocks back to the kernel, so each step's arrays are new pages and every page is faulted
in (and zeroed by the kernel) again — more than a millisecond per step for a small CNN,
and far more when other code in the process churns memory in between.

:func:`empty` gives out arrays backed by blocks that come back here when the last array or
view using them dies, to be handed out again for the next array of the same size. That is
what PyTorch's and JAX's own allocators do. A block is found by its size rounded up to
whole pages, the pool holds at most ``fg.config.buffer_pool_bytes`` of idle blocks (256 MiB
unless ``FUNCGRAD_BUFFER_POOL_BYTES`` says otherwise; 0 turns recycling off), and small
arrays, which malloc serves well, are never pooled.

Safety: a block is returned only when no array can reach it. Every array this module makes
has a private owner object as its ``base``; views keep that array (and so the owner) alive,
and a weak reference to the owner releases the block when the owner dies.
"""

from __future__ import annotations

import os
import threading
import weakref

import numpy as np

from funcgrad._src.backend import config

__all__ = ["empty", "zeros", "clear", "idle_bytes"]

#: Smaller arrays come straight from NumPy: malloc serves them from its heap without page
#: faults often enough that recycling them did not pay (measured on the MLP benchmark).
MIN_BYTES = 1 << 20
_PAGE = 4096

_lock = threading.Lock()
_idle: dict[int, list[tuple[np.ndarray, int]]] = {}  # size -> [(block, its address)]
_idle_bytes = 0
_refs: set = set()
_typestr: dict = {}


class _Owner:
    """Exports one pooled block as an array (NumPy reads ``__array_interface__``); its
    death returns the block."""

    __slots__ = ("block", "__array_interface__", "__weakref__")


class _Ref(weakref.ref):
    __slots__ = ("block", "address")


def _release(ref: _Ref) -> None:
    global _idle_bytes
    _refs.discard(ref)
    block = ref.block
    with _lock:
        if _idle_bytes + block.nbytes <= config.buffer_pool_bytes:
            _idle.setdefault(block.nbytes, []).append((block, ref.address))
            _idle_bytes += block.nbytes


def empty(shape: tuple, dtype) -> np.ndarray:
    """An uninitialised C-contiguous NumPy array, from a recycled block when it is large.

    >>> from funcgrad._src import buffers
    >>> a = buffers.empty((512, 512), np.float32)
    >>> a.shape, a.dtype, a.flags.c_contiguous, a.flags.writeable
    ((512, 512), dtype('float32'), True, True)
    >>> del a  # its block is idle now, and the next array of this size reuses it
    >>> buffers.idle_bytes() >= 512 * 512 * 4
    True
    """
    global _idle_bytes
    dtype = np.dtype(dtype)
    n = dtype.itemsize
    for d in shape:
        n *= d
    if n < MIN_BYTES or config.buffer_pool_bytes <= 0:
        return np.empty(shape, dtype)
    typestr = _typestr.get(dtype)
    if typestr is None:
        if dtype.fields is not None or dtype.hasobject or dtype.subdtype is not None:
            return np.empty(shape, dtype)  # structured dtypes: not worth describing
        typestr = _typestr[dtype] = dtype.str
    size = -(-n // _PAGE) * _PAGE
    found = None
    with _lock:
        stack = _idle.get(size)
        if stack:
            found = stack.pop()
            _idle_bytes -= size
    if found is None:
        block = np.empty(size, np.uint8)
        address = block.__array_interface__["data"][0]
    else:
        block, address = found
    owner = _Owner()
    owner.block = block
    owner.__array_interface__ = {"shape": tuple(shape), "typestr": typestr,
                                 "data": (address, False), "version": 3}
    ref = _Ref(owner, _release)
    ref.block = block
    ref.address = address
    _refs.add(ref)
    return np.asarray(owner)


def zeros(shape: tuple, dtype) -> np.ndarray:
    """Like :func:`empty`, filled with zeros.

    >>> from funcgrad._src import buffers
    >>> float(buffers.zeros((400, 400), np.float64).sum())
    0.0
    """
    out = empty(shape, dtype)
    out.fill(0)
    return out


def clear() -> None:
    """Drop every idle block (memory in use is untouched).

    >>> from funcgrad._src import buffers
    >>> buffers.clear(); buffers.idle_bytes()
    0
    """
    global _idle_bytes
    with _lock:
        _idle.clear()
        _idle_bytes = 0


def idle_bytes() -> int:
    """Bytes held in idle blocks, waiting to be reused."""
    return _idle_bytes


def _prime_malloc(nbytes: int = 8 << 20) -> None:
    """Free one ``nbytes`` array, once, at import.

    glibc serves every block above its mmap threshold — 128 KiB when a process starts —
    with fresh ``mmap`` pages, faulted in on use and unmapped on free, and only raises the
    threshold (to the size of the largest such block freed, at most 32 MiB; its trim
    threshold follows at twice that) once something that large has been freed. Until then
    every mid-sized temporary of a training step costs page faults: a small GRU step ran at
    half speed in a fresh process (5.5 ms against 2.8 ms). An 8 MiB array freed here moves
    the threshold to where it would settle anyway; nothing is touched or kept. Turned off
    with the pool (``FUNCGRAD_BUFFER_POOL_BYTES=0``)."""
    np.empty(nbytes, np.uint8)


def _after_fork_in_child() -> None:
    """A forked child (a DataLoader worker, say) starts with a fresh lock, in case another
    thread held it at the fork, and without the parent's idle blocks."""
    global _lock, _idle_bytes
    _lock = threading.Lock()
    _idle.clear()
    _idle_bytes = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

if config.buffer_pool_bytes > 0:
    _prime_malloc()
