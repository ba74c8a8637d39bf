"""Building blocks: gradient transformations, each with its NamedTuple state.

Every ``scale_by_*`` follows the step of the matching ``torch.optim`` optimizer
(``torch/optim/*.py``, ``_single_tensor_*``), written the way optax splits it: the
transform computes the direction, :func:`scale_by_learning_rate` multiplies by ``-lr``.
Where optax and PyTorch disagree we follow PyTorch; each docstring says how optax differs.

Conventions: ``count`` is the number of updates already made, so the update being computed
is step ``t = count + 1``; moving averages are written as PyTorch's ``lerp``
(``m + (1 - b1) * (g - m)``); bias corrections are computed from ``t`` in float64 (PyTorch
does them in Python floats) and cast to each leaf's dtype, so float32 parameters keep float32
states. Hyperparameters may be Python numbers or 0-d arrays (``inject_hyperparams``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import funcgrad.numpy as fnp
from funcgrad import tree
from funcgrad_nn.optim.base import (
    EmptyState,
    GradientTransformation,
    ScalarOrSchedule,
    Schedule,
    Updates,
    as_float,
    cast_like,
    check_schedule,
    check_structure,
    global_norm,
    increment,
    zeros_count,
)
from funcgrad_nn.optim.combine import masked

__all__ = [
    "ScaleByAdadeltaState",
    "ScaleByAdagradState",
    "ScaleByAdamState",
    "ScaleByAdamaxState",
    "ScaleByAmsgradState",
    "ScaleByLionState",
    "ScaleByNadamState",
    "ScaleByRAdamState",
    "ScaleByRStdDevState",
    "ScaleByRmsState",
    "ScaleByScheduleState",
    "TraceState",
    "add_decayed_weights",
    "clip",
    "clip_by_global_norm",
    "scale",
    "scale_by_adadelta",
    "scale_by_adagrad",
    "scale_by_adam",
    "scale_by_adamax",
    "scale_by_amsgrad",
    "scale_by_learning_rate",
    "scale_by_lion",
    "scale_by_nadam",
    "scale_by_radam",
    "scale_by_rms",
    "scale_by_schedule",
    "scale_by_stddev",
    "scale_by_trust_ratio",
    "trace",
]

_PARAMS = "the parameters the optimizer state was initialised with"


# ------------------------------------------------------------------------------------------
# Small helpers
# ------------------------------------------------------------------------------------------


def _zeros(params):
    return tree.map(fnp.zeros_like, params)


def _lerp(g, m, decay):
    """PyTorch's ``m.lerp_(g, 1 - decay)``: the moving average of ``g``."""
    return tree.map(lambda g_, m_: m_ + (1 - decay) * (g_ - m_), g, m)


def _lerp_sq(g, v, decay):
    """PyTorch's ``v.mul_(decay).addcmul_(g, g, value=1 - decay)``: the average of ``g**2``."""
    return tree.map(lambda g_, v_: v_ * decay + (1 - decay) * (g_ * g_), g, v)


def _needs_params(params, who: str) -> None:
    if params is None:
        raise ValueError(f"{who} needs the parameters: call opt.update(grads, state, params)")


def _check_unit(who: str, **values) -> None:
    """``0 <= value < 1`` for each Python-number hyperparameter (arrays are not inspected)."""
    for name, v in values.items():
        if isinstance(v, (int, float)) and not 0.0 <= v < 1.0:
            raise ValueError(f"{who}: {name} must be in [0, 1), got {v!r}")


def _check_nonneg(who: str, **values) -> None:
    for name, v in values.items():
        if isinstance(v, (int, float)) and not v >= 0.0:
            raise ValueError(f"{who}: {name} must be >= 0, got {v!r}")


# ------------------------------------------------------------------------------------------
# Scaling
# ------------------------------------------------------------------------------------------


def scale(step_size: float | Any) -> GradientTransformation:
    """Multiply the updates by a constant.

    Args:
        step_size: a number or 0-d array.

    Returns:
        A stateless GradientTransformation.

    >>> import funcgrad.numpy as fnp
    >>> opt = scale(2.0)
    >>> opt.update(fnp.array([1.0]), opt.init(fnp.zeros(1)))[0]
    array([2.], dtype=float32)
    """

    def init(params):
        return EmptyState()

    def update(updates, state, params=None):
        if params is not None:
            check_structure(updates, params, "scale", "the parameters")
        return tree.map(lambda u: u * cast_like(step_size, u), updates), state

    return GradientTransformation(init, update)


class ScaleByScheduleState(NamedTuple):
    """State of :func:`scale_by_schedule`: the step counter."""

    count: Any


def scale_by_schedule(step_size_fn: Schedule) -> GradientTransformation:
    """Multiply the updates by ``step_size_fn(count)``, ``count`` = updates made so far.

    Args:
        step_size_fn: a schedule ``step -> value`` (see :mod:`~funcgrad_nn.optim.schedules`).

    Returns:
        A GradientTransformation with :class:`ScaleByScheduleState`.

    Raises:
        ValueError: when it is built, if ``step_size_fn(0)`` is not finite (NaN or inf).

    >>> import funcgrad.numpy as fnp
    >>> opt = scale_by_schedule(lambda step: 1.0 / (step + 1))
    >>> state = opt.init(fnp.zeros(1))
    >>> u, state = opt.update(fnp.ones(1), state)
    >>> u, state = opt.update(fnp.ones(1), state)
    >>> u
    array([0.5], dtype=float32)
    """
    if not callable(step_size_fn):
        raise TypeError(f"scale_by_schedule: expected a callable step -> value, "
                        f"got {type(step_size_fn).__name__}")
    check_schedule(step_size_fn, "scale_by_schedule: the schedule")

    def init(params):
        return ScaleByScheduleState(zeros_count())

    def update(updates, state, params=None):
        if params is not None:
            check_structure(updates, params, "scale_by_schedule", "the parameters")
        step_size = step_size_fn(state.count)
        updates = tree.map(lambda u: u * cast_like(step_size, u), updates)
        return updates, ScaleByScheduleState(increment(state.count))

    return GradientTransformation(init, update)


def scale_by_learning_rate(learning_rate: ScalarOrSchedule, *,
                           flip_sign: bool = True) -> GradientTransformation:
    """Multiply the updates by ``-learning_rate`` (a descent step).

    Args:
        learning_rate: a number, 0-d array, or schedule ``step -> value``.
        flip_sign: multiply by ``-learning_rate`` (default) rather than ``learning_rate``.

    Returns:
        :func:`scale` or, for a schedule, :func:`scale_by_schedule`.

    Raises:
        ValueError: when it is built, if a schedule is not finite at step 0.

    >>> import funcgrad.numpy as fnp
    >>> opt = scale_by_learning_rate(0.1)
    >>> opt.update(fnp.array([1.0]), opt.init(fnp.zeros(1)))[0]
    array([-0.1], dtype=float32)
    """
    sign = -1 if flip_sign else 1
    if callable(learning_rate):
        check_schedule(learning_rate, "scale_by_learning_rate: the learning_rate schedule")
        return scale_by_schedule(lambda count: sign * learning_rate(count))
    return scale(sign * learning_rate)


# ------------------------------------------------------------------------------------------
# Momentum, weight decay, clipping
# ------------------------------------------------------------------------------------------


class TraceState(NamedTuple):
    """State of :func:`trace`: the momentum buffer."""

    count: Any
    trace: Updates


def trace(decay: float, nesterov: bool = False) -> GradientTransformation:
    """Momentum with ``torch.optim.SGD``'s semantics (dampening 0).

    ``buf = decay * buf + g`` (the first step gives ``buf = g``, the buffer starting at
    zero); the output is ``buf``, or ``g + decay * buf`` with Nesterov momentum. This is
    also optax's ``trace``.

    Args:
        decay: the momentum coefficient, in ``[0, 1)``.
        nesterov: use Nesterov momentum.

    Returns:
        A GradientTransformation with :class:`TraceState`.

    >>> import funcgrad.numpy as fnp
    >>> opt = trace(0.5)
    >>> state = opt.init(fnp.zeros(1))
    >>> for _ in range(2):
    ...     u, state = opt.update(fnp.ones(1), state)
    >>> u
    array([1.5], dtype=float32)
    """
    _check_unit("trace", decay=decay)

    def init(params):
        return TraceState(zeros_count(), _zeros(params))

    def update(updates, state, params=None):
        check_structure(updates, state.trace, "trace", _PARAMS)
        buf = tree.map(lambda g, b: b * decay + g, updates, state.trace)
        out = tree.map(lambda g, b: g + decay * b, updates, buf) if nesterov else buf
        return out, TraceState(increment(state.count), buf)

    return GradientTransformation(init, update)


def add_decayed_weights(weight_decay: float = 0.0, mask: Any = None) -> GradientTransformation:
    """Add ``weight_decay * params`` to the updates.

    Before the scaling this is L2 regularisation (``torch.optim.Adam(weight_decay=...)``);
    after it, decoupled weight decay (``AdamW``).

    Args:
        weight_decay: the coefficient.
        mask: optional tree of bools (or a function ``params -> tree``) choosing the leaves
            that decay; the others pass through unchanged.

    Returns:
        A stateless GradientTransformation; its update needs ``params``.

    Raises:
        ValueError: (in update) if ``params`` is missing or not shaped like the updates.

    >>> import funcgrad.numpy as fnp
    >>> opt = add_decayed_weights(0.1)
    >>> params = fnp.array([2.0])
    >>> opt.update(fnp.array([1.0]), opt.init(params), params)[0]
    array([1.2], dtype=float32)
    """
    _check_nonneg("add_decayed_weights", weight_decay=weight_decay)

    def init(params):
        return EmptyState()

    def update(updates, state, params=None):
        _needs_params(params, "add_decayed_weights")
        check_structure(updates, params, "add_decayed_weights", "the parameters")
        return tree.map(lambda g, p: g + weight_decay * p, updates, params), state

    tx = GradientTransformation(init, update)
    return tx if mask is None else masked(tx, mask)


def clip(max_delta: float) -> GradientTransformation:
    """Clip every element of the updates to ``[-max_delta, max_delta]``.

    Args:
        max_delta: the bound, ``>= 0``.

    Returns:
        A stateless GradientTransformation.

    >>> import funcgrad.numpy as fnp
    >>> opt = clip(1.0)
    >>> opt.update(fnp.array([-3.0, 0.5]), opt.init(None))[0]
    array([-1. ,  0.5], dtype=float32)
    """
    _check_nonneg("clip", max_delta=max_delta)

    def init(params):
        return EmptyState()

    def update(updates, state, params=None):
        return tree.map(lambda u: fnp.clip(u, -max_delta, max_delta), updates), state

    return GradientTransformation(init, update)


def clip_by_global_norm(max_norm: float) -> GradientTransformation:
    """Rescale the updates so that their global norm is at most ``max_norm``.

    As ``torch.nn.utils.clip_grad_norm_``: every leaf is multiplied by
    ``min(1, max_norm / (norm + 1e-6))``. (optax leaves the updates unchanged below
    ``max_norm`` and uses ``max_norm / norm`` above it, without the 1e-6.)

    Args:
        max_norm: the largest allowed global norm, ``>= 0``.

    Returns:
        A stateless GradientTransformation.

    >>> import funcgrad.numpy as fnp
    >>> opt = clip_by_global_norm(1.0)
    >>> u, _ = opt.update({"a": fnp.array([3.0]), "b": fnp.array([4.0])}, opt.init(None))
    >>> print(round(float(global_norm(u)), 4))
    1.0
    """
    _check_nonneg("clip_by_global_norm", max_norm=max_norm)

    def init(params):
        return EmptyState()

    def update(updates, state, params=None):
        coef = fnp.minimum(max_norm / (global_norm(updates) + 1e-6), 1.0)
        return tree.map(lambda u: u * cast_like(coef, u), updates), state

    return GradientTransformation(init, update)


# ------------------------------------------------------------------------------------------
# Adam and relatives
# ------------------------------------------------------------------------------------------


class ScaleByAdamState(NamedTuple):
    """State of :func:`scale_by_adam`: first and second moment averages."""

    count: Any
    mu: Updates
    nu: Updates


def _adam_direction(m_hat, nu, bc2, eps):
    """PyTorch Adam's ``m_hat / (sqrt(v) / sqrt(1 - b2**t) + eps)``."""
    sqrt_bc2 = fnp.sqrt(bc2)
    return tree.map(lambda m, v: m / (fnp.sqrt(v) / cast_like(sqrt_bc2, v) + eps), m_hat, nu)


def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, *,
                  nesterov: bool = False) -> GradientTransformation:
    """Adam's direction, ``m_hat / (sqrt(v_hat) + eps)`` (``torch.optim.Adam``'s step).

    ``m = lerp(m, g, 1 - b1)``, ``v = b2 v + (1 - b2) g**2``, ``m_hat = m / (1 - b1**t)``;
    the denominator is ``sqrt(v) / sqrt(1 - b2**t) + eps`` as in PyTorch (optax has the same
    eps placement). ``nesterov=True`` is optax's NAdam variant,
    ``m_hat = b1 m / (1 - b1**(t+1)) + (1 - b1) g / (1 - b1**t)``; note that
    ``torch.optim.NAdam`` is a different algorithm, see :func:`scale_by_nadam`.

    Args:
        b1: decay of the first moment.
        b2: decay of the second moment.
        eps: added to the denominator.
        nesterov: use the Nesterov-momentum estimate of the first moment.

    Returns:
        A GradientTransformation with :class:`ScaleByAdamState`.

    >>> import funcgrad.numpy as fnp
    >>> opt = scale_by_adam()
    >>> u, state = opt.update(fnp.array([0.5, -2.0]), opt.init(fnp.zeros(2)))
    >>> u.round(5)  # the first step is about sign(g)
    array([ 1., -1.], dtype=float32)
    """
    _check_unit("scale_by_adam", b1=b1, b2=b2)
    _check_nonneg("scale_by_adam", eps=eps)

    def init(params):
        return ScaleByAdamState(zeros_count(), _zeros(params), _zeros(params))

    def update(updates, state, params=None):
        check_structure(updates, state.mu, "scale_by_adam", _PARAMS)
        mu, nu = _lerp(updates, state.mu, b1), _lerp_sq(updates, state.nu, b2)
        count = increment(state.count)
        t = as_float(count)
        bc1 = 1 - b1 ** t
        if nesterov:
            c_m, c_g = b1 / (1 - b1 ** (t + 1)), (1 - b1) / bc1
            m_hat = tree.map(lambda m, g: cast_like(c_m, m) * m + cast_like(c_g, g) * g,
                             mu, updates)
        else:
            m_hat = tree.map(lambda m: m / cast_like(bc1, m), mu)
        out = _adam_direction(m_hat, nu, 1 - b2 ** t, eps)
        return out, ScaleByAdamState(count, mu, nu)

    return GradientTransformation(init, update)


class ScaleByAmsgradState(NamedTuple):
    """State of :func:`scale_by_amsgrad`: moments and the running maximum of ``nu``."""

    count: Any
    mu: Updates
    nu: Updates
    nu_max: Updates


def scale_by_amsgrad(b1: float = 0.9, b2: float = 0.999,
                     eps: float = 1e-8) -> GradientTransformation:
    """AMSGrad, as ``torch.optim.Adam(amsgrad=True)``.

    Like :func:`scale_by_adam` with ``v`` replaced by ``v_max = max(v_max, v)``. PyTorch keeps
    the maximum of the *uncorrected* ``v`` and divides it by ``1 - b2**t``; optax keeps the
    maximum of the bias-corrected ``v_hat``. We follow PyTorch.

    Args:
        b1: decay of the first moment.
        b2: decay of the second moment.
        eps: added to the denominator.

    Returns:
        A GradientTransformation with :class:`ScaleByAmsgradState`.

    >>> import funcgrad.numpy as fnp
    >>> opt = scale_by_amsgrad()
    >>> opt.update(fnp.array([3.0]), opt.init(fnp.zeros(1)))[0].round(5)
    array([1.], dtype=float32)
    """
    _check_unit("scale_by_amsgrad", b1=b1, b2=b2)
    _check_nonneg("scale_by_amsgrad", eps=eps)

    def init(params):
        return ScaleByAmsgradState(zeros_count(), _zeros(params), _zeros(params), _zeros(params))

    def update(updates, state, params=None):
        check_structure(updates, state.mu, "scale_by_amsgrad", _PARAMS)
        mu, nu = _lerp(updates, state.mu, b1), _lerp_sq(updates, state.nu, b2)
        nu_max = tree.map(fnp.maximum, state.nu_max, nu)
        count = increment(state.count)
        t = as_float(count)
        m_hat = tree.map(lambda m: m / cast_like(1 - b1 ** t, m), mu)
        out = _adam_direction(m_hat, nu_max, 1 - b2 ** t, eps)
        return out, ScaleByAmsgradState(count, mu, nu, nu_max)

    return GradientTransformation(init, update)


class ScaleByNadamState(NamedTuple):
    """State of :func:`scale_by_nadam`: the product of the momentum schedule and moments."""

    count: Any
    mu_product: Any
    mu: Updates
    nu: Updates


def scale_by_nadam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
                   momentum_decay: float = 4e-3) -> GradientTransformation:
    """NAdam with Dozat's momentum schedule, as ``torch.optim.NAdam``.

    With ``mu_t = b1 (1 - 0.5 * 0.96**(t * momentum_decay))`` and ``P_t = prod(mu_1..mu_t)``
    the direction is ``((1 - mu_t) / (1 - P_t)) g / d + (mu_{t+1} / (1 - P_t mu_{t+1})) m / d``
    with ``d = sqrt(v / (1 - b2**t)) + eps``. ``P_t`` is kept in the default float dtype, as
    PyTorch keeps it. optax's ``nadam`` is instead ``scale_by_adam(nesterov=True)``, which has
    no momentum schedule.

    Args:
        b1: decay of the first moment.
        b2: decay of the second moment.
        eps: added to the denominator.
        momentum_decay: the momentum schedule's rate (PyTorch's ``momentum_decay``).

    Returns:
        A GradientTransformation with :class:`ScaleByNadamState`.

    >>> import funcgrad.numpy as fnp
    >>> opt = scale_by_nadam()
    >>> u, state = opt.update(fnp.array([1.0]), opt.init(fnp.zeros(1)))
    >>> u.dtype, int(state.count)
    (dtype('float32'), 1)
    """
    _check_unit("scale_by_nadam", b1=b1, b2=b2)
    _check_nonneg("scale_by_nadam", eps=eps, momentum_decay=momentum_decay)

    def init(params):
        return ScaleByNadamState(zeros_count(), fnp.ones(()), _zeros(params), _zeros(params))

    def update(updates, state, params=None):
        check_structure(updates, state.mu, "scale_by_nadam", _PARAMS)
        mu, nu = _lerp(updates, state.mu, b1), _lerp_sq(updates, state.nu, b2)
        count = increment(state.count)
        t = as_float(count)
        mu_t = b1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        mu_product = state.mu_product * cast_like(mu_t, state.mu_product)
        prod = as_float(mu_product)
        c_g = (1.0 - mu_t) / (1.0 - prod)
        c_m = mu_next / (1.0 - prod * mu_next)
        bc2 = 1 - b2 ** t

        def direction(g, m, v):
            d = fnp.sqrt(v / cast_like(bc2, v)) + eps
            return cast_like(c_g, g) * g / d + cast_like(c_m, m) * m / d

        out = tree.map(direction, updates, mu, nu)
        return out, ScaleByNadamState(count, mu_product, mu, nu)

    return GradientTransformation(init, update)


class ScaleByRAdamState(NamedTuple):
    """State of :func:`scale_by_radam`: first and second moment averages."""

    count: Any
    mu: Updates
    nu: Updates


def scale_by_radam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
                   threshold: float = 5.0) -> GradientTransformation:
    """Rectified Adam, as ``torch.optim.RAdam``.

    With ``rho_inf = 2 / (1 - b2) - 1`` and ``rho_t = rho_inf - 2 t b2**t / (1 - b2**t)``:
    when ``rho_t > threshold`` the direction is
    ``r_t * m_hat * sqrt(1 - b2**t) / (sqrt(v) + eps)`` with the rectification
    ``r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))``,
    otherwise plain momentum ``m_hat``. PyTorch adds ``eps`` to the *uncorrected*
    ``sqrt(v)``; optax adds it to ``sqrt(v_hat)``. We follow PyTorch.

    Args:
        b1: decay of the first moment.
        b2: decay of the second moment.
        eps: added to the denominator.
        threshold: the ``rho_t`` above which the adaptive step is used (PyTorch: 5).

    Returns:
        A GradientTransformation with :class:`ScaleByRAdamState`.

    >>> import funcgrad.numpy as fnp
    >>> opt = scale_by_radam()
    >>> opt.update(fnp.array([0.25]), opt.init(fnp.zeros(1)))[0]  # early steps: m_hat
    array([0.25], dtype=float32)
    """
    _check_unit("scale_by_radam", b1=b1, b2=b2)
    _check_nonneg("scale_by_radam", eps=eps)

    def init(params):
        return ScaleByRAdamState(zeros_count(), _zeros(params), _zeros(params))

    def update(updates, state, params=None):
        check_structure(updates, state.mu, "scale_by_radam", _PARAMS)
        mu, nu = _lerp(updates, state.mu, b1), _lerp_sq(updates, state.nu, b2)
        count = increment(state.count)
        t = as_float(count)
        bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * b2 ** t / bc2
        # NOTE: r_t**2 is negative for 2 < rho_t < 4, where it is not used: clamp (no NaN).
        r_sq = (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
        rect = fnp.sqrt(fnp.maximum(r_sq, 0.0))
        adaptive = rho_t > threshold
        sqrt_bc2 = fnp.sqrt(bc2)

        def direction(m, v):
            m_hat = m / cast_like(bc1, m)
            scaled = m_hat * (cast_like(sqrt_bc2, v) / (fnp.sqrt(v) + eps)) * cast_like(rect, m)
            return fnp.where(adaptive, scaled, m_hat)

        return tree.map(direction, mu, nu), ScaleByRAdamState(count, mu, nu)

    return GradientTransformation(init, update)


class ScaleByAdamaxState(NamedTuple):
    """State of :func:`scale_by_adamax`: first moment and the infinity norm."""

    count: Any
    mu: Updates
    nu: Updates


def scale_by_adamax(b1: float = 0.9, b2: float = 0.999,
                    eps: float = 1e-8) -> GradientTransformation:
    """Adamax, as ``torch.optim.Adamax``: ``m_hat / u`` with ``u = max(b2 u, |g| + eps)``.

    optax uses ``u = max(b2 u, |g|)`` and divides by ``u + eps``; we follow PyTorch.

    Args:
        b1: decay of the first moment.
        b2: decay of the infinity norm.
        eps: added to ``|g|``.

    Returns:
        A GradientTransformation with :class:`ScaleByAdamaxState`.

    >>> import funcgrad.numpy as fnp
    >>> opt = scale_by_adamax()
    >>> opt.update(fnp.array([-4.0]), opt.init(fnp.zeros(1)))[0]
    array([-1.], dtype=float32)
    """
    _check_unit("scale_by_adamax", b1=b1, b2=b2)
    _check_nonneg("scale_by_adamax", eps=eps)

    def init(params):
        return ScaleByAdamaxState(zeros_count(), _zeros(params), _zeros(params))

    def update(updates, state, params=None):
        check_structure(updates, state.mu, "scale_by_adamax", _PARAMS)
        mu = _lerp(updates, state.mu, b1)
        nu = tree.map(lambda g, u: fnp.maximum(u * b2, fnp.abs(g) + eps), updates, state.nu)
        count = increment(state.count)
        bc1 = 1 - b1 ** as_float(count)
        out = tree.map(lambda m, u: m / u / cast_like(bc1, m), mu, nu)
        return out, ScaleByAdamaxState(count, mu, nu)

    return GradientTransformation(init, update)


# ------------------------------------------------------------------------------------------
# RMSprop, Adagrad, Adadelta
# ------------------------------------------------------------------------------------------


class ScaleByRmsState(NamedTuple):
    """State of :func:`scale_by_rms`: the average of squared gradients."""

    count: Any
    nu: Updates


def scale_by_rms(decay: float = 0.99, eps: float = 1e-8,
                 initial_scale: float = 0.0) -> GradientTransformation:
    """RMSprop's direction ``g / (sqrt(v) + eps)``, ``v = decay v + (1 - decay) g**2``.

    As ``torch.optim.RMSprop`` (``alpha`` is ``decay``): eps is added *outside* the square
    root, where optax's default is ``g / sqrt(v + eps)``.

    Args:
        decay: decay of the average (PyTorch's ``alpha``).
        eps: added to the denominator.
        initial_scale: the initial value of ``v`` (PyTorch: 0).

    Returns:
        A GradientTransformation with :class:`ScaleByRmsState`.

    >>> import funcgrad.numpy as fnp
    >>> opt = scale_by_rms(decay=0.75)
    >>> opt.update(fnp.array([1.0]), opt.init(fnp.zeros(1)))[0]  # 1 / sqrt(0.25)
    array([2.], dtype=float32)
    """
    _check_unit("scale_by_rms", decay=decay)
    _check_nonneg("scale_by_rms", eps=eps, initial_scale=initial_scale)

    def init(params):
        return ScaleByRmsState(zeros_count(),
                               tree.map(lambda p: fnp.zeros_like(p) + initial_scale, params))

    def update(updates, state, params=None):
        check_structure(updates, state.nu, "scale_by_rms", _PARAMS)
        nu = _lerp_sq(updates, state.nu, decay)
        out = tree.map(lambda g, v: g / (fnp.sqrt(v) + eps), updates, nu)
        return out, ScaleByRmsState(increment(state.count), nu)

    return GradientTransformation(init, update)


class ScaleByRStdDevState(NamedTuple):
    """State of :func:`scale_by_stddev`: averages of the gradients and their squares."""

    count: Any
    mu: Updates
    nu: Updates


def scale_by_stddev(decay: float = 0.99, eps: float = 1e-8,
                    initial_scale: float = 0.0) -> GradientTransformation:
    """Centered RMSprop's direction ``g / (sqrt(v - m**2) + eps)``.

    As ``torch.optim.RMSprop(centered=True)``: eps outside the square root (optax: inside).
    NOTE: ``v - m**2`` is clamped at 0, so rounding can never take a square root of a
    negative number (PyTorch would give NaN there).

    Args:
        decay: decay of both averages (PyTorch's ``alpha``).
        eps: added to the denominator.
        initial_scale: the initial value of ``v`` (PyTorch: 0).

    Returns:
        A GradientTransformation with :class:`ScaleByRStdDevState`.

    >>> import funcgrad.numpy as fnp
    >>> opt = scale_by_stddev(decay=0.5)
    >>> opt.update(fnp.array([1.0]), opt.init(fnp.zeros(1)))[0]  # 1 / sqrt(0.5 - 0.25)
    array([2.], dtype=float32)
    """
    _check_unit("scale_by_stddev", decay=decay)
    _check_nonneg("scale_by_stddev", eps=eps, initial_scale=initial_scale)

    def init(params):
        return ScaleByRStdDevState(zeros_count(), _zeros(params),
                                   tree.map(lambda p: fnp.zeros_like(p) + initial_scale, params))

    def update(updates, state, params=None):
        check_structure(updates, state.mu, "scale_by_stddev", _PARAMS)
        mu, nu = _lerp(updates, state.mu, decay), _lerp_sq(updates, state.nu, decay)
        out = tree.map(lambda g, m, v: g / (fnp.sqrt(fnp.maximum(v - m * m, 0.0)) + eps),
                       updates, mu, nu)
        return out, ScaleByRStdDevState(increment(state.count), mu, nu)

    return GradientTransformation(init, update)


class ScaleByAdagradState(NamedTuple):
    """State of :func:`scale_by_adagrad`: the running sum of squared gradients."""

    count: Any
    sum_of_squares: Updates


def scale_by_adagrad(initial_accumulator_value: float = 0.0,
                     eps: float = 1e-10) -> GradientTransformation:
    """Adagrad's direction ``g / (sqrt(s) + eps)``, ``s = s + g**2``.

    As ``torch.optim.Adagrad``: the accumulator starts at ``initial_accumulator_value``
    (PyTorch's default 0; optax's 0.1) and eps is added outside the square root (optax:
    ``g / sqrt(s + eps)`` with eps 1e-7).

    Args:
        initial_accumulator_value: the initial sum of squares.
        eps: added to the denominator.

    Returns:
        A GradientTransformation with :class:`ScaleByAdagradState`.

    >>> import funcgrad.numpy as fnp
    >>> opt = scale_by_adagrad()
    >>> opt.update(fnp.array([-3.0]), opt.init(fnp.zeros(1)))[0]
    array([-1.], dtype=float32)
    """
    _check_nonneg("scale_by_adagrad", initial_accumulator_value=initial_accumulator_value,
                  eps=eps)

    def init(params):
        return ScaleByAdagradState(
            zeros_count(), tree.map(lambda p: fnp.zeros_like(p) + initial_accumulator_value,
                                    params))

    def update(updates, state, params=None):
        check_structure(updates, state.sum_of_squares, "scale_by_adagrad", _PARAMS)
        s = tree.map(lambda g, s_: s_ + g * g, updates, state.sum_of_squares)
        out = tree.map(lambda g, s_: g / (fnp.sqrt(s_) + eps), updates, s)
        return out, ScaleByAdagradState(increment(state.count), s)

    return GradientTransformation(init, update)


class ScaleByAdadeltaState(NamedTuple):
    """State of :func:`scale_by_adadelta`: averages of squared gradients and steps."""

    count: Any
    e_g: Updates
    e_x: Updates


def scale_by_adadelta(rho: float = 0.9, eps: float = 1e-6) -> GradientTransformation:
    """Adadelta, as ``torch.optim.Adadelta`` (and optax).

    ``e_g = rho e_g + (1 - rho) g**2``; ``dx = sqrt(e_x + eps) / sqrt(e_g + eps) * g``;
    ``e_x = rho e_x + (1 - rho) dx**2``; the direction is ``dx``.

    Args:
        rho: decay of both averages.
        eps: added inside both square roots.

    Returns:
        A GradientTransformation with :class:`ScaleByAdadeltaState`.

    >>> import funcgrad.numpy as fnp
    >>> opt = scale_by_adadelta(rho=0.0, eps=0.0)
    >>> opt.update(fnp.array([2.0]), opt.init(fnp.zeros(1)))[0]  # no history: dx = 0
    array([0.], dtype=float32)
    """
    _check_unit("scale_by_adadelta", rho=rho)
    _check_nonneg("scale_by_adadelta", eps=eps)

    def init(params):
        return ScaleByAdadeltaState(zeros_count(), _zeros(params), _zeros(params))

    def update(updates, state, params=None):
        check_structure(updates, state.e_g, "scale_by_adadelta", _PARAMS)
        e_g = _lerp_sq(updates, state.e_g, rho)
        dx = tree.map(lambda g, eg, ex: fnp.sqrt(ex + eps) / fnp.sqrt(eg + eps) * g,
                      updates, e_g, state.e_x)
        e_x = _lerp_sq(dx, state.e_x, rho)
        return dx, ScaleByAdadeltaState(increment(state.count), e_g, e_x)

    return GradientTransformation(init, update)


# ------------------------------------------------------------------------------------------
# LAMB, Lion
# ------------------------------------------------------------------------------------------


def scale_by_trust_ratio(min_norm: float = 0.0, trust_coefficient: float = 1.0,
                         eps: float = 0.0) -> GradientTransformation:
    """LAMB's layerwise trust ratio (optax's): scale each leaf by ``||p|| / ||u||``.

    The ratio is ``trust_coefficient * max(||p||, min_norm) / (max(||u||, min_norm) + eps)``,
    and 1 where either norm is 0. There is no ``torch.optim`` counterpart.

    Args:
        min_norm: lower bound of both norms.
        trust_coefficient: multiplies the ratio.
        eps: added to the update's norm.

    Returns:
        A stateless GradientTransformation; its update needs ``params``.

    >>> import funcgrad.numpy as fnp
    >>> opt = scale_by_trust_ratio()
    >>> p = fnp.array([3.0, 4.0])
    >>> opt.update(fnp.array([0.0, 1.0]), opt.init(p), p)[0]
    array([0., 5.], dtype=float32)
    """
    _check_nonneg("scale_by_trust_ratio", min_norm=min_norm, eps=eps)

    def init(params):
        return EmptyState()

    def leaf(u, p):
        p_norm = fnp.maximum(fnp.sqrt(fnp.sum(p * p)), min_norm)
        u_norm = fnp.maximum(fnp.sqrt(fnp.sum(u * u)), min_norm)
        zero = fnp.logical_or(p_norm == 0, u_norm == 0)
        ratio = trust_coefficient * p_norm / fnp.where(zero, 1.0, u_norm + eps)
        return u * cast_like(fnp.where(zero, 1.0, ratio), u)

    def update(updates, state, params=None):
        _needs_params(params, "scale_by_trust_ratio")
        check_structure(updates, params, "scale_by_trust_ratio", "the parameters")
        return tree.map(leaf, updates, params), state

    return GradientTransformation(init, update)


class ScaleByLionState(NamedTuple):
    """State of :func:`scale_by_lion`: the momentum."""

    count: Any
    mu: Updates


def scale_by_lion(b1: float = 0.9, b2: float = 0.99) -> GradientTransformation:
    """Lion's direction ``sign(b1 m + (1 - b1) g)``, then ``m = b2 m + (1 - b2) g``.

    As optax (there is no ``torch.optim`` Lion).

    Args:
        b1: interpolation of the update direction.
        b2: decay of the momentum.

    Returns:
        A GradientTransformation with :class:`ScaleByLionState`.

    >>> import funcgrad.numpy as fnp
    >>> opt = scale_by_lion()
    >>> opt.update(fnp.array([0.1, -3.0]), opt.init(fnp.zeros(2)))[0]
    array([ 1., -1.], dtype=float32)
    """
    _check_unit("scale_by_lion", b1=b1, b2=b2)

    def init(params):
        return ScaleByLionState(zeros_count(), _zeros(params))

    def update(updates, state, params=None):
        check_structure(updates, state.mu, "scale_by_lion", _PARAMS)
        out = tree.map(lambda g, m: fnp.sign((1 - b1) * g + b1 * m), updates, state.mu)
        mu = tree.map(lambda g, m: (1 - b2) * g + b2 * m, updates, state.mu)
        return out, ScaleByLionState(increment(state.count), mu)

    return GradientTransformation(init, update)

