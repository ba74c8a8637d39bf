"""Tests for funcgrad_nn.losses: hand-written NumPy references always, PyTorch where installed.

Every loss is checked for each reduction, against its reference in float64, for finite
values and gradients at extreme logits in float32, with ``check_grads(order=2)``, and for
the ValueError it raises on mismatched shapes.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.special as sc
from hypothesis import given, settings
from hypothesis import strategies as st

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads
from funcgrad_nn import losses

REDUCTIONS = ["mean", "sum", "none"]

# --------------------------------------------------------------------------------------------
# NumPy references (written from PyTorch's documented formulas)
# --------------------------------------------------------------------------------------------


def _class_axis(x):
    return 0 if x.ndim == 1 else 1


def np_nll(logp, t, w=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Index-target NLL with PyTorch's label smoothing on log-probabilities ``logp``."""
    axis = _class_axis(logp)
    lp = np.moveaxis(logp, axis, -1)  # (..., C)
    n_classes = lp.shape[-1]
    w = np.ones(n_classes) if w is None else w
    valid = t != ignore_index
    ts = np.where(valid, t, 0)
    picked = np.take_along_axis(lp, ts[..., None], -1)[..., 0]
    wt = np.where(valid, w[ts], 0.0)
    nll = np.where(valid, -wt * picked, 0.0)
    smooth = np.where(valid, -(lp * w).sum(-1), 0.0)
    e = label_smoothing
    if reduction == "none":
        return (1 - e) * nll + e / n_classes * smooth
    if reduction == "sum":
        return (1 - e) * nll.sum() + e / n_classes * smooth.sum()
    return ((1 - e) * nll.sum() + e / n_classes * smooth.sum()) / wt.sum()


def np_cross_entropy(x, t, w=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    axis = _class_axis(x)
    logp = sc.log_softmax(x, axis=axis)
    if np.asarray(t).dtype.kind == "f":
        n_classes = x.shape[axis]
        p = t * (1 - label_smoothing) + label_smoothing / n_classes
        wb = 1.0 if w is None else w.reshape([-1 if i == axis else 1 for i in range(x.ndim)])
        prod = logp * p * wb
        if reduction == "none":
            return -prod.sum(axis)
        if reduction == "sum":
            return -prod.sum()
        return -prod.sum() / (x.size / n_classes)
    return np_nll(logp, t, w, ignore_index, reduction, label_smoothing)


def _np_reduce(loss, reduction):
    return {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]


def np_bce(x, t, w=None, reduction="mean"):
    with np.errstate(divide="ignore"):
        loss = -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log(1 - x), -100))
    return _np_reduce(loss * (1.0 if w is None else w), reduction)


def np_bce_logits(x, t, w=None, reduction="mean", pos_weight=None):
    lw = 1.0 if pos_weight is None else 1 + (pos_weight - 1) * t
    loss = (1 - t) * x + lw * np.logaddexp(0, -x)
    return _np_reduce(loss * (1.0 if w is None else w), reduction)


def np_huber(x, t, delta=1.0):
    d = np.abs(x - t)
    return np.where(d < delta, 0.5 * d**2, delta * (d - 0.5 * delta))


def np_smooth_l1(x, t, beta=1.0):
    d = np.abs(x - t)
    return d if beta == 0 else np.where(d < beta, 0.5 * d**2 / beta, d - 0.5 * beta)


def np_kl_div(x, t, reduction="mean", log_target=False):
    loss = np.exp(t) * (t - x) if log_target else sc.xlogy(t, t) - t * x
    if reduction == "batchmean":
        return loss.sum() / x.shape[0]
    return _np_reduce(loss, reduction)


def np_cosine_embedding(x1, x2, y, margin=0.0, reduction="mean"):
    cos = (x1 * x2).sum(-1) / np.sqrt(((x1**2).sum(-1) + 1e-12) * ((x2**2).sum(-1) + 1e-12))
    loss = np.where(y == 1, 1 - cos, 0.0) + np.where(y == -1, np.maximum(cos - margin, 0), 0.0)
    return _np_reduce(loss, reduction)


# --------------------------------------------------------------------------------------------
# Problem generators
# --------------------------------------------------------------------------------------------


@st.composite
def classification(draw, prob_targets=False):
    """(logits, target, weight, ignore_index, reduction, label_smoothing), float64."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    unbatched = draw(st.booleans())
    n_classes = draw(st.integers(2, 5))
    extra = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    shape = (n_classes,) if unbatched else (draw(st.integers(1, 4)), n_classes) + extra
    x = rng.standard_normal(shape) * 3
    axis = _class_axis(x)
    tshape = shape[:axis] + shape[axis + 1:]
    ignore_index = -100
    if prob_targets:
        t = sc.softmax(rng.standard_normal(shape), axis=axis)
        if draw(st.booleans()):  # one-hot-like targets with exact zeros
            t = np.moveaxis(np.eye(n_classes)[rng.integers(0, n_classes, tshape)], -1, axis)
    else:
        t = rng.integers(0, n_classes, tshape)
        if draw(st.booleans()) and t.size > 1:
            ignore_index = draw(st.sampled_from([-100, 0]))
            t.ravel()[0] = ignore_index if ignore_index < 0 else t.ravel()[0]
            if ignore_index == 0 and np.all(t == 0):
                t.ravel()[-1] = 1
    w = rng.uniform(0.2, 2.0, n_classes) if draw(st.booleans()) else None
    reduction = draw(st.sampled_from(REDUCTIONS))
    ls = draw(st.sampled_from([0.0, 0.1, 0.35]))
    return x, t, w, ignore_index, reduction, ls


# --------------------------------------------------------------------------------------------
# cross_entropy and nll_loss
# --------------------------------------------------------------------------------------------


@settings(max_examples=25)
@given(classification())
def test_cross_entropy_index_targets_match_reference(problem):
    x, t, w, ii, red, ls = problem
    out = losses.cross_entropy(x, t, weight=w, ignore_index=ii, reduction=red,
                               label_smoothing=ls)
    np.testing.assert_allclose(out, np_cross_entropy(x, t, w, ii, red, ls), rtol=1e-10,
                               atol=1e-12)
    assert out.dtype == np.float64


@settings(max_examples=20)
@given(classification(prob_targets=True))
def test_cross_entropy_prob_targets_match_reference(problem):
    x, t, w, _, red, ls = problem
    out = losses.cross_entropy(x, t, weight=w, reduction=red, label_smoothing=ls)
    np.testing.assert_allclose(out, np_cross_entropy(x, t, w, reduction=red, label_smoothing=ls),
                               rtol=1e-10, atol=1e-12)


@settings(max_examples=8)
@given(classification())
def test_cross_entropy_grads(problem):
    x, t, w, ii, red, ls = problem
    check_grads(lambda v: losses.cross_entropy(v, t, weight=w, ignore_index=ii, reduction=red,
                                               label_smoothing=ls), (x,), order=2)


@settings(max_examples=5)
@given(classification(prob_targets=True))
def test_cross_entropy_prob_target_grads_in_both_arguments(problem):
    x, t, w, _, red, ls = problem
    check_grads(lambda v, p: losses.cross_entropy(v, p, weight=w, reduction=red,
                                                  label_smoothing=ls), (x, t), order=2)


@settings(max_examples=15)
@given(classification())
def test_nll_loss_matches_reference(problem):
    x, t, w, ii, red, _ = problem
    logp = sc.log_softmax(x, axis=_class_axis(x))
    out = losses.nll_loss(logp, t, weight=w, ignore_index=ii, reduction=red)
    np.testing.assert_allclose(out, np_nll(logp, t, w, ii, red), rtol=1e-10, atol=1e-12)
    check_grads(lambda v: losses.nll_loss(v, t, weight=w, ignore_index=ii, reduction=red),
                (logp,), order=1)


def test_ignore_index_gets_no_gradient_and_is_left_out_of_the_mean():
    x = np.array([[1.0, 2.0, 3.0], [1.0, -1.0, 0.5], [0.0, 0.0, 9.0]])
    t = np.array([0, -100, 2])
    g = fg.grad(lambda v: losses.cross_entropy(v, t))(x)
    np.testing.assert_array_equal(g[1], 0.0)
    np.testing.assert_allclose(losses.cross_entropy(x, t),
                               losses.cross_entropy(x[[0, 2]], t[[0, 2]]))
    np.testing.assert_allclose(
        losses.cross_entropy(x, np.array([0, 1, 2]), ignore_index=1),
        losses.cross_entropy(x[[0, 2]], t[[0, 2]]))
    # -inf log-probabilities at ignored positions do not poison the loss or the gradient.
    logp = np.log(np.array([[1.0, 0.0], [0.0, 1.0]]), where=np.eye(2) > 0,
                  out=np.full((2, 2), -np.inf))
    assert float(losses.nll_loss(logp, np.array([0, -100]))) == 0.0
    assert np.all(np.isfinite(fg.grad(lambda v: losses.nll_loss(v, np.array([0, -100])))(logp)))
    with np.errstate(invalid="ignore"):  # every target ignored: 0 / 0, as PyTorch
        assert np.isnan(losses.cross_entropy(x[:1], np.array([-100])))


def test_cross_entropy_extreme_logits_float32():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [-1e4, -1e4, -1e4]], np.float32)
    t = np.array([1, 0, 2])
    x64 = x.astype(np.float64)
    for red in REDUCTIONS:
        for ls in (0.0, 0.2):
            for w in (None, np.array([1.0, 2.0, 0.5], np.float32)):
                f = lambda v: losses.cross_entropy(v, t, weight=w, reduction=red,  # noqa: E731
                                                   label_smoothing=ls)
                out = f(x)
                assert out.dtype == np.float32
                ref = np_cross_entropy(x64, t, None if w is None else w.astype(np.float64),
                                       reduction=red, label_smoothing=ls)
                np.testing.assert_allclose(out, ref, rtol=1e-5)
                g = fg.grad(lambda v: fnp.sum(f(v)))(x)
                assert np.all(np.isfinite(g))
    p = np.array([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0], [0.2, 0.3, 0.5]], np.float32)
    out = losses.cross_entropy(x, p, reduction="none")
    np.testing.assert_allclose(out, np_cross_entropy(x64, p.astype(np.float64),
                                                     reduction="none"), rtol=1e-5)
    assert np.all(np.isfinite(fg.grad(lambda v: losses.cross_entropy(v, p))(x)))
    h = fg.hessian(lambda v: losses.cross_entropy(v[None], t[:1]))(x[0])
    assert np.all(np.isfinite(h))


def test_cross_entropy_under_vmap_and_jit():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    t = rng.integers(0, 4, 6)
    per = fg.vmap(lambda v, c: losses.cross_entropy(v, c))(x, t)
    np.testing.assert_allclose(per, losses.cross_entropy(x, t, reduction="none"), rtol=1e-6)
    f = fg.jit(lambda v, c: losses.cross_entropy(v, c, label_smoothing=0.1))
    np.testing.assert_allclose(f(x, t), losses.cross_entropy(x, t, label_smoothing=0.1),
                               rtol=1e-6)
    np.testing.assert_allclose(fg.jit(fg.grad(losses.cross_entropy))(x, t),
                               fg.grad(losses.cross_entropy)(x, t), rtol=1e-6)


def test_classification_argument_errors():
    x = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"cross_entropy: 'target' .*\(4,\).*\(4, 3\).*\(5,\)"):
        losses.cross_entropy(x, np.zeros(5, int))
    with pytest.raises(ValueError, match=r"cross_entropy: 'target' .*\(4, 3\).*\(4, 2\)"):
        losses.cross_entropy(x, np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"cross_entropy: 'weight' .*\(3,\).*\(2,\)"):
        losses.cross_entropy(x, np.zeros(4, int), weight=np.ones(2))
    with pytest.raises(ValueError, match="cross_entropy: 'target' values must be in"):
        losses.cross_entropy(x, np.array([0, 1, 3, 0]))
    with pytest.raises(ValueError, match="cross_entropy: reduction must be one of"):
        losses.cross_entropy(x, np.zeros(4, int), reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.cross_entropy(x, np.zeros(4, int), label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"nll_loss: 'target' .*\(4, 2\).*\(4, 3, 2\).*\(4,\)"):
        losses.nll_loss(np.zeros((4, 3, 2)), np.zeros(4, int))
    with pytest.raises(ValueError, match="nll_loss: 'input' must have a class dimension"):
        losses.nll_loss(np.float64(0.0), np.int64(0))


# --------------------------------------------------------------------------------------------
# Binary cross-entropy
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction):
    rng = np.random.default_rng(1)
    x = rng.uniform(0.02, 0.98, (4, 3))
    t = rng.uniform(0, 1, (4, 3))
    w = rng.uniform(0.5, 2, (3,))
    np.testing.assert_allclose(losses.binary_cross_entropy(x, t, reduction=reduction),
                               np_bce(x, t, reduction=reduction), rtol=1e-12)
    np.testing.assert_allclose(losses.binary_cross_entropy(x, t, weight=w, reduction=reduction),
                               np_bce(x, t, w, reduction=reduction), rtol=1e-12)
    check_grads(lambda a, b: losses.binary_cross_entropy(a, b, weight=w, reduction=reduction),
                (x, t), order=2)


def test_binary_cross_entropy_at_zero_and_one():
    x = np.array([0.0, 1.0, 0.0, 1.0, 1e-30], np.float32)
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0], np.float32)
    out = losses.binary_cross_entropy(x, t, reduction="none")
    np.testing.assert_allclose(out, [100.0, 100.0, 0.0, 0.0, np.float32(-np.log(1e-30))],
                               rtol=1e-6)
    g = fg.grad(lambda v: losses.binary_cross_entropy(v, t, reduction="sum"))(x)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g[:4], [-1e12, 1e12, 0.0, 0.0], rtol=1e-6)  # PyTorch's values


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits(reduction):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 3)) * 4
    t = rng.uniform(0, 1, (5, 3))
    w = rng.uniform(0.5, 2, (5, 1))
    pw = rng.uniform(0.5, 3, (3,))
    f = losses.binary_cross_entropy_with_logits
    np.testing.assert_allclose(f(x, t, reduction=reduction), np_bce_logits(x, t, None, reduction),
                               rtol=1e-12)
    np.testing.assert_allclose(f(x, t, weight=w, reduction=reduction, pos_weight=pw),
                               np_bce_logits(x, t, w, reduction, pw), rtol=1e-12)
    check_grads(lambda a, b: f(a, b, weight=w, reduction=reduction, pos_weight=pw), (x, t),
                order=2)
    np.testing.assert_allclose(f(x, t, reduction=reduction),
                               losses.binary_cross_entropy(sc.expit(x), t, reduction=reduction),
                               rtol=1e-9)


def test_binary_cross_entropy_with_logits_extremes_float32():
    x = np.array([1e4, -1e4, 1e4, -1e4, 0.0], np.float32)
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.5], np.float32)
    f = losses.binary_cross_entropy_with_logits
    out = f(x, t, reduction="none", pos_weight=np.float32(3.0))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, np_bce_logits(x.astype(np.float64), t, None, "none", 3.0),
                               rtol=1e-6)
    g = fg.grad(lambda v: f(v, t, pos_weight=np.float32(3.0)))(x)
    np.testing.assert_allclose(g, [0.0, 0.0, 0.2, -0.6, -0.1], atol=1e-7)
    h = fg.hessian(lambda v: f(v, t))(x)
    assert np.all(np.isfinite(h))


def test_binary_argument_errors():
    f = losses.binary_cross_entropy_with_logits
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: 'target' .*"
                                         r"\(2, 3\).*\(3, 2\)"):
        f(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: 'pos_weight' of "
                                         r"shape \(2,\) .*\(2, 3\)"):
        f(np.zeros((2, 3)), np.zeros((2, 3)), pos_weight=np.ones(2))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: 'weight' of shape \(4,\)"):
        losses.binary_cross_entropy(np.full(3, 0.5), np.zeros(3), weight=np.ones(4))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: 'target' .*\(3,\).*\(1, 3\)"):
        losses.binary_cross_entropy(np.full(3, 0.5), np.zeros((1, 3)))


# --------------------------------------------------------------------------------------------
# Regression losses
# --------------------------------------------------------------------------------------------

REGRESSION = {
    "mse_loss": (losses.mse_loss, lambda x, t: (x - t) ** 2, {}),
    "l1_loss": (losses.l1_loss, lambda x, t: np.abs(x - t), {}),
    "huber_loss": (losses.huber_loss, np_huber, {}),
    "huber_loss_delta": (lambda x, t, **k: losses.huber_loss(x, t, delta=0.5, **k),
                         lambda x, t: np_huber(x, t, 0.5), {}),
    "smooth_l1_loss": (losses.smooth_l1_loss, np_smooth_l1, {}),
    "smooth_l1_loss_beta": (lambda x, t, **k: losses.smooth_l1_loss(x, t, beta=0.3, **k),
                            lambda x, t: np_smooth_l1(x, t, 0.3), {}),
    "smooth_l1_loss_beta0": (lambda x, t, **k: losses.smooth_l1_loss(x, t, beta=0.0, **k),
                             lambda x, t: np_smooth_l1(x, t, 0.0), {}),
}


def _away_from_kinks(x, t, kinks):
    d = np.abs(x - t)
    for k in kinks:
        x = np.where(np.abs(d - k) < 1e-3, x + 1e-2, x)
    return x


@pytest.mark.parametrize("name", sorted(REGRESSION))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=5)
@given(seed=st.integers(0, 2**32 - 1), shape=st.lists(st.integers(1, 3), max_size=3))
def test_regression_losses(name, reduction, seed, shape):
    f, ref, _ = REGRESSION[name]
    rng = np.random.default_rng(seed)
    t = rng.standard_normal(shape)
    x = _away_from_kinks(rng.standard_normal(shape) * 2, t, (0.0, 0.3, 0.5, 1.0))
    np.testing.assert_allclose(f(x, t, reduction=reduction), _np_reduce(ref(x, t), reduction),
                               rtol=1e-12, atol=1e-14)
    check_grads(lambda a, b: f(a, b, reduction=reduction), (x, t), order=2)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_weights_follow_torch(name, reduction):
    rng = np.random.default_rng(3)
    x, t, w = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.uniform(0, 2, (3, 4))
    f, ref, _ = REGRESSION[name]
    loss = ref(x, t) * w
    expect = {"none": loss, "sum": loss.sum(),
              # PyTorch: mse and l1 divide by sum(weight), huber takes the plain mean
              "mean": loss.mean() if name == "huber_loss" else loss.sum() / w.sum()}[reduction]
    np.testing.assert_allclose(f(x, t, reduction=reduction, weight=w), expect, rtol=1e-12)
    with pytest.raises(ValueError, match=rf"{name}: 'weight' .*\(3, 4\).*\(4,\)"):
        f(x, t, weight=w[0])


def test_regression_edges_and_dtypes():
    x = np.array([1.0, 2.0], np.float32)
    assert float(fg.grad(lambda v: losses.l1_loss(v, x))(x).sum()) == 0.0  # sign(0) == 0
    out = losses.mse_loss(x, np.array([1.5, 2.5]))  # float64 labels do not promote
    assert out.dtype == np.float32
    big = np.array([1e4, -1e4], np.float32)
    for f in (losses.mse_loss, losses.l1_loss, losses.huber_loss, losses.smooth_l1_loss):
        assert np.isfinite(f(big, -big)) and np.all(np.isfinite(fg.grad(f)(big, -big)))
        with pytest.raises(ValueError, match=rf"{f.__name__}: 'target' .*\(2,\).*\(2, 1\)"):
            f(x, x[:, None])
        with pytest.raises(ValueError, match=rf"{f.__name__}: reduction must be one of"):
            f(x, x, reduction="batchmean")
    with pytest.raises(ValueError, match="huber_loss: delta must be positive"):
        losses.huber_loss(x, x, delta=0.0)


# --------------------------------------------------------------------------------------------
# kl_div and cosine_embedding_loss
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "batchmean", "sum", "none"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    rng = np.random.default_rng(4)
    x = sc.log_softmax(rng.standard_normal((3, 5)), axis=1)
    p = sc.softmax(rng.standard_normal((3, 5)), axis=1)
    p[0, :2] = 0.0  # exact zeros in the target
    t = np.log(p, where=p > 0, out=np.full_like(p, -50.0)) if log_target else p
    out = losses.kl_div(x, t, reduction=reduction, log_target=log_target)
    np.testing.assert_allclose(out, np_kl_div(x, t, reduction, log_target), rtol=1e-12,
                               atol=1e-15)
    check_grads(lambda a, b: losses.kl_div(a, b, reduction=reduction, log_target=log_target),
                (x, t if log_target else p + 0.05), order=2)
    g = fg.grad(lambda b: fnp.sum(losses.kl_div(x, b, reduction=reduction,
                                                log_target=log_target)))(t)
    assert np.all(np.isfinite(g))  # finite at target == 0 too
    with pytest.raises(ValueError, match=r"kl_div: 'target' .*\(3, 5\).*\(5,\)"):
        losses.kl_div(x, t[0], reduction=reduction)


def test_kl_div_batchmean_is_the_kl_divergence():
    p = np.array([[0.25, 0.75], [0.5, 0.5]])
    q = np.array([[0.5, 0.5], [0.1, 0.9]])
    kl = np.sum(p * np.log(p / q), axis=1).mean()
    np.testing.assert_allclose(losses.kl_div(np.log(q), p, reduction="batchmean"), kl)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cosine_embedding_loss(reduction):
    rng = np.random.default_rng(5)
    x1, x2 = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    y = np.array([1, -1, 1, -1, -1, 1])
    out = losses.cosine_embedding_loss(x1, x2, y, margin=-0.2, reduction=reduction)
    np.testing.assert_allclose(out, np_cosine_embedding(x1, x2, y, -0.2, reduction), rtol=1e-12)
    check_grads(lambda a, b: losses.cosine_embedding_loss(a, b, y, margin=-0.2,
                                                          reduction=reduction), (x1, x2),
                order=2)
    np.testing.assert_allclose(losses.cosine_embedding_loss(x1[0], x2[0], np.int64(1)),
                               np_cosine_embedding(x1[0], x2[0], 1))
    with pytest.raises(ValueError, match=r"cosine_embedding_loss: 'input2' .*\(6, 4\).*\(6, 3\)"):
        losses.cosine_embedding_loss(x1, x2[:, :3], y)
    with pytest.raises(ValueError, match=r"cosine_embedding_loss: 'target' .*\(6,\).*\(5,\)"):
        losses.cosine_embedding_loss(x1, x2, y[:5])


# --------------------------------------------------------------------------------------------
# PyTorch oracle (skipped when torch is not installed)
# --------------------------------------------------------------------------------------------


def _t(x, grad=False):
    torch = pytest.importorskip("torch")
    return torch.tensor(np.asarray(x), requires_grad=grad)


def _compare_with_torch(ours, theirs, x, *args, rtol=1e-5, atol=1e-7):
    """Values and input gradients of ``ours(x, *args)`` and ``theirs(tensor(x), ...)``."""
    torch = pytest.importorskip("torch")
    tx = _t(x, grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # kl_div's 'mean' warning
        out_t = theirs(tx, *[_t(a) if isinstance(a, np.ndarray) else a for a in args])
    (g_t,) = torch.autograd.grad(out_t.sum(), tx)
    out = ours(x, *args)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=rtol, atol=atol)
    g = fg.grad(lambda v: fnp.sum(ours(v, *args)))(x)
    np.testing.assert_allclose(g, g_t.numpy(), rtol=rtol, atol=atol)


@settings(max_examples=20)
@given(classification())
def test_cross_entropy_matches_torch(problem):
    torch = pytest.importorskip("torch")
    x, t, w, ii, red, ls = problem
    x32 = x.astype(np.float32)
    w32 = None if w is None else w.astype(np.float32)
    _compare_with_torch(
        lambda v, c: losses.cross_entropy(v, c, weight=w32, ignore_index=ii, reduction=red,
                                          label_smoothing=ls),
        lambda v, c: torch.nn.functional.cross_entropy(
            v, c, weight=None if w32 is None else torch.tensor(w32), ignore_index=ii,
            reduction=red, label_smoothing=ls),
        x32, t.astype(np.int64))


@settings(max_examples=10)
@given(classification(prob_targets=True))
def test_cross_entropy_prob_targets_match_torch(problem):
    torch = pytest.importorskip("torch")
    x, t, w, _, red, ls = problem
    _compare_with_torch(
        lambda v, c: losses.cross_entropy(v, c, weight=w, reduction=red, label_smoothing=ls),
        lambda v, c: torch.nn.functional.cross_entropy(
            v, c, weight=None if w is None else torch.tensor(w), reduction=red,
            label_smoothing=ls),
        x, t, rtol=1e-10, atol=1e-12)


@settings(max_examples=10)
@given(classification())
def test_nll_loss_matches_torch(problem):
    torch = pytest.importorskip("torch")
    x, t, w, ii, red, _ = problem
    logp = sc.log_softmax(x, axis=_class_axis(x))
    _compare_with_torch(
        lambda v, c: losses.nll_loss(v, c, weight=w, ignore_index=ii, reduction=red),
        lambda v, c: torch.nn.functional.nll_loss(
            v, c, weight=None if w is None else torch.tensor(w), ignore_index=ii, reduction=red),
        logp, t.astype(np.int64), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_losses_match_torch(reduction):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 3)).astype(np.float32) * 3
    x[0] = [1e4, -1e4, 0.0]
    t = rng.uniform(0, 1, (4, 3)).astype(np.float32)
    w = rng.uniform(0.5, 2, (4, 1)).astype(np.float32)
    pw = rng.uniform(0.5, 3, (3,)).astype(np.float32)
    _compare_with_torch(
        lambda v, c, ww, p: losses.binary_cross_entropy_with_logits(
            v, c, weight=ww, reduction=reduction, pos_weight=p),
        lambda v, c, ww, p: F.binary_cross_entropy_with_logits(
            v, c, weight=ww, reduction=reduction, pos_weight=p),
        x, t, w, pw)
    probs = np.concatenate([sc.expit(x[1:]), [[0.0, 1.0, 0.5]]]).astype(np.float32)
    tb = np.concatenate([t[1:], [[1.0, 0.0, 0.5]]]).astype(np.float32)
    _compare_with_torch(
        lambda v, c, ww: losses.binary_cross_entropy(v, c, weight=ww, reduction=reduction),
        lambda v, c, ww: F.binary_cross_entropy(v, c, weight=ww, reduction=reduction),
        probs, tb, w)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_match_torch(reduction):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(7)
    x, t = rng.standard_normal((5, 4)) * 2, rng.standard_normal((5, 4))
    w = rng.uniform(0.1, 2, (5, 4))
    pairs = [
        (losses.mse_loss, F.mse_loss, {}), (losses.l1_loss, F.l1_loss, {}),
        (losses.huber_loss, F.huber_loss, {"delta": 0.7}),
        (losses.smooth_l1_loss, F.smooth_l1_loss, {"beta": 0.4}),
        (losses.smooth_l1_loss, F.smooth_l1_loss, {"beta": 0.0}),
    ]
    for ours, theirs, kw in pairs:
        _compare_with_torch(lambda v, c, ours=ours, kw=kw: ours(v, c, reduction=reduction, **kw),
                            lambda v, c, theirs=theirs, kw=kw: theirs(v, c, reduction=reduction,
                                                                      **kw),
                            x, t, rtol=1e-10, atol=1e-12)
    for ours, theirs in [(losses.mse_loss, F.mse_loss), (losses.l1_loss, F.l1_loss),
                         (losses.huber_loss, F.huber_loss)]:
        _compare_with_torch(lambda v, c, ww, ours=ours: ours(v, c, reduction=reduction, weight=ww),
                            lambda v, c, ww, theirs=theirs: theirs(v, c, reduction=reduction,
                                                                   weight=ww),
                            x, t, w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "batchmean", "sum", "none"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    x = sc.log_softmax(rng.standard_normal((3, 5)), axis=1)
    p = sc.softmax(rng.standard_normal((3, 5)), axis=1)
    t = np.log(p) if log_target else p
    _compare_with_torch(
        lambda v, c: losses.kl_div(v, c, reduction=reduction, log_target=log_target),
        lambda v, c: torch.nn.functional.kl_div(v, c, reduction=reduction,
                                                log_target=log_target),
        x, t, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cosine_embedding_loss_matches_torch(reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    x1, x2 = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    y = np.array([1, -1, 1, -1, -1, 1])
    _compare_with_torch(
        lambda a, b, c: losses.cosine_embedding_loss(a, b, c, margin=0.1, reduction=reduction),
        lambda a, b, c: torch.nn.functional.cosine_embedding_loss(a, b, c, margin=0.1,
                                                                  reduction=reduction),
        x1, x2, y, rtol=1e-10, atol=1e-12)
