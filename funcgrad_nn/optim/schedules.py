"""Schedules: functions ``step -> value`` for learning rates and other hyperparameters.

Each factory returns a function of the step count (a Python int, or an integer array,
possibly traced under ``fg.jit``/``vmap``, of any shape) computed with ``fnp`` operations
only, so it jits; values come back as default-float arrays (float32). The step passed by the
optimizers is the number of updates already made: the first update uses ``schedule(0)``.

A schedule that gives NaN or inf at step 0 is rejected with a ValueError **when the
optimizer is built** (``scale_by_schedule``, ``scale_by_learning_rate``, any alias, or
``inject_hyperparams(...)(...)``), not at the first update.

>>> s = warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=10, decay_steps=110)
>>> [round(float(s(t)), 3) for t in (0, 5, 10, 60, 110, 200)]
[0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import funcgrad.numpy as fnp
from funcgrad._src.backend import default_float
from funcgrad_nn.optim.base import Schedule

__all__ = [
    "constant_schedule",
    "cosine_decay_schedule",
    "cosine_onecycle_schedule",
    "exponential_decay",
    "join_schedules",
    "linear_schedule",
    "one_cycle",
    "piecewise_constant_schedule",
    "polynomial_schedule",
    "warmup_cosine_decay_schedule",
]


def _steps(count):
    """The step count as a default-float array."""
    return fnp.asarray(count, dtype=default_float())


def _const(value, like):
    """``value`` broadcast to the shape of ``like``, as a default-float array."""
    return fnp.zeros_like(like) + value


def _check(who: str, condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(f"{who}: {message}")


def constant_schedule(value: float) -> Schedule:
    """A schedule that always returns ``value``.

    Args:
        value: the constant.

    Returns:
        A schedule ``step -> value``.

    >>> s = constant_schedule(0.1)
    >>> s(1000).dtype, round(float(s(1000)), 6)
    (dtype('float32'), 0.1)
    """

    def schedule(count):
        return _const(value, _steps(count))

    return schedule


def polynomial_schedule(init_value: float, end_value: float, power: float,
                        transition_steps: int, transition_begin: int = 0) -> Schedule:
    """Polynomial decay from ``init_value`` to ``end_value`` over ``transition_steps``.

    ``end + (init - end) * (1 - s / transition_steps) ** power`` with
    ``s = clip(step - transition_begin, 0, transition_steps)``; ``init_value`` before
    ``transition_begin`` and ``end_value`` after. With ``transition_steps == 0`` it jumps to
    ``end_value`` at ``transition_begin``.

    Args:
        init_value: the value until ``transition_begin``.
        end_value: the value from ``transition_begin + transition_steps`` on.
        power: the exponent.
        transition_steps: length of the transition, ``>= 0``.
        transition_begin: the step at which the transition starts, ``>= 0``.

    Returns:
        A schedule.

    Raises:
        ValueError: for negative ``transition_steps`` or ``transition_begin``.

    >>> s = polynomial_schedule(1.0, 0.0, power=2, transition_steps=10)
    >>> float(s(5))
    0.25
    """
    who = "polynomial_schedule"
    _check(who, transition_steps >= 0, f"transition_steps must be >= 0, got {transition_steps}")
    _check(who, transition_begin >= 0, f"transition_begin must be >= 0, got {transition_begin}")

    def schedule(count):
        t = _steps(count) - transition_begin
        if transition_steps == 0:
            return fnp.where(t < 0, _const(init_value, t), _const(end_value, t))
        frac = 1 - fnp.clip(t, 0, transition_steps) / transition_steps
        return (init_value - end_value) * frac ** power + end_value

    return schedule


def linear_schedule(init_value: float, end_value: float, transition_steps: int,
                    transition_begin: int = 0) -> Schedule:
    """Linear interpolation from ``init_value`` to ``end_value`` (``polynomial_schedule``
    with ``power=1``).

    Args:
        init_value: the value until ``transition_begin``.
        end_value: the value from ``transition_begin + transition_steps`` on.
        transition_steps: length of the transition, ``>= 0``.
        transition_begin: the step at which the transition starts.

    Returns:
        A schedule.

    >>> s = linear_schedule(0.0, 1.0, transition_steps=4)
    >>> [float(s(t)) for t in (0, 1, 4, 9)]
    [0.0, 0.25, 1.0, 1.0]
    """
    return polynomial_schedule(init_value, end_value, 1, transition_steps, transition_begin)


def piecewise_constant_schedule(init_value: float,
                                boundaries_and_scales: dict[int, float] | None = None
                                ) -> Schedule:
    """``init_value`` multiplied by every ``scale`` whose boundary has been reached.

    The scale of boundary ``b`` applies from step ``b`` on (``step >= b``), as optax and
    ``torch.optim.lr_scheduler.MultiStepLR``.

    Args:
        init_value: the value before the first boundary.
        boundaries_and_scales: ``{boundary_step: scale}``, scales ``>= 0``.

    Returns:
        A schedule.

    Raises:
        ValueError: for a negative scale or boundary.

    >>> s = piecewise_constant_schedule(1.0, {2: 0.5, 4: 0.1})
    >>> [round(float(s(t)), 3) for t in range(6)]
    [1.0, 1.0, 0.5, 0.5, 0.05, 0.05]
    """
    items = sorted((boundaries_and_scales or {}).items())
    who = "piecewise_constant_schedule"
    for b, s in items:
        _check(who, b >= 0, f"boundaries must be >= 0, got {b}")
        _check(who, s >= 0, f"scales must be >= 0, got {s} at boundary {b}")

    def schedule(count):
        t = _steps(count)
        value = _const(init_value, t)
        for b, s in items:
            value = fnp.where(t >= b, value * s, value)
        return value

    return schedule


def exponential_decay(init_value: float, transition_steps: int, decay_rate: float,
                      transition_begin: int = 0, staircase: bool = False,
                      end_value: float | None = None) -> Schedule:
    """``init_value * decay_rate ** ((step - transition_begin) / transition_steps)``.

    ``init_value`` before ``transition_begin``; with ``staircase`` the exponent is floored
    (``torch.optim.lr_scheduler.StepLR`` is ``staircase=True``); ``end_value`` bounds the
    value (a floor when decaying, a ceiling when growing).

    Args:
        init_value: the initial value.
        transition_steps: steps per factor of ``decay_rate``, ``> 0``.
        decay_rate: the factor, ``> 0``.
        transition_begin: the step at which the decay starts, ``>= 0``.
        staircase: decay in discrete jumps.
        end_value: optional bound.

    Returns:
        A schedule.

    Raises:
        ValueError: for non-positive ``transition_steps`` or ``decay_rate``.

    >>> s = exponential_decay(1.0, transition_steps=2, decay_rate=0.5, staircase=True)
    >>> [float(s(t)) for t in range(5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    who = "exponential_decay"
    _check(who, transition_steps > 0, f"transition_steps must be > 0, got {transition_steps}")
    _check(who, decay_rate > 0, f"decay_rate must be > 0, got {decay_rate}")
    _check(who, transition_begin >= 0, f"transition_begin must be >= 0, got {transition_begin}")

    def schedule(count):
        t = _steps(count) - transition_begin
        p = t / transition_steps
        if staircase:
            p = fnp.floor(p)
        value = init_value * fnp.power(decay_rate, fnp.maximum(p, 0))
        if end_value is not None:
            bound = fnp.maximum if decay_rate < 1 else fnp.minimum
            value = bound(value, end_value)
        return fnp.where(t <= 0, _const(init_value, t), value)

    return schedule


def cosine_decay_schedule(init_value: float, decay_steps: int, alpha: float = 0.0,
                          exponent: float = 1.0) -> Schedule:
    """Cosine decay from ``init_value`` to ``alpha * init_value`` over ``decay_steps``.

    ``init * ((1 - alpha) * (0.5 (1 + cos(pi s / decay_steps))) ** exponent + alpha)`` with
    ``s = min(step, decay_steps)`` (``torch.optim.lr_scheduler.CosineAnnealingLR`` with
    ``T_max = decay_steps`` and ``eta_min = alpha * init``, before ``T_max``).

    Args:
        init_value: the initial value.
        decay_steps: length of the decay, ``> 0``.
        alpha: the final value as a fraction of ``init_value``.
        exponent: power of the cosine factor.

    Returns:
        A schedule.

    Raises:
        ValueError: for non-positive ``decay_steps``.

    >>> s = cosine_decay_schedule(1.0, decay_steps=10, alpha=0.1)
    >>> [round(float(s(t)), 4) for t in (0, 5, 10, 20)]
    [1.0, 0.55, 0.1, 0.1]
    """
    _check("cosine_decay_schedule", decay_steps > 0, f"decay_steps must be > 0, got "
           f"{decay_steps}")

    def schedule(count):
        t = fnp.minimum(_steps(count), decay_steps)
        cosine = 0.5 * (1 + fnp.cos(math.pi * t / decay_steps))
        return init_value * ((1 - alpha) * cosine ** exponent + alpha)

    return schedule


def join_schedules(schedules: Sequence[Schedule], boundaries: Sequence[int]) -> Schedule:
    """Run ``schedules[i]`` from ``boundaries[i - 1]`` on, each restarted at step 0.

    From step ``boundaries[i-1]`` (inclusive) the value is
    ``schedules[i](step - boundaries[i-1])``.

    Args:
        schedules: ``n`` schedules.
        boundaries: ``n - 1`` increasing steps.

    Returns:
        A schedule.

    Raises:
        ValueError: for the wrong number of boundaries, or boundaries out of order.

    >>> s = join_schedules([constant_schedule(1.0), linear_schedule(2.0, 0.0, 4)], [3])
    >>> [float(s(t)) for t in range(6)]
    [1.0, 1.0, 1.0, 2.0, 1.5, 1.0]
    """
    schedules, boundaries = list(schedules), list(boundaries)
    who = "join_schedules"
    _check(who, len(schedules) >= 1, "needs at least one schedule")
    _check(who, len(boundaries) == len(schedules) - 1,
           f"needs len(schedules) - 1 = {len(schedules) - 1} boundaries, got {len(boundaries)}")
    _check(who, all(a < b for a, b in zip(boundaries, boundaries[1:])),
           f"boundaries must be increasing, got {boundaries}")

    def schedule(count):
        value = schedules[0](count)
        for boundary, fn in zip(boundaries, schedules[1:]):
            value = fnp.where(count < boundary, value, fn(count - boundary))
        return value

    return schedule


def warmup_cosine_decay_schedule(init_value: float, peak_value: float, warmup_steps: int,
                                 decay_steps: int, end_value: float = 0.0,
                                 exponent: float = 1.0) -> Schedule:
    """Linear warmup from ``init_value`` to ``peak_value``, then cosine decay to ``end_value``.

    As optax: ``decay_steps`` counts the warmup too, so the value reaches ``end_value`` at
    step ``decay_steps``.

    Args:
        init_value: the value at step 0.
        peak_value: the value at the end of the warmup.
        warmup_steps: length of the warmup, ``>= 0``.
        decay_steps: total length (warmup included), ``> warmup_steps``.
        end_value: the final value.
        exponent: power of the cosine factor.

    Returns:
        A schedule.

    Raises:
        ValueError: unless ``0 <= warmup_steps < decay_steps``.

    >>> s = warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=2, decay_steps=4)
    >>> [round(float(s(t)), 6) for t in range(5)]
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    _check("warmup_cosine_decay_schedule", 0 <= warmup_steps < decay_steps,
           f"needs 0 <= warmup_steps < decay_steps, got {warmup_steps} and {decay_steps}")
    span = decay_steps - warmup_steps

    def cosine(count):
        t = fnp.minimum(_steps(count), span)
        factor = (0.5 * (1 + fnp.cos(math.pi * t / span))) ** exponent
        return end_value + (peak_value - end_value) * factor

    if warmup_steps == 0:
        return cosine
    return join_schedules([linear_schedule(init_value, peak_value, warmup_steps), cosine],
                          [warmup_steps])


def _cos_anneal(start, end, pct):
    return end + (start - end) / 2 * (fnp.cos(math.pi * pct) + 1)


def cosine_onecycle_schedule(transition_steps: int, peak_value: float, pct_start: float = 0.3,
                             div_factor: float = 25.0, final_div_factor: float = 1e4
                             ) -> Schedule:
    """optax's one-cycle schedule: cosine up from ``peak / div_factor`` to ``peak`` over the
    first ``int(pct_start * transition_steps)`` steps, then cosine down to
    ``peak / (div_factor * final_div_factor)`` at ``transition_steps``, constant after.

    See :func:`one_cycle` for PyTorch's ``OneCycleLR``, whose phase boundaries are one step
    earlier.

    Args:
        transition_steps: the length of the cycle, ``> 0``.
        peak_value: the maximum.
        pct_start: fraction of the cycle spent increasing, in ``(0, 1)``.
        div_factor: ``peak / initial``.
        final_div_factor: ``initial / final``.

    Returns:
        A schedule.

    Raises:
        ValueError: for bad arguments.

    >>> s = cosine_onecycle_schedule(10, 1.0, pct_start=0.5, div_factor=10.0)
    >>> [round(float(s(t)), 4) for t in (0, 5, 10)]
    [0.1, 1.0, 0.0]
    """
    who = "cosine_onecycle_schedule"
    _check(who, transition_steps > 0, f"transition_steps must be > 0, got {transition_steps}")
    _check(who, 0 < pct_start < 1, f"pct_start must be in (0, 1), got {pct_start}")
    mid = int(pct_start * transition_steps)
    _check(who, 0 < mid < transition_steps, "pct_start * transition_steps must fall strictly "
           "inside the cycle")
    initial = peak_value / div_factor
    final = initial / final_div_factor

    def schedule(count):
        t = _steps(count)
        up = _cos_anneal(initial, peak_value, fnp.clip(t / mid, 0, 1))
        down = _cos_anneal(peak_value, final, fnp.clip((t - mid) / (transition_steps - mid), 0, 1))
        return fnp.where(t < mid, up, down)

    return schedule


def one_cycle(total_steps: int, max_lr: float, pct_start: float = 0.3,
              div_factor: float = 25.0, final_div_factor: float = 1e4) -> Schedule:
    """PyTorch's ``OneCycleLR`` (cosine annealing, two phases), as a schedule.

    The value at step ``t`` (0-based: the learning rate of the ``t``-th update) rises from
    ``max_lr / div_factor`` to ``max_lr`` at step ``pct_start * total_steps - 1`` and falls to
    ``max_lr / (div_factor * final_div_factor)`` at step ``total_steps - 1``; it stays there
    after (where PyTorch raises an error).

    Args:
        total_steps: the number of updates in the cycle, ``>= 2``.
        max_lr: the peak learning rate.
        pct_start: fraction of the cycle spent increasing, in ``(0, 1)``.
        div_factor: ``max_lr / initial``.
        final_div_factor: ``initial / final``.

    Returns:
        A schedule.

    Raises:
        ValueError: for bad arguments.

    >>> s = one_cycle(11, 1.0, pct_start=0.5, div_factor=10.0)
    >>> [round(float(s(t)), 4) for t in (0, 10)]
    [0.1, 0.0]
    """
    who = "one_cycle"
    _check(who, total_steps >= 2, f"total_steps must be >= 2, got {total_steps}")
    _check(who, 0 < pct_start < 1, f"pct_start must be in (0, 1), got {pct_start}")
    initial = max_lr / div_factor
    final = initial / final_div_factor
    end_up = float(pct_start * total_steps) - 1
    end_down = total_steps - 1
    _check(who, 0 < end_up < end_down, "pct_start * total_steps - 1 must fall strictly "
           "inside (0, total_steps - 1)")

    def schedule(count):
        t = _steps(count)
        up = _cos_anneal(initial, max_lr, fnp.clip(t / end_up, 0, 1))
        down = _cos_anneal(max_lr, final, fnp.clip((t - end_up) / (end_down - end_up), 0, 1))
        return fnp.where(t <= end_up, up, down)

    return schedule
