"""Combinators: build optimizers out of transformations, or wrap them.

``chain`` runs transformations in sequence; ``masked`` and ``partition`` apply them to parts
of the parameter tree; ``MultiSteps`` accumulates gradients; ``apply_if_finite`` skips
non-finite updates; ``inject_hyperparams`` moves hyperparameters into the state. All of them
are written without Python control flow on array values (``fnp.where`` selects), so they jit.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

import numpy as np

import funcgrad.numpy as fnp
from funcgrad import tree
from funcgrad._src.core import Tracer
from funcgrad_nn.optim.base import (
    GradientTransformation,
    OptState,
    Params,
    Updates,
    cast_like,
    check_schedule,
    check_structure,
    increment,
    zeros_count,
)

__all__ = [
    "ApplyIfFiniteState",
    "InjectHyperparamsState",
    "MaskedState",
    "MultiSteps",
    "MultiStepsState",
    "PartitionState",
    "apply_if_finite",
    "chain",
    "inject_hyperparams",
    "masked",
    "multi_transform",
    "partition",
]


def _select(pred, new, old):
    """``new`` where the scalar ``pred`` holds, else ``old``, leafwise (jit-friendly)."""
    return tree.map(lambda n, o: fnp.where(pred, n, o), new, old)


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Apply transformations one after the other; the state is the tuple of their states.

    Args:
        *transforms: GradientTransformations, applied left to right.

    Returns:
        A GradientTransformation.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.optim import clip, scale
    >>> opt = chain(clip(1.0), scale(-0.1))
    >>> opt.update(fnp.array([5.0]), opt.init(fnp.zeros(1)))[0]
    array([-0.1], dtype=float32)
    """
    for i, t in enumerate(transforms):
        if not (hasattr(t, "init") and hasattr(t, "update")):
            raise TypeError(f"chain: argument {i} is not a GradientTransformation: {t!r}")

    def init(params):
        return tuple(t.init(params) for t in transforms)

    def update(updates, state, params=None):
        if not isinstance(state, tuple) or len(state) != len(transforms):
            raise ValueError(f"chain: expected a state of {len(transforms)} transformations, "
                             f"got {type(state).__name__}")
        new_state = []
        for t, s in zip(transforms, state):
            updates, s = t.update(updates, s, params)
            new_state.append(s)
        return updates, tuple(new_state)

    return GradientTransformation(init, update)


# ------------------------------------------------------------------------------------------
# Applying transformations to part of the tree
# ------------------------------------------------------------------------------------------


class MaskedState(NamedTuple):
    """State of :func:`masked`: the inner state, over the selected leaves only."""

    inner_state: OptState


def _mask_of(mask, tree_, who: str):
    m = mask(tree_) if callable(mask) else mask
    for leaf in tree.leaves(m):
        if not isinstance(leaf, (bool, np.bool_)):
            raise ValueError(f"{who}: mask leaves must be Python bools, got {leaf!r}")
    return m


def _keep(m, tree_, who: str):
    """``tree_`` with the leaves (subtrees) where ``m`` is False replaced by ``None``."""
    try:
        return tree.map(lambda keep, x: x if keep else None, m, tree_)
    except ValueError:
        raise ValueError(f"{who}: the mask's tree structure {tree.structure(m)} is not a "
                         f"prefix of the updates' tree structure {tree.structure(tree_)}"
                         ) from None


def masked(inner: GradientTransformation, mask: Any) -> GradientTransformation:
    """Apply ``inner`` to the leaves where ``mask`` is True; leave the others unchanged.

    The inner transformation sees only the selected leaves (the others are ``None``), so its
    state holds nothing for them.

    Args:
        inner: the transformation to apply.
        mask: a tree of bools with the parameters' structure (or a prefix of it), or a
            function ``params -> tree of bools``; a function is applied to the parameters in
            ``init`` and to the updates in ``update``.

    Returns:
        A GradientTransformation with :class:`MaskedState`.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.optim import scale
    >>> opt = masked(scale(0.0), {"w": True, "b": False})
    >>> grads = {"w": fnp.ones(1), "b": fnp.ones(1)}
    >>> opt.update(grads, opt.init(grads))[0]
    {'b': array([1.], dtype=float32), 'w': array([0.], dtype=float32)}
    """

    def init(params):
        m = _mask_of(mask, params, "masked")
        return MaskedState(inner.init(_keep(m, params, "masked")))

    def update(updates, state, params=None):
        m = _mask_of(mask, updates, "masked")
        sub_params = None if params is None else _keep(m, params, "masked")
        new, inner_state = inner.update(_keep(m, updates, "masked"), state.inner_state,
                                        sub_params)
        out = tree.map(lambda keep, n, u: n if keep else u, m, new, updates)
        return out, MaskedState(inner_state)

    return GradientTransformation(init, update)


class PartitionState(NamedTuple):
    """State of :func:`partition`: one inner state per label."""

    inner_states: dict


def partition(transforms: dict[Hashable, GradientTransformation],
              param_labels: Any) -> GradientTransformation:
    """Apply a different transformation to each labelled group of parameters.

    optax's ``multi_transform`` (also exported under that name).

    Args:
        transforms: ``{label: transformation}``.
        param_labels: a tree of labels with the parameters' structure (or a prefix), or a
            function ``params -> tree of labels``.

    Returns:
        A GradientTransformation with :class:`PartitionState`.

    Raises:
        ValueError: if a label has no transformation.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.optim import scale, sgd
    >>> opt = partition({"fast": sgd(1.0), "frozen": scale(0.0)},
    ...                 {"w": "fast", "b": "frozen"})
    >>> grads = {"w": fnp.ones(1), "b": fnp.ones(1)}
    >>> opt.update(grads, opt.init(grads))[0]
    {'b': array([0.], dtype=float32), 'w': array([-1.], dtype=float32)}
    """

    def labels_of(tree_):
        labels = param_labels(tree_) if callable(param_labels) else param_labels
        missing = {lab for lab in tree.leaves(labels)} - set(transforms)
        if missing:
            raise ValueError(f"partition: no transformation for the labels {sorted(missing)} "
                             f"(transformations given for {sorted(transforms)})")
        return labels

    inner = {
        k: masked(t, lambda tree_, k=k: tree.map(lambda lab: lab == k, labels_of(tree_)))
        for k, t in transforms.items()
    }

    def init(params):
        return PartitionState({k: t.init(params) for k, t in inner.items()})

    def update(updates, state, params=None):
        new_states = {}
        for k, t in inner.items():
            updates, new_states[k] = t.update(updates, state.inner_states[k], params)
        return updates, PartitionState(new_states)

    return GradientTransformation(init, update)


multi_transform = partition


# ------------------------------------------------------------------------------------------
# Gradient accumulation
# ------------------------------------------------------------------------------------------


class MultiStepsState(NamedTuple):
    """State of :class:`MultiSteps`.

    Attributes:
        mini_step: gradients accumulated in the current window (int32).
        gradient_step: updates applied by the inner optimizer so far (int32).
        inner_opt_state: the inner optimizer's state.
        acc_grads: the running mean of the window's gradients.
    """

    mini_step: Any
    gradient_step: Any
    inner_opt_state: OptState
    acc_grads: Updates


class MultiSteps:
    """Gradient accumulation: call the inner optimizer once every ``k`` updates.

    Each call adds the gradients to a running mean; on the ``k``-th call the inner optimizer
    is applied to the mean and its updates returned, otherwise the updates are zeros and the
    inner state is unchanged. The object has ``init``/``update`` like a
    GradientTransformation (and :meth:`gradient_transformation` gives one). NOTE: to stay
    jit-friendly the inner update is computed on every call and selected with ``fnp.where``.

    Args:
        opt: the inner optimizer.
        every_k_schedule: ``k``, an int ``>= 1``, or a function of the number of updates
            applied so far (``gradient_step``) giving ``k``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.optim import sgd
    >>> opt = MultiSteps(sgd(1.0), every_k_schedule=2)
    >>> state = opt.init(fnp.zeros(1))
    >>> u, state = opt.update(fnp.array([1.0]), state)
    >>> u, state = opt.update(fnp.array([3.0]), state)
    >>> u
    array([-2.], dtype=float32)
    """

    def __init__(self, opt: GradientTransformation,
                 every_k_schedule: int | Callable[[Any], Any]) -> None:
        if callable(every_k_schedule):
            self._every_k = every_k_schedule
        else:
            if isinstance(every_k_schedule, bool) or not isinstance(every_k_schedule, int) \
                    or every_k_schedule < 1:
                raise ValueError(f"MultiSteps: every_k_schedule must be an int >= 1 or a "
                                 f"schedule, got {every_k_schedule!r}")
            k = every_k_schedule
            self._every_k = lambda step: k
        self.inner_opt = opt

    def init(self, params: Params) -> MultiStepsState:
        """The initial state: empty window, zero accumulated gradients.

        Args:
            params: the parameters.

        Returns:
            A :class:`MultiStepsState`.
        """
        return MultiStepsState(zeros_count(), zeros_count(), self.inner_opt.init(params),
                               tree.map(fnp.zeros_like, params))

    def update(self, updates: Updates, state: MultiStepsState,
               params: Params | None = None) -> tuple[Updates, MultiStepsState]:
        """Accumulate ``updates``; apply the inner optimizer on the ``k``-th call.

        Args:
            updates: the gradients.
            state: the current state.
            params: the parameters (passed to the inner optimizer).

        Returns:
            ``(updates, new_state)``; the updates are zeros except on the ``k``-th call.
        """
        check_structure(updates, state.acc_grads, "MultiSteps",
                        "the parameters the optimizer state was initialised with")
        n = state.mini_step + 1
        acc = tree.map(lambda a, g: a + (g - a) / cast_like(n, a), state.acc_grads, updates)
        emit = n >= self._every_k(state.gradient_step)
        inner_updates, inner_state = self.inner_opt.update(acc, state.inner_opt_state, params)
        out = tree.map(lambda u: fnp.where(emit, u, fnp.zeros_like(u)), inner_updates)
        new_state = MultiStepsState(
            mini_step=fnp.where(emit, 0, n).astype(fnp.int32),
            gradient_step=fnp.where(emit, increment(state.gradient_step), state.gradient_step),
            inner_opt_state=_select(emit, inner_state, state.inner_opt_state),
            acc_grads=tree.map(lambda a: fnp.where(emit, fnp.zeros_like(a), a), acc),
        )
        return out, new_state

    def has_updated(self, state: MultiStepsState):
        """Whether the last :meth:`update` applied the inner optimizer (a bool array).

        Args:
            state: the state returned by :meth:`update`.

        Returns:
            A 0-d bool array.
        """
        return fnp.logical_and(state.mini_step == 0, state.gradient_step > 0)

    def gradient_transformation(self) -> GradientTransformation:
        """This object as a plain :class:`GradientTransformation`.

        Returns:
            ``GradientTransformation(self.init, self.update)``.
        """
        return GradientTransformation(self.init, self.update)


# ------------------------------------------------------------------------------------------
# Robustness: skip non-finite updates
# ------------------------------------------------------------------------------------------


class ApplyIfFiniteState(NamedTuple):
    """State of :func:`apply_if_finite`.

    Attributes:
        notfinite_count: consecutive non-finite updates so far (int32).
        last_finite: whether the last gradients were finite.
        total_notfinite: non-finite updates in total (int32).
        inner_state: the inner transformation's state.
    """

    notfinite_count: Any
    last_finite: Any
    total_notfinite: Any
    inner_state: OptState


def apply_if_finite(inner: GradientTransformation,
                    max_consecutive_errors: int) -> GradientTransformation:
    """Skip updates whose gradients contain NaN or inf (the inner state is kept as is).

    After more than ``max_consecutive_errors`` consecutive non-finite gradients, the
    update is applied anyway (so that a diverged run shows), as optax does.

    Args:
        inner: the transformation to protect.
        max_consecutive_errors: how many consecutive non-finite updates to skip.

    Returns:
        A GradientTransformation with :class:`ApplyIfFiniteState`; a skipped update is zeros.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.optim import sgd
    >>> opt = apply_if_finite(sgd(1.0), max_consecutive_errors=3)
    >>> u, state = opt.update(fnp.array([fnp.nan]), opt.init(fnp.zeros(1)))
    >>> u, int(state.total_notfinite)
    (array([0.], dtype=float32), 1)
    """
    if isinstance(max_consecutive_errors, bool) or not isinstance(max_consecutive_errors, int) \
            or max_consecutive_errors < 0:
        raise ValueError(f"apply_if_finite: max_consecutive_errors must be an int >= 0, got "
                         f"{max_consecutive_errors!r}")

    def init(params):
        return ApplyIfFiniteState(zeros_count(), fnp.asarray(True), zeros_count(),
                                  inner.init(params))

    def update(updates, state, params=None):
        finite = fnp.asarray(True)
        for g in tree.leaves(updates):
            finite = fnp.logical_and(finite, fnp.all(fnp.isfinite(g)))
        notfinite_count = fnp.where(finite, 0, increment(state.notfinite_count))
        total = fnp.where(finite, state.total_notfinite, increment(state.total_notfinite))
        reject = fnp.logical_and(fnp.logical_not(finite),
                                 notfinite_count <= max_consecutive_errors)
        # NOTE: a rejected update gives the inner transformation zeros instead of NaN/inf
        # (no floating-point warnings); its result is discarded anyway.
        safe = tree.map(lambda g: fnp.where(reject, fnp.zeros_like(g), g), updates)
        new_updates, inner_state = inner.update(safe, state.inner_state, params)
        new_updates = tree.map(lambda u: fnp.where(reject, fnp.zeros_like(u), u), new_updates)
        new_state = ApplyIfFiniteState(
            notfinite_count=notfinite_count.astype(fnp.int32),
            last_finite=finite,
            total_notfinite=total.astype(fnp.int32),
            inner_state=_select(reject, state.inner_state, inner_state),
        )
        return new_updates, new_state

    return GradientTransformation(init, update)


# ------------------------------------------------------------------------------------------
# Hyperparameters in the state
# ------------------------------------------------------------------------------------------


class InjectHyperparamsState(NamedTuple):
    """State of :func:`inject_hyperparams`.

    Attributes:
        count: updates made so far (int32); schedules are evaluated at it.
        hyperparams: ``{name: 0-d array}``, the values used by the next update (read and
            replace them with ``state._replace(hyperparams={...})``).
        inner_state: the inner optimizer's state.
    """

    count: Any
    hyperparams: dict[str, Any]
    inner_state: OptState


def _is_numeric(v) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, float, np.generic, np.ndarray, Tracer)):
        return np.dtype(getattr(v, "dtype", np.float64)).kind in "iuf"
    return False


def inject_hyperparams(inner_factory: Callable[..., GradientTransformation],
                       static_args: str | tuple[str, ...] = (),
                       hyperparam_dtype: Any = None) -> Callable[..., GradientTransformation]:
    """Wrap an optimizer factory so its numeric hyperparameters live in the state.

    Calling the result with the factory's arguments gives a GradientTransformation whose
    state's ``hyperparams`` dict holds each numeric argument *passed explicitly* (defaults are
    left alone) as a 0-d array, and each schedule argument's current value. At every update the
    inner optimizer is rebuilt from those values, so replacing
    ``state.hyperparams["learning_rate"]`` changes the learning rate from the next step on.
    Values given by a schedule are recomputed from ``count`` at every update (replacing them
    has no effect). Booleans, strings, ``None``, trees and names in ``static_args`` are passed
    through unchanged.

    Args:
        inner_factory: an optimizer factory, such as :func:`~funcgrad_nn.optim.adam`.
        static_args: names of numeric arguments to keep as Python values.
        hyperparam_dtype: dtype of the hyperparameter arrays (default: the dtype policy,
            float32 for floats). Use one no wider than the parameters' dtype, or the states
            would be promoted.

    Returns:
        A function with the factory's signature returning a GradientTransformation with
        :class:`InjectHyperparamsState`.

    Raises:
        ValueError: when the optimizer is built, if a schedule is not finite at step 0.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.optim import sgd
    >>> opt = inject_hyperparams(sgd)(learning_rate=0.1)
    >>> state = opt.init(fnp.zeros(1))
    >>> state = state._replace(hyperparams={"learning_rate": fnp.asarray(0.5)})
    >>> opt.update(fnp.ones(1), state)[0]
    array([-0.5], dtype=float32)
    """
    static = {static_args} if isinstance(static_args, str) else set(static_args)
    signature = inspect.signature(inner_factory)

    @functools.wraps(inner_factory)
    def wrapped(*args, **kwargs) -> GradientTransformation:
        arguments = signature.bind(*args, **kwargs).arguments
        numeric, schedules, others = {}, {}, {}
        for name, v in arguments.items():
            if name not in static and _is_numeric(v):
                numeric[name] = v
            elif name not in static and callable(v):
                schedules[name] = v
            else:
                others[name] = v
        for name, fn in schedules.items():
            check_schedule(fn, f"inject_hyperparams: the schedule for {name!r}")

        def as_array(v):
            return fnp.asarray(v, dtype=hyperparam_dtype)

        def evaluated(hyperparams, count):
            return {**hyperparams, **{k: as_array(fn(count)) for k, fn in schedules.items()}}

        def init(params):
            count = zeros_count()
            hps = evaluated({k: as_array(v) for k, v in numeric.items()}, count)
            return InjectHyperparamsState(count, hps, inner_factory(**others, **hps).init(params))

        def update(updates, state, params=None):
            hps = evaluated(state.hyperparams, state.count)
            inner = inner_factory(**others, **hps)
            new_updates, inner_state = inner.update(updates, state.inner_state, params)
            return new_updates, InjectHyperparamsState(increment(state.count), hps, inner_state)

        return GradientTransformation(init, update)

    return wrapped
