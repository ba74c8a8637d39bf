"""The core: primitives, traces, tracers and ``bind``.

A funcgrad program is a composition of *primitives* (``sin``, ``add``, ``matmul``, ...).
A :class:`Primitive` carries everything the transforms need to know about it, declared
in one place next to its implementation:

* ``impl(*arrays, **params)`` — the computation, through the inputs' array namespace;
* ``vjp`` — one function per positional argument, ``vjp[i](g, ans, *args, **params)``,
  returning the cotangent of argument ``i`` (``None`` where it is not differentiable);
* ``jvp(primals, tangents, **params) -> (primal_out, tangent_out)``, tangents ``None``
  meaning a symbolic zero;
* ``batch(axis_size, args, dims, **params) -> (out, out_dim)`` for ``vmap``.

Rules are written with funcgrad's own operations, so they can be differentiated again.

Transforms are *traces*. Each transform invocation pushes a :class:`Trace` with a level one
above the current top of the trace stack and wraps its inputs in :class:`Tracer` objects
that belong to it. ``bind(prim, *args)`` looks for the highest-level trace among its
arguments' tracers and lets it ``process_primitive``; the trace unwraps its own tracers and
binds again on the inner values, so lower traces see the operation next. With no tracer
among the arguments, ``bind`` runs the implementation on plain arrays: this is the fast path
that eager code, and the rules inside a backward pass, take.

Because a tracer belongs to exactly one trace, an inner transform treats an outer
transform's tracers as constants and hands them down: there is no perturbation confusion.
A tracer whose trace has ended raises :class:`UnexpectedTracerError` when used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

__all__ = [
    "Primitive",
    "Trace",
    "Tracer",
    "bind",
    "primitives",
    "new_trace",
    "ConcretizationTypeError",
    "UnexpectedTracerError",
]

#: Every primitive, by name: the registry the audit test walks.
primitives: dict[str, Primitive] = {}


class Primitive:
    """A named operation with its implementation and transformation rules.

    Args:
        name: unique name, shown by ``make_jaxpr`` and in errors.
        impl: ``impl(*arrays, **params)``; arrays positional, static params keyword-only.
        vjp: per-argument VJP functions ``(g, ans, *args, **params) -> cotangent``.
        jvp: ``(primals, tangents, **params) -> (primal_out, tangent_out)``.
        batch: ``(axis_size, args, dims, **params) -> (out, out_dim)``.
        nondiff: the output carries no gradient (comparisons, ``argmax``, ``floor``).
        multiple_results: ``impl`` returns a tuple of arrays.
    """

    __slots__ = ("name", "impl", "vjp", "jvp", "batch", "nondiff", "multiple_results",
                 "jit_impl", "__dict__")

    def __init__(self, name: str, impl: Callable, *, vjp=None, jvp=None, batch=None,
                 nondiff: bool = False, multiple_results: bool = False,
                 jit_impl: Callable | None = None) -> None:
        if name in primitives:
            raise ValueError(f"primitive {name!r} is already registered")
        self.name = name
        self.impl = impl
        self.vjp = vjp
        self.jvp = jvp
        self.batch = batch
        self.nondiff = nondiff
        self.multiple_results = multiple_results
        # Optional: (xp, **params) -> callable(*arrays), used by jit's code generator.
        self.jit_impl = jit_impl
        primitives[name] = self

    def bind(self, *args, **params):
        return bind(self, *args, **params)

    def __repr__(self) -> str:
        return self.name


class ConcretizationTypeError(TypeError):
    """A traced value's concrete value was needed where it is not known."""


class UnexpectedTracerError(RuntimeError):
    """A traced value was used after the transform that created it returned."""


class Trace:
    """One active transform. Subclasses implement ``process_primitive``."""

    __slots__ = ("level", "alive", "__weakref__")

    def __init__(self, level: int) -> None:
        self.level = level
        self.alive = True

    def process_primitive(self, prim: Primitive, args: Sequence, params: dict):
        raise NotImplementedError

    def process_custom_vjp(self, call, args: Sequence):
        """Handle a ``custom_vjp`` function applied to ``args`` (some are our tracers)."""
        raise NotImplementedError

    def process_custom_jvp(self, call, args: Sequence):
        raise NotImplementedError

    def concrete(self, tracer: Tracer, what: str):
        """The concrete value of ``tracer``, or raise ConcretizationTypeError."""
        raise NotImplementedError


_trace_stack: list[Trace] = []


@contextmanager
def new_trace(cls: type, *args):
    """Push a new trace of type ``cls`` one level above the current top."""
    trace = cls(len(_trace_stack) + 1, *args)
    _trace_stack.append(trace)
    try:
        yield trace
    finally:
        trace.alive = False
        _trace_stack.pop()


def bind(prim: Primitive, *args, **params):
    """Apply ``prim`` to ``args``: run it, or hand it to the innermost transform."""
    top = None
    for a in args:
        if isinstance(a, Tracer):
            t = a._trace
            if top is None or t.level > top.level:
                top = t
    if top is None:
        out = prim.impl(*args, **params)
        return out if type(out) is np.ndarray else as_array(out)
    if not top.alive:
        raise UnexpectedTracerError(_leak_msg(prim.name))
    return top.process_primitive(prim, args, params)


def as_array(x):
    """NumPy scalars (what ufuncs return for 0-d inputs) become 0-d arrays."""
    if isinstance(x, np.generic):
        return np.asarray(x)
    if isinstance(x, tuple) and x and isinstance(x[0], np.generic):
        return tuple(np.asarray(v) if isinstance(v, np.generic) else v for v in x)
    return x


def find_top_trace(xs) -> Trace | None:
    top = None
    for a in xs:
        if isinstance(a, Tracer):
            t = a._trace
            if top is None or t.level > top.level:
                top = t
    if top is not None and not top.alive:
        raise UnexpectedTracerError(_leak_msg("a transformed function"))
    return top


def _leak_msg(where: str) -> str:
    return (f"{where}: encountered a traced value whose transform has already returned "
            "(a leaked tracer). Values created inside grad/vjp/jvp/vmap/jit must not be "
            "stored in globals or closures and used after the transform finishes; return "
            "them instead (e.g. with has_aux=True).")


def concrete_value(x):
    """The plain array underneath ``x`` (through every level of tracers), if known."""
    while isinstance(x, Tracer):
        x = x._trace.concrete(x, "concrete_value")
    return x


class Tracer:
    """A value being traced by one transform; behaves like an array.

    Arithmetic, comparisons, indexing and the usual array methods dispatch to
    :mod:`funcgrad.numpy` (they are attached by :mod:`funcgrad._src.ops`). Subclasses
    provide ``aval`` (an object with ``shape`` and ``dtype``) and ``_trace``.
    """

    __slots__ = ("_trace",)
    __array_priority__ = 1000

    # --- abstract value -------------------------------------------------------------
    @property
    def aval(self):
        raise NotImplementedError

    @property
    def shape(self) -> tuple[int, ...]:
        return self.aval.shape

    @property
    def dtype(self) -> np.dtype:
        return self.aval.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object (a 0-d traced array)")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d traced array")
        return (self[i] for i in range(self.shape[0]))

    # --- concreteness ---------------------------------------------------------------
    def __bool__(self) -> bool:
        return bool(self._trace.concrete(self, "bool"))

    def __float__(self) -> float:
        return float(self._trace.concrete(self, "float"))

    def __int__(self) -> int:
        return int(self._trace.concrete(self, "int"))

    def __index__(self) -> int:
        return int(self._trace.concrete(self, "index"))

    def __complex__(self) -> complex:
        return complex(self._trace.concrete(self, "complex"))

    def item(self):
        return self._trace.concrete(self, "item").item()

    def tolist(self):
        return self._trace.concrete(self, "tolist").tolist()

    # --- NumPy interop: never silently drop the gradient ----------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            f"A traced value (shape {self.shape}, dtype {self.dtype}) was converted to a NumPy "
            "array, which would silently drop it from the transform. Use funcgrad.numpy "
            "(`import funcgrad.numpy as fnp`) instead of numpy inside transformed functions, "
            "or fg.stop_gradient / return it as aux if you need the value.")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from funcgrad._src.numpy_dispatch import dispatch_ufunc

        return dispatch_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        from funcgrad._src.numpy_dispatch import dispatch_function

        return dispatch_function(func, args, kwargs)

    def __setitem__(self, idx, value):
        raise TypeError(
            "funcgrad arrays are immutable: in-place item assignment on a traced value is not "
            "supported. Use the functional update `x = x.at[idx].set(value)` "
            "(also .add, .multiply, .min, .max).")

    def __hash__(self):
        raise TypeError("unhashable type: traced array")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(shape={self.shape}, dtype={self.dtype})"


class ShapedArray:
    """An abstract value: shape and dtype."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype) -> None:
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)

    def __repr__(self) -> str:
        return f"{self.dtype.name}{list(self.shape)}"


def aval_of(x) -> Any:
    """Shape and dtype of an array, scalar or tracer."""
    if isinstance(x, Tracer):
        return x.aval
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return x
    return np.asarray(x)
