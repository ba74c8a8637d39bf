"""Tests for funcgrad_nn.optim: convergence, hand-computed steps, torch.optim step for step,
schedules, combinators and errors."""

import math
import os
import tempfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import tree
from funcgrad_nn import checkpoint, optim

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def rosenbrock(p):
    x, y = p["xy"][0], p["xy"][1]
    return (1 - x) ** 2 + 100.0 * (y - x * x) ** 2


def quadratic(p):
    scales = fnp.array([1.0, 10.0])
    return (fnp.sum(scales * (p["w"] - fnp.array([1.0, -2.0])) ** 2)
            + fnp.sum((p["b"] - 0.5) ** 2))


def minimise(opt, loss, params, steps):
    @fg.jit
    def step(params, state):
        grads = fg.grad(loss)(params)
        updates, state = opt.update(grads, state, params)
        return optim.apply_updates(params, updates), state

    state = opt.init(params)
    for _ in range(steps):
        params, state = step(params, state)
    return float(loss(params))


def run_steps(opt, params, grads_seq):
    """Apply ``opt`` eagerly for each gradient tree; return the parameters after each step."""
    state = opt.init(params)
    out = []
    for g in grads_seq:
        updates, state = opt.update(g, state, params)
        params = optim.apply_updates(params, updates)
        out.append(params)
    return out, state


def random_tree(rng, dtype=np.float64):
    return {"w": rng.normal(size=(3, 4)).astype(dtype), "b": rng.normal(size=(5,)).astype(dtype)}


# --------------------------------------------------------------------------------------------
# (1) Convergence: one row per optimizer
# --------------------------------------------------------------------------------------------

# id, optimizer for Rosenbrock, Rosenbrock threshold (start: 24.2), optimizer for the quadratic
CONVERGENCE = [
    ("sgd", optim.sgd(2e-3), 1e-2, optim.sgd(0.04)),
    ("sgd_momentum", optim.sgd(1e-3, momentum=0.9), 1e-6, optim.sgd(0.01, momentum=0.9)),
    ("sgd_nesterov", optim.sgd(1e-3, momentum=0.9, nesterov=True), 1e-6,
     optim.sgd(0.01, momentum=0.9, nesterov=True)),
    ("adam", optim.adam(0.02), 1e-4, optim.adam(0.1)),
    ("adam_amsgrad", optim.adam(0.05, amsgrad=True), 1e-5, optim.adam(0.1, amsgrad=True)),
    ("adamw", optim.adamw(0.02, weight_decay=1e-4), 1e-4, optim.adamw(0.1, weight_decay=1e-5)),
    # RAdam's first steps are plain momentum SGD: a small learning rate, b2 = 0.99 to rectify
    ("radam", optim.radam(5e-3, b2=0.99), 1e-4, optim.radam(0.1)),
    ("nadam", optim.nadam(0.02), 1e-3, optim.nadam(0.1)),
    ("rmsprop", optim.rmsprop(3e-4, momentum=0.9), 1e-4, optim.rmsprop(3e-3)),
    ("rmsprop_centered", optim.rmsprop(1e-3, centered=True, momentum=0.5), 1e-4,
     optim.rmsprop(0.01, centered=True, momentum=0.5)),
    ("adagrad", optim.adagrad(0.5), 1e-2, optim.adagrad(0.5)),
    # Adadelta creeps along the valley: it only has to leave the start far behind.
    ("adadelta", optim.adadelta(1.0), 1.0, optim.adadelta(1.0)),
    ("adamax", optim.adamax(0.1), 1e-4, optim.adamax(0.1)),
    ("lamb", optim.lamb(optim.cosine_decay_schedule(0.02, 3000)), 1e-6,
     optim.lamb(optim.cosine_decay_schedule(0.05, 1000))),
    ("lion", optim.lion(1e-3, weight_decay=0.0), 5e-3, optim.lion(0.01, weight_decay=0.0)),
]


@pytest.mark.parametrize("name,rosen_opt,rosen_tol,quad_opt", CONVERGENCE,
                         ids=[row[0] for row in CONVERGENCE])
def test_convergence(name, rosen_opt, rosen_tol, quad_opt):
    quad = minimise(quad_opt, quadratic, {"w": fnp.zeros(2), "b": fnp.zeros(3)}, 1000)
    assert quad < 1e-4, f"{name}: quadratic loss {quad}"
    rosen = minimise(rosen_opt, rosenbrock, {"xy": fnp.array([-1.2, 1.0])}, 3000)
    assert rosen < rosen_tol, f"{name}: Rosenbrock loss {rosen}"


# --------------------------------------------------------------------------------------------
# (2) Hand-computed steps: plain-NumPy references from the published update equations
# --------------------------------------------------------------------------------------------

P0 = np.array([0.5, -1.0, 2.0])
GRADS = [np.array([0.1, -0.2, 0.3]), np.array([-0.4, 0.5, 0.05]), np.array([0.2, 0.2, -0.6])]


def ref_sgd(p, grads, lr, momentum, nesterov):
    buf, out = None, []
    for g in grads:
        buf = g if buf is None else momentum * buf + g
        p = p - lr * (g + momentum * buf if nesterov else buf)
        out.append(p)
    return out


def ref_adam(p, grads, lr, b1, b2, eps, weight_decay=0.0, decoupled=False):
    m = v = np.zeros_like(p)
    out = []
    for t, g in enumerate(grads, start=1):
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


def ref_rmsprop(p, grads, lr, alpha, eps, centered=False, momentum=0.0):
    v = mean = buf = np.zeros_like(p)
    out = []
    for g in grads:
        v = alpha * v + (1 - alpha) * g * g
        mean = alpha * mean + (1 - alpha) * g
        denom = np.sqrt(v - mean ** 2 if centered else v) + eps
        buf = momentum * buf + g / denom
        p = p - lr * buf
        out.append(p)
    return out


def ref_adagrad(p, grads, lr, lr_decay, eps, initial_accumulator_value):
    s = np.full_like(p, initial_accumulator_value)
    out = []
    for t, g in enumerate(grads, start=1):
        s = s + g * g
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
        out.append(p)
    return out


def ref_radam(p, grads, lr, b1, b2, eps):
    m = v = np.zeros_like(p)
    rho_inf = 2 / (1 - b2) - 1
    out = []
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1 ** t)
        rho = rho_inf - 2 * t * b2 ** t / (1 - b2 ** t)
        if rho > 5:
            r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            p = p - lr * r * m_hat * math.sqrt(1 - b2 ** t) / (np.sqrt(v) + eps)
        else:
            p = p - lr * m_hat
        out.append(p)
    return out


HAND = [
    ("sgd_momentum", optim.sgd(0.1, momentum=0.9), lambda: ref_sgd(P0, GRADS, 0.1, 0.9, False)),
    ("sgd_nesterov", optim.sgd(0.1, momentum=0.9, nesterov=True),
     lambda: ref_sgd(P0, GRADS, 0.1, 0.9, True)),
    ("adam", optim.adam(0.01, b1=0.8, b2=0.9, eps=1e-3),
     lambda: ref_adam(P0, GRADS, 0.01, 0.8, 0.9, 1e-3)),
    ("adam_l2", optim.adam(0.01, weight_decay=0.5),
     lambda: ref_adam(P0, GRADS, 0.01, 0.9, 0.999, 1e-8, weight_decay=0.5)),
    ("adamw", optim.adamw(0.01, weight_decay=0.5),
     lambda: ref_adam(P0, GRADS, 0.01, 0.9, 0.999, 1e-8, 0.5, decoupled=True)),
    ("rmsprop", optim.rmsprop(0.01, decay=0.9, eps=1e-2),
     lambda: ref_rmsprop(P0, GRADS, 0.01, 0.9, 1e-2)),
    ("rmsprop_centered_momentum", optim.rmsprop(0.01, decay=0.9, centered=True, momentum=0.5),
     lambda: ref_rmsprop(P0, GRADS, 0.01, 0.9, 1e-8, centered=True, momentum=0.5)),
    ("adagrad", optim.adagrad(0.1, lr_decay=0.5, eps=1e-3, initial_accumulator_value=0.2),
     lambda: ref_adagrad(P0, GRADS, 0.1, 0.5, 1e-3, 0.2)),
    # b2 = 0.5 gives rho_inf = 3 < 5: never adaptive; b2 = 0.99 turns adaptive at step 6.
    ("radam_momentum_phase", optim.radam(0.1, b2=0.5), lambda: ref_radam(P0, GRADS, 0.1, 0.9,
                                                                       0.5, 1e-8)),
    ("radam_adaptive", optim.radam(0.1, b1=0.5, b2=0.99),
     lambda: ref_radam(P0, GRADS * 3, 0.1, 0.5, 0.99, 1e-8)),
]


@pytest.mark.parametrize("name,opt,reference", HAND, ids=[row[0] for row in HAND])
def test_hand_computed_steps(name, opt, reference):
    expected = reference()
    got, _ = run_steps(opt, P0, GRADS * (len(expected) // len(GRADS)))
    assert len(got) == len(expected)
    for i, (a, b) in enumerate(zip(got, expected)):
        assert a.dtype == np.float64
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=f"{name} step {i + 1}")


def test_radam_adaptive_phase_is_reached():
    # rho_t > 5 from step 6 with b2 = 0.99: the rectified step differs from plain momentum.
    adaptive = ref_radam(P0, GRADS * 3, 0.1, 0.5, 0.99, 1e-8)
    plain = ref_sgd(P0, GRADS * 3, 0.1, 0.0, False)
    assert not np.allclose(adaptive[-1], plain[-1])


def test_first_adam_step_is_lr_times_sign():
    updates, _ = optim.adam(0.5).update(fnp.array([3.0, -0.01]),
                                        optim.adam(0.5).init(fnp.zeros(2)))
    np.testing.assert_allclose(updates, [-0.5, 0.5], rtol=1e-5)


# --------------------------------------------------------------------------------------------
# (3) Against torch.optim, step for step
# --------------------------------------------------------------------------------------------

TORCH_CASES = [
    ("SGD", dict(lr=0.1), lambda: optim.sgd(0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.01),
     lambda: optim.sgd(0.1, momentum=0.9, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True),
     lambda: optim.sgd(0.05, momentum=0.8, nesterov=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1), lambda: optim.adam(0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6, amsgrad=True),
     lambda: optim.adam(0.01, b1=0.8, b2=0.95, eps=1e-6, amsgrad=True)),
    ("AdamW", dict(lr=0.01), lambda: optim.adamw(0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3), lambda: optim.adamw(0.01, weight_decay=0.3)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1), lambda: optim.radam(0.01, weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, betas=(0.9, 0.9)), lambda: optim.radam(0.01, b2=0.9)),
    ("RMSprop", dict(lr=0.01), lambda: optim.rmsprop(0.01)),
    ("RMSprop", dict(lr=0.01, centered=True, weight_decay=0.1),
     lambda: optim.rmsprop(0.01, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.9, centered=True),
     lambda: optim.rmsprop(0.01, decay=0.9, momentum=0.9, centered=True)),
    ("Adagrad", dict(lr=0.1), lambda: optim.adagrad(0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.1, weight_decay=0.1),
     lambda: optim.adagrad(0.1, lr_decay=0.05, initial_accumulator_value=0.1,
                           weight_decay=0.1)),
    ("Adamax", dict(lr=0.01, weight_decay=0.1), lambda: optim.adamax(0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01), lambda: optim.nadam(0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01),
     lambda: optim.nadam(0.01, weight_decay=0.1, momentum_decay=0.01)),
    ("Adadelta", dict(lr=1.0), lambda: optim.adadelta(1.0)),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1),
     lambda: optim.adadelta(0.5, rho=0.8, weight_decay=0.1)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls,kwargs,make", TORCH_CASES,
                         ids=[f"{c}-{'-'.join(k for k in kw if k != 'lr') or 'default'}"
                              for c, kw, _ in TORCH_CASES])
def test_against_torch(cls, kwargs, make, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    params = random_tree(rng, dtype)
    grads_seq = [random_tree(rng, dtype) for _ in range(10)]
    names = sorted(params)
    tparams = {k: torch.tensor(params[k].copy(), requires_grad=True) for k in names}
    topt = getattr(torch.optim, cls)([tparams[k] for k in names], foreach=False, **kwargs)
    ours, _ = run_steps(make(), params, grads_seq)
    rtol, atol = (1e-5, 1e-6) if dtype == np.float32 else (1e-11, 1e-13)
    for step, (grads, got) in enumerate(zip(grads_seq, ours)):
        for k in names:
            tparams[k].grad = torch.tensor(grads[k])
        topt.step()
        for k in names:
            assert got[k].dtype == dtype
            np.testing.assert_allclose(got[k], tparams[k].detach().numpy(), rtol=rtol, atol=atol,
                                       err_msg=f"{cls} {kwargs} step {step + 1} leaf {k}")


def test_sgd_with_exponential_decay_matches_torch_scheduler():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    p = rng.normal(size=4)
    grads_seq = [rng.normal(size=4) for _ in range(8)]
    tp = torch.tensor(p.copy(), requires_grad=True)
    topt = torch.optim.SGD([tp], lr=0.1, momentum=0.9)
    sched = torch.optim.lr_scheduler.ExponentialLR(topt, gamma=0.7)
    ours, _ = run_steps(optim.sgd(optim.exponential_decay(0.1, 1, 0.7), momentum=0.9), p,
                        grads_seq)
    for g, got in zip(grads_seq, ours):
        tp.grad = torch.tensor(g)
        topt.step()
        sched.step()
        # The schedule's value is float32, PyTorch's a double: float32 accuracy.
        np.testing.assert_allclose(got, tp.detach().numpy(), rtol=1e-6)


def test_clip_by_global_norm_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    grads = random_tree(rng, np.float32)
    tgrads = [torch.zeros(grads[k].shape, requires_grad=True) for k in sorted(grads)]
    for k, t in zip(sorted(grads), tgrads):
        t.grad = torch.tensor(grads[k])
    torch.nn.utils.clip_grad_norm_(tgrads, max_norm=0.5)
    ours, _ = optim.clip_by_global_norm(0.5).update(grads, optim.EmptyState())
    for k, t in zip(sorted(grads), tgrads):
        np.testing.assert_allclose(ours[k], t.grad.numpy(), rtol=1e-6)


def test_one_cycle_matches_torch():
    torch = pytest.importorskip("torch")
    p = torch.zeros(1, requires_grad=True)
    topt = torch.optim.SGD([p], lr=1.0)
    total = 50
    sched = torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.3, total_steps=total,
                                                pct_start=0.25, cycle_momentum=False)
    ours = optim.one_cycle(total, 0.3, pct_start=0.25)
    for step in range(total):
        np.testing.assert_allclose(float(ours(step)), topt.param_groups[0]["lr"], rtol=1e-5,
                                   atol=1e-9, err_msg=f"step {step}")
        topt.step()
        sched.step()


# --------------------------------------------------------------------------------------------
# States: dtypes, jit, checkpoints
# --------------------------------------------------------------------------------------------

ALL_OPTIMIZERS = [
    ("sgd", lambda: optim.sgd(0.1)),
    ("sgd_momentum", lambda: optim.sgd(0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("adam", lambda: optim.adam(0.1, weight_decay=0.1)),
    ("adam_amsgrad", lambda: optim.adam(0.1, amsgrad=True)),
    ("adamw", lambda: optim.adamw(optim.linear_schedule(0.1, 0.01, 5))),
    ("radam", lambda: optim.radam(0.1)),
    ("nadam", lambda: optim.nadam(0.1)),
    ("rmsprop", lambda: optim.rmsprop(0.1, centered=True, momentum=0.9)),
    ("adagrad", lambda: optim.adagrad(0.1, lr_decay=0.1)),
    ("adadelta", lambda: optim.adadelta()),
    ("adamax", lambda: optim.adamax(0.1)),
    ("lamb", lambda: optim.lamb(0.1, weight_decay=0.1)),
    ("lion", lambda: optim.lion(0.1)),
]
OPT_IDS = [row[0] for row in ALL_OPTIMIZERS]


def _signature(state):
    return tree.structure(state), [(np.shape(x), np.asarray(x).dtype) for x in tree.leaves(state)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,make", ALL_OPTIMIZERS, ids=OPT_IDS)
def test_state_keeps_its_structure_and_dtypes(name, make, dtype):
    opt = make()
    params = random_tree(np.random.default_rng(3), dtype)
    state = opt.init(params)
    before = _signature(state)
    updates, new_state = opt.update(params, state, params)
    assert _signature(new_state) == before
    assert all(updates[k].dtype == dtype for k in updates)
    counts = [x for x in tree.leaves(new_state) if np.asarray(x).dtype.kind == "i"]
    assert all(int(c) == 1 for c in counts)
    for x in tree.leaves(new_state):  # every per-parameter state array has their dtype
        if np.shape(x) in ((3, 4), (5,)):
            assert np.asarray(x).dtype == dtype


@pytest.mark.parametrize("name,make", ALL_OPTIMIZERS, ids=OPT_IDS)
def test_jit_matches_eager(name, make):
    opt = make()
    params = random_tree(np.random.default_rng(4), np.float32)
    grads_seq = [random_tree(np.random.default_rng(5 + i), np.float32) for i in range(3)]
    update = fg.jit(opt.update)
    s_eager = s_jit = opt.init(params)
    for g in grads_seq:
        u_eager, s_eager = opt.update(g, s_eager, params)
        u_jit, s_jit = update(g, s_jit, params)
        for a, b in zip(tree.leaves((u_eager, s_eager)), tree.leaves((u_jit, s_jit))):
            np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64),
                                       rtol=1e-6, atol=1e-7)


def test_state_checkpoint_round_trip():
    opt = optim.adamw(0.1)
    params = random_tree(np.random.default_rng(6), np.float32)
    grads = random_tree(np.random.default_rng(7), np.float32)
    _, state = run_steps(opt, params, [grads] * 3)
    path = os.path.join(tempfile.mkdtemp(), "opt.npz")
    checkpoint.save(path, state)
    restored = tree.unflatten(tree.structure(state), tree.leaves(checkpoint.load(path)))
    u1, s1 = opt.update(grads, state, params)
    u2, s2 = opt.update(grads, restored, params)
    for a, b in zip(tree.leaves((u1, s1)), tree.leaves((u2, s2))):
        np.testing.assert_array_equal(a, b)
    assert int(s2[0].count) == 4


def test_apply_updates_keeps_param_dtype():
    params = {"h": np.ones(2, np.float16), "d": np.ones(2, np.float64)}
    out = optim.apply_updates(params, {"h": np.full(2, 0.25, np.float32),
                                       "d": np.full(2, 0.25, np.float32)})
    assert out["h"].dtype == np.float16 and out["d"].dtype == np.float64
    np.testing.assert_array_equal(out["d"], [1.25, 1.25])


def test_optimizers_differentiate_through_an_update():
    # meta-gradient of the loss after one Adam step with respect to the initial parameter
    opt = optim.sgd(0.1, momentum=0.9)

    def after_one_step(w):
        g = fg.grad(lambda v: fnp.sum(v ** 2))(w)
        updates, _ = opt.update(g, opt.init(w), w)
        return fnp.sum(optim.apply_updates(w, updates) ** 2)

    w = fnp.array([1.0, -2.0], dtype=fnp.float64)
    # w1 = w - 0.1 * 2w = 0.8 w, so d/dw sum(w1**2) = 2 * 0.64 w
    np.testing.assert_allclose(fg.grad(after_one_step)(w), 1.28 * np.array([1.0, -2.0]))


# --------------------------------------------------------------------------------------------
# (4) Schedules
# --------------------------------------------------------------------------------------------

SCHEDULE_VALUES = [
    (optim.constant_schedule(0.3), {0: 0.3, 10 ** 6: 0.3}),
    (optim.linear_schedule(1.0, 0.0, 10, transition_begin=5),
     {0: 1.0, 5: 1.0, 10: 0.5, 15: 0.0, 100: 0.0}),
    (optim.linear_schedule(1.0, 3.0, 0, transition_begin=2), {0: 1.0, 1: 1.0, 2: 3.0, 9: 3.0}),
    (optim.polynomial_schedule(2.0, 0.0, power=2, transition_steps=10), {5: 0.5, 10: 0.0}),
    (optim.exponential_decay(2.0, 10, 0.5), {0: 2.0, 5: 2.0 * 0.5 ** 0.5, 10: 1.0, 30: 0.25}),
    (optim.exponential_decay(2.0, 10, 0.5, staircase=True), {9: 2.0, 10: 1.0, 19: 1.0}),
    (optim.exponential_decay(2.0, 10, 0.5, transition_begin=5, end_value=0.6),
     {3: 2.0, 15: 1.0, 100: 0.6}),
    (optim.cosine_decay_schedule(1.0, 100), {0: 1.0, 25: 0.5 * (1 + math.cos(math.pi / 4)),
                                             50: 0.5, 100: 0.0, 200: 0.0}),
    (optim.cosine_decay_schedule(2.0, 100, alpha=0.1, exponent=2.0),
     {50: 2.0 * (0.9 * 0.25 + 0.1), 100: 0.2}),
    (optim.warmup_cosine_decay_schedule(0.0, 1.0, 10, 110, end_value=0.1),
     {0: 0.0, 5: 0.5, 10: 1.0, 60: 0.55, 110: 0.1, 500: 0.1}),
    (optim.warmup_cosine_decay_schedule(0.0, 1.0, 0, 10), {0: 1.0, 5: 0.5, 10: 0.0}),
    (optim.piecewise_constant_schedule(1.0, {6: 0.2, 3: 0.5}),
     {0: 1.0, 2: 1.0, 3: 0.5, 5: 0.5, 6: 0.1, 50: 0.1}),
    (optim.join_schedules([optim.constant_schedule(1.0), optim.linear_schedule(2.0, 0.0, 4),
                           optim.constant_schedule(7.0)], [3, 5]),
     {0: 1.0, 2: 1.0, 3: 2.0, 4: 1.5, 5: 7.0, 9: 7.0}),
    (optim.cosine_onecycle_schedule(100, 1.0), {0: 0.04, 15: 0.52, 30: 1.0, 65: 0.5 + 2e-6,
                                                100: 4e-6, 150: 4e-6}),
    (optim.one_cycle(101, 1.0, pct_start=0.5, div_factor=10.0, final_div_factor=100.0),
     {0: 0.1, 49.5 / 2: 0.55, 49.5: 1.0, 100: 0.001, 500: 0.001}),
]


@pytest.mark.parametrize("schedule,values", SCHEDULE_VALUES)
def test_schedule_values(schedule, values):
    for step, expected in values.items():
        got = schedule(step) if isinstance(step, int) else schedule(fnp.asarray(step))
        assert np.asarray(got).dtype == np.float32
        np.testing.assert_allclose(float(got), expected, rtol=1e-5, atol=1e-7,
                                   err_msg=f"step {step}")


@pytest.mark.parametrize("schedule,values", SCHEDULE_VALUES)
def test_schedule_on_arrays_jit_and_vmap(schedule, values):
    steps = np.array([s for s in values if isinstance(s, int)], np.int32)
    expected = np.array([float(schedule(int(s))) for s in steps])
    np.testing.assert_allclose(schedule(steps), expected, rtol=1e-6)
    np.testing.assert_allclose(fg.jit(schedule)(steps), expected, rtol=1e-6)
    np.testing.assert_allclose(fg.vmap(schedule)(steps), expected, rtol=1e-6)


@given(st.floats(0.0, 10.0), st.floats(0.0, 10.0), st.integers(1, 1000),
       st.lists(st.integers(0, 3000), min_size=2, max_size=6))
def test_decaying_schedules_are_bounded_and_monotone(init, end, steps, ts):
    ts = sorted(ts)
    tol = 1e-5 * (1 + max(init, end))

    def values(schedule):
        return np.array([float(schedule(t)) for t in ts])

    lo, hi = min(init, end), max(init, end)
    linear = values(optim.linear_schedule(init, end, steps))
    assert np.all(linear >= lo - tol) and np.all(linear <= hi + tol)
    assert np.all(np.diff(linear) * np.sign(end - init) >= -tol)  # monotone towards end
    cosine = values(optim.cosine_decay_schedule(init, steps))
    assert np.all(cosine >= -tol) and np.all(cosine <= init + tol)
    assert np.all(np.diff(cosine) <= tol)  # non-increasing
    warm = values(optim.warmup_cosine_decay_schedule(end, init, steps // 2, steps + 1,
                                                     end_value=end))
    assert np.all(warm >= lo - tol) and np.all(warm <= hi + tol)


def test_optimizer_follows_its_schedule():
    opt = optim.sgd(optim.piecewise_constant_schedule(1.0, {2: 0.1}))
    state = opt.init(fnp.zeros(1))
    steps = []
    for _ in range(4):
        u, state = opt.update(fnp.ones(1), state)
        steps.append(float(u[0]))
    np.testing.assert_allclose(steps, [-1.0, -1.0, -0.1, -0.1], rtol=1e-6)


# --------------------------------------------------------------------------------------------
# (5) Combinators
# --------------------------------------------------------------------------------------------


def test_chain_order_matters():
    g = fnp.array([3.0])
    clip_then_scale = optim.chain(optim.clip(1.0), optim.scale(2.0))
    scale_then_clip = optim.chain(optim.scale(2.0), optim.clip(1.0))
    assert float(clip_then_scale.update(g, clip_then_scale.init(g))[0][0]) == 2.0
    assert float(scale_then_clip.update(g, scale_then_clip.init(g))[0][0]) == 1.0


@pytest.mark.parametrize("callable_mask", [False, True])
def test_masked_applies_inner_only_where_true(callable_mask):
    rng = np.random.default_rng(8)
    params = random_tree(rng)
    grads_seq = [random_tree(rng) for _ in range(3)]
    mask = {"w": True, "b": False}
    opt = optim.masked(optim.adam(0.1), (lambda p: mask) if callable_mask else mask)
    state = opt.init(params)
    assert [np.shape(x) for x in tree.leaves(state)] == [(), (3, 4), (3, 4)]
    alone, _ = run_steps(optim.adam(0.1), params["w"], [g["w"] for g in grads_seq])
    for g, w in zip(grads_seq, alone):
        updates, state = opt.update(g, state, params)
        np.testing.assert_array_equal(updates["b"], g["b"])  # passed through unchanged
        params = optim.apply_updates(params, updates)
        np.testing.assert_allclose(params["w"], w, rtol=1e-12)


def test_adamw_mask_excludes_leaves_from_decay():
    params = {"w": fnp.ones(2), "b": fnp.ones(2)}
    zero = {"w": fnp.zeros(2), "b": fnp.zeros(2)}
    opt = optim.adamw(0.1, weight_decay=0.5, mask={"w": True, "b": False})
    updates, _ = opt.update(zero, opt.init(params), params)
    np.testing.assert_allclose(updates["w"], [-0.05, -0.05], rtol=1e-6)
    np.testing.assert_array_equal(updates["b"], [0.0, 0.0])


def test_partition_runs_each_group_with_its_optimizer():
    rng = np.random.default_rng(9)
    params = random_tree(rng)
    grads_seq = [random_tree(rng) for _ in range(3)]
    opt = optim.partition({"fast": optim.adam(0.1), "slow": optim.sgd(0.01, momentum=0.9)},
                          lambda p: {"w": "fast", "b": "slow"})
    got, state = run_steps(opt, params, grads_seq)
    w_alone, _ = run_steps(optim.adam(0.1), params["w"], [g["w"] for g in grads_seq])
    b_alone, _ = run_steps(optim.sgd(0.01, momentum=0.9), params["b"],
                           [g["b"] for g in grads_seq])
    np.testing.assert_allclose(got[-1]["w"], w_alone[-1], rtol=1e-12)
    np.testing.assert_allclose(got[-1]["b"], b_alone[-1], rtol=1e-12)
    assert set(state.inner_states) == {"fast", "slow"}
    assert optim.multi_transform is optim.partition


def test_multi_steps_accumulates_k_then_applies_the_mean():
    k = 3
    rng = np.random.default_rng(10)
    params = random_tree(rng)
    grads_seq = [random_tree(rng) for _ in range(2 * k)]
    inner = optim.adam(0.1)
    opt = optim.MultiSteps(inner, every_k_schedule=k)
    state = opt.init(params)
    inner_state = inner.init(params)
    for i, g in enumerate(grads_seq):
        updates, state = opt.update(g, state, params)
        if (i + 1) % k:
            assert all(np.all(u == 0) for u in tree.leaves(updates))
            assert not bool(opt.has_updated(state))
        else:
            window = grads_seq[i + 1 - k:i + 1]
            mean = tree.map(lambda *gs: sum(gs) / k, *window)
            expected, inner_state = inner.update(mean, inner_state, params)
            for a, b in zip(tree.leaves(updates), tree.leaves(expected)):
                np.testing.assert_allclose(a, b, rtol=1e-9)
            assert bool(opt.has_updated(state))
            assert int(state.mini_step) == 0
    assert int(state.gradient_step) == 2
    assert int(state.inner_opt_state[0].count) == 2
    gt = opt.gradient_transformation()
    assert isinstance(gt, optim.GradientTransformation)


def test_multi_steps_with_schedule_and_jit():
    opt = optim.MultiSteps(optim.sgd(1.0), every_k_schedule=lambda step: fnp.where(step < 1, 1, 2))
    update = fg.jit(opt.update)
    state = opt.init(fnp.zeros(1))
    outs = []
    for g in (1.0, 2.0, 4.0, 6.0, 8.0):
        u, state = update(fnp.array([g]), state)
        outs.append(float(u[0]))
    assert outs == [-1.0, 0.0, -3.0, 0.0, -7.0]


def test_apply_if_finite_skips_non_finite_updates():
    inner = optim.sgd(0.1, momentum=0.9)
    opt = optim.apply_if_finite(inner, max_consecutive_errors=2)
    params = fnp.zeros(2)
    state = opt.init(params)
    u, state = opt.update(fnp.array([1.0, 1.0]), state)
    buf = np.asarray(state.inner_state[0].trace).copy()
    for bad in ([np.nan, 1.0], [1.0, np.inf]):
        u, state = opt.update(fnp.array(bad), state)
        np.testing.assert_array_equal(u, [0.0, 0.0])
        np.testing.assert_array_equal(state.inner_state[0].trace, buf)  # inner state kept
        assert not bool(state.last_finite)
    assert int(state.notfinite_count) == 2 and int(state.total_notfinite) == 2
    # a third consecutive failure exceeds max_consecutive_errors: applied (and visible)
    u, state = opt.update(fnp.array([np.nan, 0.0]), state)
    assert np.isnan(u[0])
    u, state = opt.update(fnp.array([1.0, 1.0]), state)
    assert bool(state.last_finite) and int(state.notfinite_count) == 0
    assert int(state.total_notfinite) == 3


def test_apply_if_finite_resets_after_a_finite_update():
    opt = optim.apply_if_finite(optim.adam(0.1), max_consecutive_errors=1)
    state = opt.init(fnp.zeros(1))
    for g in (np.nan, 1.0, np.nan, 1.0):
        u, state = opt.update(fnp.array([g]), state)
        assert np.all(np.isfinite(u))
    assert int(state.inner_state[0].count) == 2  # Adam saw only the two finite gradients


def test_inject_hyperparams_learning_rate_is_readable_and_replaceable():
    opt = optim.inject_hyperparams(optim.adam)(learning_rate=0.1, b1=0.8)
    plain = optim.adam(0.1, b1=0.8)
    params = random_tree(np.random.default_rng(11), np.float32)
    grads = random_tree(np.random.default_rng(12), np.float32)
    state, plain_state = opt.init(params), plain.init(params)
    assert set(state.hyperparams) == {"learning_rate", "b1"}  # only explicit arguments
    np.testing.assert_allclose(state.hyperparams["learning_rate"], 0.1)
    u, state = opt.update(grads, state, params)
    pu, plain_state = plain.update(grads, plain_state, params)
    for a, b in zip(tree.leaves(u), tree.leaves(pu)):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    state = state._replace(hyperparams={**state.hyperparams,
                                        "learning_rate": fnp.asarray(0.01)})
    u, state = opt.update(grads, state, params)
    pu, _ = plain.update(grads, plain_state, params)
    for a, b in zip(tree.leaves(u), tree.leaves(pu)):
        np.testing.assert_allclose(a, 0.1 * b, rtol=1e-5)
    np.testing.assert_allclose(state.hyperparams["learning_rate"], 0.01)


def test_inject_hyperparams_with_schedule_and_jit():
    schedule = optim.linear_schedule(1.0, 0.0, 4)
    opt = optim.inject_hyperparams(optim.sgd)(learning_rate=schedule, momentum=0.0)
    update = fg.jit(opt.update)
    state = opt.init(fnp.zeros(1))
    lrs, steps = [], []
    for _ in range(5):
        lrs.append(float(state.hyperparams["learning_rate"]))
        u, state = update(fnp.ones(1), state)
        steps.append(float(u[0]))
    np.testing.assert_allclose(lrs, [1.0, 1.0, 0.75, 0.5, 0.25])  # value of the last update
    np.testing.assert_allclose(steps, [-1.0, -0.75, -0.5, -0.25, 0.0], atol=1e-7)


def test_clip_by_global_norm_properties():
    rng = np.random.default_rng(13)
    grads = random_tree(rng, np.float32)
    norm = float(optim.global_norm(grads))
    np.testing.assert_allclose(norm, np.sqrt(sum(np.sum(x ** 2) for x in tree.leaves(grads))),
                               rtol=1e-6)
    clipped, _ = optim.clip_by_global_norm(norm / 4).update(grads, optim.EmptyState())
    np.testing.assert_allclose(float(optim.global_norm(clipped)), norm / 4, rtol=1e-5)
    for k in grads:  # same direction
        np.testing.assert_allclose(clipped[k], grads[k] / 4, rtol=1e-5)
    unclipped, _ = optim.clip_by_global_norm(2 * norm).update(grads, optim.EmptyState())
    for k in grads:
        np.testing.assert_allclose(unclipped[k], grads[k], rtol=1e-6)


def test_trust_ratio_is_one_for_zero_norms():
    opt = optim.scale_by_trust_ratio()
    params = {"zero": fnp.zeros(2), "p": fnp.array([3.0, 4.0])}
    updates = {"zero": fnp.array([1.0, 1.0]), "p": fnp.array([0.0, 2.0])}
    out, _ = opt.update(updates, opt.init(params), params)
    np.testing.assert_array_equal(out["zero"], [1.0, 1.0])
    np.testing.assert_allclose(out["p"], [0.0, 5.0])


# --------------------------------------------------------------------------------------------
# (6) Bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,make", ALL_OPTIMIZERS, ids=OPT_IDS)
def test_mismatched_grads_tree_names_both_structures(name, make):
    opt = make()
    params = {"w": fnp.ones(2), "b": fnp.ones(1)}
    state = opt.init(params)
    with pytest.raises(ValueError, match="tree structure") as info:
        opt.update({"w": fnp.ones(2)}, state, params)
    message = str(info.value)
    assert "{'w': *}" in message and "{'b': *, 'w': *}" in message


def test_apply_updates_structure_mismatch():
    with pytest.raises(ValueError, match=r"apply_updates.*\{'a': \*\}.*\{'a': \*, 'b': \*\}"):
        optim.apply_updates({"a": fnp.ones(1), "b": fnp.ones(1)}, {"a": fnp.ones(1)})


def _nan_at_zero(step):
    return fnp.where(step == 0, fnp.nan, 0.1)


@pytest.mark.parametrize("build", [
    lambda: optim.sgd(_nan_at_zero),
    lambda: optim.adam(_nan_at_zero),
    lambda: optim.scale_by_schedule(_nan_at_zero),
    lambda: optim.inject_hyperparams(optim.adam)(learning_rate=_nan_at_zero),
    lambda: optim.adam(optim.linear_schedule(float("nan"), 0.0, 10)),
])
def test_nan_schedule_is_rejected_when_the_optimizer_is_built(build):
    with pytest.raises(ValueError, match="step 0"):
        build()


@pytest.mark.parametrize("build,match", [
    (lambda: optim.adam(-0.1), "learning_rate"),
    (lambda: optim.adam(0.1, b1=1.0), "b1"),
    (lambda: optim.rmsprop(0.1, decay=1.5), "decay"),
    (lambda: optim.adagrad(0.1, eps=-1.0), "eps"),
    (lambda: optim.sgd(0.1, nesterov=True), "nesterov"),
    (lambda: optim.sgd(0.1, momentum=-0.5), "decay"),
    (lambda: optim.MultiSteps(optim.sgd(0.1), every_k_schedule=0), "every_k"),
    (lambda: optim.apply_if_finite(optim.sgd(0.1), -1), "max_consecutive_errors"),
    (lambda: optim.join_schedules([optim.constant_schedule(1.0)] * 2, [1, 2]), "boundaries"),
    (lambda: optim.join_schedules([optim.constant_schedule(1.0)] * 3, [5, 2]), "increasing"),
    (lambda: optim.exponential_decay(1.0, 0, 0.5), "transition_steps"),
    (lambda: optim.cosine_decay_schedule(1.0, 0), "decay_steps"),
    (lambda: optim.warmup_cosine_decay_schedule(0.0, 1.0, 10, 10), "warmup_steps"),
    (lambda: optim.piecewise_constant_schedule(1.0, {3: -0.5}), "scales"),
    (lambda: optim.one_cycle(10, 1.0, pct_start=1.5), "pct_start"),
])
def test_bad_hyperparameters(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_weight_decay_needs_params():
    opt = optim.adamw(0.1)
    state = opt.init(fnp.ones(2))
    with pytest.raises(ValueError, match="needs the parameters"):
        opt.update(fnp.ones(2), state)


def test_partition_missing_label():
    opt = optim.partition({"a": optim.sgd(0.1)}, {"w": "a", "b": "oops"})
    with pytest.raises(ValueError, match="oops"):
        opt.init({"w": fnp.ones(1), "b": fnp.ones(1)})


def test_mask_must_be_bools_and_match():
    params = {"w": fnp.ones(1), "b": fnp.ones(1)}
    with pytest.raises(ValueError, match="bools"):
        optim.masked(optim.sgd(0.1), {"w": 1.0, "b": 0.0}).init(params)
    with pytest.raises(ValueError, match="prefix"):
        optim.masked(optim.sgd(0.1), {"w": True}).init(params)


def test_chain_rejects_non_transformations():
    with pytest.raises(TypeError, match="argument 1"):
        optim.chain(optim.sgd(0.1), lambda g: g)
