"""The optimizer protocol: :class:`GradientTransformation`, :func:`apply_updates`, helpers.

An optimizer is a pair of pure functions, as in optax::

    state = opt.init(params)
    updates, state = opt.update(grads, state, params)
    params = apply_updates(params, updates)

``updates`` are what is *added* to the parameters (so a descent step is negative). States
are pytrees of arrays (NamedTuples holding an integer ``count`` array and trees shaped like
the parameters), so they go through ``fg.jit`` and :mod:`funcgrad_nn.checkpoint` unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

import funcgrad.numpy as fnp
from funcgrad import tree

__all__ = [
    "EmptyState",
    "GradientTransformation",
    "OptState",
    "Params",
    "Schedule",
    "ScalarOrSchedule",
    "Updates",
    "apply_updates",
    "global_norm",
]

Params = Any
Updates = Any
OptState = Any
Schedule = Callable[[Any], Any]
ScalarOrSchedule = float | Any | Schedule

_INT32_MAX = int(np.iinfo(np.int32).max)


class GradientTransformation(NamedTuple):
    """A pair of pure functions ``init(params) -> state`` and
    ``update(updates, state, params=None) -> (updates, state)``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn import optim
    >>> opt = optim.scale(-0.5)
    >>> updates, state = opt.update({"w": fnp.ones(2)}, opt.init({"w": fnp.ones(2)}))
    >>> updates["w"]
    array([-0.5, -0.5], dtype=float32)
    """

    init: Callable[[Params], OptState]
    update: Callable[..., tuple[Updates, OptState]]


class EmptyState(NamedTuple):
    """The state of a stateless transformation (no leaves).

    >>> from funcgrad import tree
    >>> tree.leaves(EmptyState())
    []
    """


def apply_updates(params: Params, updates: Updates) -> Params:
    """Add ``updates`` to ``params`` leafwise, keeping each parameter's dtype.

    Args:
        params: a pytree of arrays.
        updates: a pytree with the same structure (the output of ``opt.update``).

    Returns:
        ``params + updates``, each leaf cast back to its parameter's dtype.

    Raises:
        ValueError: if the two trees have different structures.

    >>> import numpy as np
    >>> apply_updates({"w": np.ones(2, np.float16)}, {"w": np.full(2, 0.5)})["w"]
    array([1.5, 1.5], dtype=float16)
    """
    check_structure(updates, params, "apply_updates", "the parameters")

    def add(p, u):
        out = fnp.add(p, u)
        return fnp.asarray(out, dtype=p.dtype) if hasattr(p, "dtype") else out

    return tree.map(add, params, updates)


def global_norm(updates: Updates):
    """The L2 norm of all leaves together, ``sqrt(sum(sum(x**2) for x in leaves))``.

    Args:
        updates: a pytree of arrays.

    Returns:
        A 0-d array (0 for an empty tree).

    >>> import funcgrad.numpy as fnp
    >>> float(global_norm({"a": fnp.array([3.0]), "b": fnp.array([[4.0]])}))
    5.0
    """
    leaves = tree.leaves(updates)
    if not leaves:
        return fnp.zeros(())
    total = fnp.sum(fnp.square(leaves[0]))
    for x in leaves[1:]:
        total = total + fnp.sum(fnp.square(x))
    return fnp.sqrt(total)


# ------------------------------------------------------------------------------------------
# Helpers shared by the transforms (private)
# ------------------------------------------------------------------------------------------


def check_structure(updates: Updates, reference: Any, who: str, what: str) -> None:
    """Raise a ValueError naming both structures unless ``updates`` is shaped like
    ``reference``."""
    got, want = tree.structure(updates), tree.structure(reference)
    if got != want:
        raise ValueError(
            f"{who}: the updates (gradients) have tree structure {got}, but {what} have "
            f"tree structure {want}. Pass gradients of the same parameters the optimizer "
            "state was initialised with (opt.init(params)).")


def zeros_count():
    """A fresh step counter: an int32 0-d array."""
    return fnp.zeros((), fnp.int32)


def increment(count):
    """``count + 1``, saturating at the int32 maximum instead of overflowing."""
    return count + fnp.where(count < _INT32_MAX, 1, 0).astype(fnp.int32)


def as_float(x, dtype=np.float64):
    """``x`` (an int count, possibly traced) as a float array, float64 by default: bias
    corrections are computed in double precision, as PyTorch does in Python floats."""
    return fnp.asarray(x, dtype=dtype)


def cast_like(x, like):
    """``x`` in ``like``'s dtype; Python scalars are returned unchanged (they are weak)."""
    if type(x) in (int, float):  # not np.float64, a float subclass that is not weak
        return x
    return fnp.asarray(x, dtype=like.dtype)


def is_static_zero(x) -> bool:
    """True only for a Python number equal to 0 (arrays, possibly traced, count as nonzero,
    so that no Python ``if`` ever looks at an array value)."""
    return x is None or (isinstance(x, (int, float)) and not isinstance(x, bool) and x == 0)


def check_schedule(fn: Schedule, name: str = "schedule") -> None:
    """Evaluate a schedule at step 0 and raise a ValueError unless it is finite."""
    value = fn(fnp.zeros((), fnp.int32))
    if isinstance(value, (int, float)):
        ok = np.isfinite(value)
    else:
        from funcgrad._src.core import Tracer

        if isinstance(value, Tracer):  # evaluated under a transform: nothing to check
            return
        ok = bool(np.all(np.isfinite(np.asarray(value))))
    if not ok:
        raise ValueError(f"{name} returned {value!r} at step 0; a learning rate or "
                         "hyperparameter schedule must give finite values")
