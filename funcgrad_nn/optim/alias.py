"""User-facing optimizers, each only a :func:`~funcgrad_nn.optim.chain` of building blocks.

Defaults and numerics are ``torch.optim``'s (optax's for LAMB and Lion, which PyTorch lacks);
``learning_rate`` is a number or a schedule ``step -> value``. Weight decay is L2 (added to
the gradient first) in ``sgd``, ``adam``, ``radam``, ``nadam``, ``rmsprop``, ``adagrad``,
``adadelta`` and ``adamax``, as in PyTorch, and decoupled (added after the adaptive scaling,
multiplied by the learning rate) in ``adamw``, ``lamb`` and ``lion``.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> from funcgrad_nn import optim
    >>> params = {"w": fnp.array([1.0, -2.0])}
    >>> opt = optim.adam(0.1)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...     grads = fg.grad(lambda p: fnp.sum(p["w"] ** 2))(params)
    ...     updates, state = opt.update(grads, state, params)
    ...     params = optim.apply_updates(params, updates)
    >>> bool(fnp.all(fnp.abs(params["w"]) < 0.1))
    True
"""

from __future__ import annotations

from typing import Any

from funcgrad_nn.optim.base import (
    GradientTransformation,
    ScalarOrSchedule,
    as_float,
    is_static_zero,
)
from funcgrad_nn.optim.combine import chain
from funcgrad_nn.optim.transform import (
    add_decayed_weights,
    scale_by_adadelta,
    scale_by_adagrad,
    scale_by_adam,
    scale_by_adamax,
    scale_by_amsgrad,
    scale_by_learning_rate,
    scale_by_lion,
    scale_by_nadam,
    scale_by_radam,
    scale_by_rms,
    scale_by_stddev,
    scale_by_trust_ratio,
    trace,
)

__all__ = [
    "adadelta",
    "adagrad",
    "adam",
    "adamax",
    "adamw",
    "lamb",
    "lion",
    "nadam",
    "radam",
    "rmsprop",
    "sgd",
]


def _check_lr(who: str, learning_rate: Any) -> None:
    if isinstance(learning_rate, (int, float)) and not learning_rate >= 0.0:
        raise ValueError(f"{who}: learning_rate must be >= 0, got {learning_rate!r}")


def _l2(weight_decay) -> list[GradientTransformation]:
    """PyTorch's coupled weight decay (``g + wd * p``) when ``weight_decay`` is nonzero."""
    return [] if is_static_zero(weight_decay) else [add_decayed_weights(weight_decay)]


def _decoupled(weight_decay, mask) -> list[GradientTransformation]:
    return [] if is_static_zero(weight_decay) else [add_decayed_weights(weight_decay, mask)]


def sgd(learning_rate: ScalarOrSchedule, momentum: float | None = None,
        nesterov: bool = False, weight_decay: float = 0.0) -> GradientTransformation:
    """Stochastic gradient descent, as ``torch.optim.SGD`` (dampening 0).

    ``g = g + wd p``; with momentum ``buf = momentum buf + g`` (``buf = g`` at the first
    step) and the step is ``buf`` (Nesterov: ``g + momentum buf``); ``p -= lr * step``.

    Args:
        learning_rate: the step size or a schedule.
        momentum: the momentum coefficient (``None`` or 0: none).
        nesterov: Nesterov momentum (needs a momentum).
        weight_decay: L2 penalty coefficient.

    Returns:
        A GradientTransformation.

    Raises:
        ValueError: for a negative learning rate, or ``nesterov`` without momentum.

    >>> import funcgrad.numpy as fnp
    >>> opt = sgd(0.1, momentum=0.9)
    >>> opt.update(fnp.array([1.0]), opt.init(fnp.zeros(1)))[0]
    array([-0.1], dtype=float32)
    """
    _check_lr("sgd", learning_rate)
    if nesterov and is_static_zero(momentum):
        raise ValueError("sgd: nesterov=True needs a nonzero momentum (as torch.optim.SGD)")
    momentum_tx = [] if is_static_zero(momentum) else [trace(momentum, nesterov)]
    return chain(*_l2(weight_decay), *momentum_tx, scale_by_learning_rate(learning_rate))


def adam(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
         eps: float = 1e-8, weight_decay: float = 0.0,
         amsgrad: bool = False) -> GradientTransformation:
    """Adam, as ``torch.optim.Adam``: ``weight_decay`` is an L2 penalty added to the gradient.

    (optax's ``adam`` has no weight decay; for decoupled decay use :func:`adamw`.)

    Args:
        learning_rate: the step size or a schedule.
        b1: decay of the first moment (PyTorch's ``betas[0]``).
        b2: decay of the second moment (``betas[1]``).
        eps: added to the denominator.
        weight_decay: L2 penalty coefficient.
        amsgrad: use AMSGrad (:func:`~funcgrad_nn.optim.scale_by_amsgrad`).

    Returns:
        A GradientTransformation.

    >>> import funcgrad.numpy as fnp
    >>> opt = adam(1e-3)
    >>> opt.update(fnp.array([2.0]), opt.init(fnp.zeros(1)))[0]
    array([-0.001], dtype=float32)
    """
    _check_lr("adam", learning_rate)
    core = scale_by_amsgrad(b1, b2, eps) if amsgrad else scale_by_adam(b1, b2, eps)
    return chain(*_l2(weight_decay), core, scale_by_learning_rate(learning_rate))


def adamw(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
          eps: float = 1e-8, weight_decay: float = 1e-2, mask: Any = None,
          amsgrad: bool = False) -> GradientTransformation:
    """Adam with decoupled weight decay, as ``torch.optim.AdamW``.

    The step is ``lr * (adam_direction + weight_decay * p)``, PyTorch's
    ``p *= 1 - lr * wd`` followed by the Adam step. The default ``weight_decay`` is
    PyTorch's 1e-2 (optax's is 1e-4).

    Args:
        learning_rate: the step size or a schedule.
        b1: decay of the first moment.
        b2: decay of the second moment.
        eps: added to the denominator.
        weight_decay: decoupled weight decay coefficient.
        mask: tree of bools (or ``params -> tree``) choosing the leaves that decay.
        amsgrad: use AMSGrad.

    Returns:
        A GradientTransformation.

    >>> import funcgrad.numpy as fnp
    >>> opt = adamw(0.1, weight_decay=0.5)
    >>> params = fnp.array([2.0])
    >>> opt.update(fnp.array([0.0]), opt.init(params), params)[0]  # only the decay
    array([-0.1], dtype=float32)
    """
    _check_lr("adamw", learning_rate)
    core = scale_by_amsgrad(b1, b2, eps) if amsgrad else scale_by_adam(b1, b2, eps)
    return chain(core, *_decoupled(weight_decay, mask), scale_by_learning_rate(learning_rate))


def radam(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
          eps: float = 1e-8, weight_decay: float = 0.0) -> GradientTransformation:
    """Rectified Adam, as ``torch.optim.RAdam`` (see :func:`~funcgrad_nn.optim.scale_by_radam`).

    Args:
        learning_rate: the step size or a schedule.
        b1: decay of the first moment.
        b2: decay of the second moment.
        eps: added to the denominator (to the uncorrected ``sqrt(v)``, as PyTorch).
        weight_decay: L2 penalty coefficient.

    Returns:
        A GradientTransformation.

    >>> import funcgrad.numpy as fnp
    >>> opt = radam(0.5)
    >>> opt.update(fnp.array([2.0]), opt.init(fnp.zeros(1)))[0]
    array([-1.], dtype=float32)
    """
    _check_lr("radam", learning_rate)
    return chain(*_l2(weight_decay), scale_by_radam(b1, b2, eps),
                 scale_by_learning_rate(learning_rate))


def nadam(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
          eps: float = 1e-8, weight_decay: float = 0.0,
          momentum_decay: float = 4e-3) -> GradientTransformation:
    """NAdam, as ``torch.optim.NAdam`` (Dozat's momentum schedule,
    :func:`~funcgrad_nn.optim.scale_by_nadam`).

    optax's ``nadam`` is ``scale_by_adam(nesterov=True)`` without the momentum schedule.

    Args:
        learning_rate: the step size or a schedule.
        b1: decay of the first moment.
        b2: decay of the second moment.
        eps: added to the denominator.
        weight_decay: L2 penalty coefficient.
        momentum_decay: the momentum schedule's rate.

    Returns:
        A GradientTransformation.

    >>> import funcgrad.numpy as fnp
    >>> opt = nadam(2e-3)
    >>> opt.update(fnp.array([1.0]), opt.init(fnp.zeros(1)))[0].shape
    (1,)
    """
    _check_lr("nadam", learning_rate)
    return chain(*_l2(weight_decay), scale_by_nadam(b1, b2, eps, momentum_decay),
                 scale_by_learning_rate(learning_rate))


def rmsprop(learning_rate: ScalarOrSchedule, decay: float = 0.99, eps: float = 1e-8,
            weight_decay: float = 0.0, momentum: float = 0.0,
            centered: bool = False) -> GradientTransformation:
    """RMSprop, as ``torch.optim.RMSprop``.

    ``g / (sqrt(v) + eps)`` (centered: ``sqrt(v - m**2)``), eps outside the square root
    (optax: inside); momentum is applied to that direction *before* the learning rate,
    ``buf = momentum buf + g / (sqrt(v) + eps)``, ``p -= lr buf``, as PyTorch (optax applies
    the learning rate first, which differs under a schedule).

    Args:
        learning_rate: the step size or a schedule.
        decay: decay of the averages (PyTorch's ``alpha``).
        eps: added to the denominator.
        weight_decay: L2 penalty coefficient.
        momentum: momentum coefficient.
        centered: normalise by the estimated variance instead of the second moment.

    Returns:
        A GradientTransformation.

    >>> import funcgrad.numpy as fnp
    >>> opt = rmsprop(0.01, decay=0.75, eps=0.0)
    >>> opt.update(fnp.array([1.0]), opt.init(fnp.zeros(1)))[0]
    array([-0.02], dtype=float32)
    """
    _check_lr("rmsprop", learning_rate)
    core = scale_by_stddev(decay, eps) if centered else scale_by_rms(decay, eps)
    momentum_tx = [] if is_static_zero(momentum) else [trace(momentum)]
    return chain(*_l2(weight_decay), core, *momentum_tx, scale_by_learning_rate(learning_rate))


def adagrad(learning_rate: ScalarOrSchedule, lr_decay: float = 0.0, weight_decay: float = 0.0,
            initial_accumulator_value: float = 0.0,
            eps: float = 1e-10) -> GradientTransformation:
    """Adagrad, as ``torch.optim.Adagrad``.

    The step at update ``count`` (from 0) is ``lr / (1 + count * lr_decay)`` times
    ``g / (sqrt(s) + eps)``. Defaults are PyTorch's (optax: accumulator 0.1, eps 1e-7 inside
    the square root).

    Args:
        learning_rate: the step size or a schedule.
        lr_decay: learning-rate decay.
        weight_decay: L2 penalty coefficient.
        initial_accumulator_value: initial sum of squared gradients.
        eps: added to the denominator.

    Returns:
        A GradientTransformation.

    >>> import funcgrad.numpy as fnp
    >>> opt = adagrad(0.5)
    >>> opt.update(fnp.array([4.0]), opt.init(fnp.zeros(1)))[0]
    array([-0.5], dtype=float32)
    """
    _check_lr("adagrad", learning_rate)
    lr = learning_rate
    if not is_static_zero(lr_decay):
        base = learning_rate if callable(learning_rate) else (lambda count: learning_rate)

        def lr(count):
            return base(count) / (1 + as_float(count) * lr_decay)

    return chain(*_l2(weight_decay), scale_by_adagrad(initial_accumulator_value, eps),
                 scale_by_learning_rate(lr))


def adadelta(learning_rate: ScalarOrSchedule = 1.0, rho: float = 0.9, eps: float = 1e-6,
             weight_decay: float = 0.0) -> GradientTransformation:
    """Adadelta, as ``torch.optim.Adadelta`` (default learning rate 1).

    Args:
        learning_rate: the step size or a schedule.
        rho: decay of the averages.
        eps: added inside the square roots.
        weight_decay: L2 penalty coefficient.

    Returns:
        A GradientTransformation.

    >>> import funcgrad.numpy as fnp
    >>> opt = adadelta()
    >>> opt.update(fnp.array([1.0]), opt.init(fnp.zeros(1)))[0].shape
    (1,)
    """
    _check_lr("adadelta", learning_rate)
    return chain(*_l2(weight_decay), scale_by_adadelta(rho, eps),
                 scale_by_learning_rate(learning_rate))


def adamax(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
           eps: float = 1e-8, weight_decay: float = 0.0) -> GradientTransformation:
    """Adamax, as ``torch.optim.Adamax`` (see :func:`~funcgrad_nn.optim.scale_by_adamax`).

    Args:
        learning_rate: the step size or a schedule.
        b1: decay of the first moment.
        b2: decay of the infinity norm.
        eps: added to ``|g|``.
        weight_decay: L2 penalty coefficient.

    Returns:
        A GradientTransformation.

    >>> import funcgrad.numpy as fnp
    >>> opt = adamax(2e-3)
    >>> opt.update(fnp.array([-1.0]), opt.init(fnp.zeros(1)))[0]
    array([0.002], dtype=float32)
    """
    _check_lr("adamax", learning_rate)
    return chain(*_l2(weight_decay), scale_by_adamax(b1, b2, eps),
                 scale_by_learning_rate(learning_rate))


def lamb(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
         eps: float = 1e-6, weight_decay: float = 0.0, mask: Any = None) -> GradientTransformation:
    """LAMB (optax's; no ``torch.optim`` counterpart): Adam's direction plus decoupled weight
    decay, rescaled per leaf by the trust ratio ``||p|| / ||update||``.

    Args:
        learning_rate: the step size or a schedule.
        b1: decay of the first moment.
        b2: decay of the second moment.
        eps: added to the denominator.
        weight_decay: decoupled weight decay coefficient.
        mask: tree of bools (or ``params -> tree``) choosing the leaves that decay.

    Returns:
        A GradientTransformation.

    >>> import funcgrad.numpy as fnp
    >>> opt = lamb(0.1)
    >>> params = fnp.array([3.0, 4.0])
    >>> opt.update(fnp.array([1.0, 1.0]), opt.init(params), params)[0].shape
    (2,)
    """
    _check_lr("lamb", learning_rate)
    return chain(scale_by_adam(b1, b2, eps), *_decoupled(weight_decay, mask),
                 scale_by_trust_ratio(), scale_by_learning_rate(learning_rate))


def lion(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.99,
         weight_decay: float = 1e-3, mask: Any = None) -> GradientTransformation:
    """Lion (optax's; no ``torch.optim`` counterpart): the sign of an interpolated momentum,
    plus decoupled weight decay (optax's default 1e-3).

    Args:
        learning_rate: the step size or a schedule (typically 3-10x smaller than Adam's).
        b1: interpolation of the update direction.
        b2: decay of the momentum.
        weight_decay: decoupled weight decay coefficient.
        mask: tree of bools (or ``params -> tree``) choosing the leaves that decay.

    Returns:
        A GradientTransformation.

    >>> import funcgrad.numpy as fnp
    >>> opt = lion(1e-2, weight_decay=0.0)
    >>> opt.update(fnp.array([3.0, -0.5]), opt.init(fnp.zeros(2)))[0]
    array([-0.01,  0.01], dtype=float32)
    """
    _check_lr("lion", learning_rate)
    return chain(scale_by_lion(b1, b2), *_decoupled(weight_decay, mask),
                 scale_by_learning_rate(learning_rate))
