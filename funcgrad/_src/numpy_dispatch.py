"""NumPy's dispatch protocols on traced values.

``np.sin(tracer)`` and ``np.dot(tracer, w)`` reach ``Tracer.__array_ufunc__`` /
``__array_function__``; we run the :mod:`funcgrad.numpy` function of the same name, so the
gradient is kept. Anything funcgrad does not provide raises a TypeError that says to use
``funcgrad.numpy`` — never a silently dropped gradient.
"""

from __future__ import annotations


def _fnp():
    import funcgrad.numpy as fnp

    return fnp


def _missing(name: str) -> TypeError:
    return TypeError(
        f"numpy.{name} was applied to a traced value, and funcgrad has no equivalent to "
        "dispatch to; calling NumPy directly would drop the value from the transform. Use "
        "funcgrad.numpy (`import funcgrad.numpy as fnp`) inside transformed functions.")


def dispatch_ufunc(ufunc, method, inputs, kwargs):
    name = ufunc.__name__
    if method != "__call__" or kwargs.get("out") is not None:
        raise _missing(f"{name}.{method}" if method != "__call__" else f"{name}(out=...)")
    fn = getattr(_fnp(), name, None)
    if fn is None:
        raise _missing(name)
    kwargs = {k: v for k, v in kwargs.items() if k not in ("casting", "order", "subok")}
    return fn(*inputs, **kwargs)


def dispatch_function(func, args, kwargs):
    name = func.__name__
    mod = getattr(func, "__module__", "") or ""
    ns = _fnp()
    if mod.startswith("numpy.linalg"):
        ns = getattr(ns, "linalg", None)
    fn = getattr(ns, name, None) if ns is not None else None
    if fn is None:
        raise _missing(name)
    return fn(*args, **kwargs)
