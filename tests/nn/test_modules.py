"""funcgrad_nn.modules: every module against torch.nn with the same weights (forward and
gradients, float32), PyTorch state_dict layouts and default initialisation, vmap over
unbatched inputs, jit, second-order gradients, the Module pattern (children, keys, state,
train flag) and error messages."""

from __future__ import annotations

import math

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads
from funcgrad_nn import functional as F
from funcgrad_nn import modules as nn
from funcgrad_nn.state_dict import from_state_dict, to_state_dict

RTOL = 1e-5


def rng(seed=0):
    return np.random.default_rng(seed)


def randn(*shape, seed=0):
    return rng(seed).standard_normal(shape).astype(np.float32)


def assert_close(got, want, rtol=RTOL, what="", scale=None):
    """Relative 1e-5, with the absolute floor scaled by the reference's magnitude (float32
    sums in a different order differ by that much near zero); ``scale`` overrides that
    magnitude (for gradients that are zero up to rounding)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} vs {want.shape}"
    if scale is None:
        scale = float(np.max(np.abs(want))) if want.size else 0.0
    scale = max(scale, 1e-30)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale, err_msg=what)


def to64(tree):
    return fg.tree.map(lambda a: np.asarray(a, np.float64) if np.asarray(a).dtype.kind == "f"
                       else np.asarray(a), tree)


# ---------------------------------------------------------------------------------------
# Against torch.nn
# ---------------------------------------------------------------------------------------


def _torch_pair(spec):
    """(funcgrad module, torch module) with the same constructor arguments."""
    torch = pytest.importorskip("torch")
    name, args, kwargs = spec
    torch.manual_seed(0)
    tm = getattr(torch.nn, name)(*args, **kwargs)
    fm = getattr(nn, name)(*args, **kwargs)
    return fm, tm


def _torch_sd(tm):
    return {k: v.detach().numpy().copy() for k, v in tm.state_dict().items()}


def _compare(fm, tm, inputs, *, train=False, out_index=None, call_kw=None):
    """Forward and gradients (w.r.t. inputs that are float, and every parameter) of
    ``sum(out * R)``, funcgrad vs torch."""
    import torch

    call_kw = call_kw or {}
    params, state = fm.load_state_dict(_torch_sd(tm))
    tm.train(train)
    tin = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
    tout = tm(*tin, **call_kw)
    tsel = tout[out_index] if out_index is not None else tout
    r = randn(*tsel.shape, seed=7)
    loss = (tsel * torch.tensor(r)).sum()
    tparams = dict(tm.named_parameters())
    diff_in = [i for i, a in enumerate(inputs) if a.dtype.kind == "f"]
    tgrads = torch.autograd.grad(loss, [tin[i] for i in diff_in] + list(tparams.values()))

    def f(p, *xs):
        full = list(inputs)
        for i, x in zip(diff_in, xs):
            full[i] = x
        kw = dict(call_kw)
        if state:
            out, _ = fm(p, *full, state=state, train=train, **kw)
        else:
            out = fm(p, *full, train=train, **kw)
        sel = out[out_index] if out_index is not None else out
        return fnp.sum(sel * r), sel

    (_, out), g = fg.value_and_grad(f, argnums=tuple(range(1 + len(diff_in))), has_aux=True)(
        params, *[inputs[i] for i in diff_in])
    assert_close(out, tsel.detach().numpy(), what="forward")
    gscale = max([float(t.abs().max()) for t in tgrads if t.numel()] + [0.0])
    for i, gi in zip(diff_in, g[1:]):
        assert_close(gi, tgrads[diff_in.index(i)].numpy(), what=f"grad input {i}")
    flat_g = to_state_dict(g[0])
    for k, tg in zip(tparams, tgrads[len(diff_in):]):
        t = tg.numpy()
        assert_close(flat_g[k], t, what=f"grad {k}",
                     scale=max(float(np.max(np.abs(t))), 0.1 * gscale))
    return params, state


def _x(*shape, seed=1):
    return randn(*shape, seed=seed)


SIMPLE = [
    (("Linear", (5, 3), {}), [(4, 5)]),
    (("Linear", (5, 3), {"bias": False}), [(2, 7, 5)]),
    (("Conv1d", (3, 4, 3), {"stride": 2, "padding": 1}), [(2, 3, 11)]),
    (("Conv1d", (4, 6, 3), {"groups": 2, "dilation": 2, "padding": "same"}), [(2, 4, 9)]),
    (("Conv2d", (3, 5, 3), {"padding": 1}), [(2, 3, 7, 6)]),
    (("Conv2d", (4, 6, (3, 2)), {"stride": (2, 1), "dilation": (1, 2), "groups": 2}),
     [(2, 4, 9, 8)]),
    (("Conv2d", (2, 3, 5), {}), [(2, 9, 9)]),  # unbatched
    (("ConvTranspose2d", (4, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
     [(2, 4, 5, 4)]),
    (("ConvTranspose2d", (4, 6, 2), {"stride": 3, "groups": 2, "dilation": 2}), [(1, 4, 3, 3)]),
    (("ConvTranspose1d", (3, 2, 3), {"stride": 2}), [(2, 3, 5)]),
    (("MaxPool1d", (3,), {"stride": 2, "padding": 1}), [(2, 3, 10)]),
    (("MaxPool2d", (2,), {}), [(2, 3, 8, 6)]),
    (("MaxPool2d", (3,), {"stride": 1, "padding": 1, "dilation": 1}), [(2, 2, 5, 5)]),
    (("MaxPool2d", ((2, 3),), {"stride": (1, 2), "dilation": 2}), [(1, 2, 7, 9)]),
    (("AvgPool1d", (4,), {"stride": 2, "padding": 2}), [(2, 3, 9)]),
    (("AvgPool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}),
     [(2, 3, 7, 8)]),
    (("AvgPool2d", (2,), {"divisor_override": 3}), [(2, 3, 6, 6)]),
    (("AdaptiveAvgPool2d", ((3, 2),), {}), [(2, 3, 7, 5)]),
    (("AdaptiveAvgPool2d", (2,), {}), [(2, 3, 8, 6)]),
    (("LayerNorm", ((4, 5),), {}), [(3, 4, 5)]),
    (("LayerNorm", (6,), {"elementwise_affine": False}), [(2, 3, 6)]),
    (("GroupNorm", (2, 6), {}), [(3, 6, 4, 2)]),
    (("Flatten", (), {}), [(2, 3, 4)]),
    (("Flatten", (0, 1), {}), [(2, 3, 4)]),
    (("Identity", (), {}), [(2, 3)]),
    (("ReLU", (), {}), [(3, 5)]),
    (("LeakyReLU", (0.2,), {}), [(3, 5)]),
    (("Sigmoid", (), {}), [(3, 5)]),
    (("Tanh", (), {}), [(3, 5)]),
    (("Softplus", (), {}), [(3, 5)]),
    (("Softplus", (), {"beta": 2.0}), [(3, 5)]),
    (("GELU", (), {}), [(3, 5)]),
    (("GELU", (), {"approximate": "tanh"}), [(3, 5)]),
    (("ELU", (0.7,), {}), [(3, 5)]),
    (("SiLU", (), {}), [(3, 5)]),
    (("Softmax", (), {"dim": 1}), [(3, 5)]),
    (("LogSoftmax", (), {"dim": -1}), [(2, 3, 5)]),
    (("Dropout", (0.5,), {}), [(3, 5)]),  # evaluation mode: identity
]


@pytest.mark.parametrize("spec,shapes", SIMPLE,
                         ids=[f"{s[0]}-{i}" for i, (s, _) in enumerate(SIMPLE)])
def test_matches_torch(spec, shapes):
    fm, tm = _torch_pair(spec)
    _compare(fm, tm, [_x(*s, seed=i + 1) for i, s in enumerate(shapes)])


@pytest.mark.parametrize("cls", ["BatchNorm1d", "BatchNorm2d"])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_matches_torch_train_and_eval(cls, momentum):
    torch = pytest.importorskip("torch")
    fm, tm = _torch_pair((cls, (3,), {"momentum": momentum}))
    shape = (6, 3, 4) if cls == "BatchNorm1d" else (4, 3, 3, 2)
    params, state = fm.load_state_dict(_torch_sd(tm))
    for step in range(3):  # training steps update the running statistics as PyTorch
        x = _x(*shape, seed=step)
        _compare(fm, tm, [x], train=True)  # runs one torch training step, too
        _, state = fm(params, x, state=state, train=True)
        for k, v in tm.state_dict().items():
            if k in state:
                assert_close(state[k], v.numpy(), what=k)
    assert int(state["num_batches_tracked"]) == 3
    tm.eval()
    x = _x(*shape, seed=9)
    y, st2 = fm(params, x, state=state)
    assert_close(y, tm(torch.tensor(x)).detach().numpy(), what="eval forward")
    assert int(st2["num_batches_tracked"]) == 3  # evaluation leaves the state alone


def test_batchnorm_without_running_stats_and_bn1d_2d_input():
    fm, tm = _torch_pair(("BatchNorm1d", (4,), {"track_running_stats": False,
                                                 "affine": False}))
    _compare(fm, tm, [_x(5, 4)], train=True)
    assert fm.init_state() == {}


RNNS = [
    ("RNN", (3, 5), {}),
    ("RNN", (3, 4), {"num_layers": 2, "nonlinearity": "relu", "batch_first": True}),
    ("GRU", (3, 5), {}),
    ("GRU", (3, 4), {"num_layers": 2, "bidirectional": True, "batch_first": True}),
    ("LSTM", (3, 5), {"bias": False}),
    ("LSTM", (4, 3), {"num_layers": 2, "bidirectional": True, "dropout": 0.3}),
]


@pytest.mark.parametrize("spec", RNNS, ids=[f"{s[0]}-{i}" for i, s in enumerate(RNNS)])
def test_rnns_match_torch(spec):
    torch = pytest.importorskip("torch")
    fm, tm = _torch_pair(spec)
    bf = spec[2].get("batch_first", False)
    n, length = 2, 6
    x = _x(n, length, spec[1][0]) if bf else _x(length, n, spec[1][0])
    dirs = 2 if spec[2].get("bidirectional") else 1
    hshape = (spec[2].get("num_layers", 1) * dirs, n, spec[1][1])
    # output, and final state, with a zero and with a given initial state
    _compare(fm, tm, [x], out_index=0)
    if spec[0] == "LSTM":
        h0, c0 = _x(*hshape, seed=3), _x(*hshape, seed=4)
        params, _ = fm.load_state_dict(_torch_sd(tm))
        out, (h, c) = fm(params, x, (h0, c0))
        tout, (th, tc) = tm(torch.tensor(x), (torch.tensor(h0), torch.tensor(c0)))
        for a, b in ((out, tout), (h, th), (c, tc)):
            assert_close(a, b.detach().numpy())
        # gradient through the final cell state and the initial state
        g = fg.grad(lambda p, h0: fnp.sum(fm(p, x, (h0, c0))[1][1] ** 2), argnums=(0, 1))(
            params, h0)
        th0 = torch.tensor(h0, requires_grad=True)
        tloss = (tm(torch.tensor(x), (th0, torch.tensor(c0)))[1][1] ** 2).sum()
        tg = torch.autograd.grad(tloss, [th0] + list(tm.parameters()))
        assert_close(g[1], tg[0].numpy())
        for (k, _), t in zip(tm.named_parameters(), tg[1:]):
            assert_close(g[0][k], t.numpy(), what=k)
    else:
        h0 = _x(*hshape, seed=3)
        _compare(fm, tm, [x, h0], out_index=1)


def test_rnn_unbatched_and_vmap():
    torch = pytest.importorskip("torch")
    fm, tm = _torch_pair(("GRU", (3, 4), {"num_layers": 2}))
    params, _ = fm.load_state_dict(_torch_sd(tm))
    x = _x(5, 3)
    out, h = fm(params, x)
    tout, th = tm(torch.tensor(x))
    assert out.shape == (5, 4) and h.shape == (2, 4)
    assert_close(out, tout.detach().numpy())
    assert_close(h, th.detach().numpy())
    xs = _x(7, 5, 3, seed=2)  # 7 unbatched sequences
    vout, vh = fg.vmap(lambda s: fm(params, s))(xs)
    bout, bh = fm(params, np.swapaxes(xs, 0, 1))  # (L, N, H) batched call
    assert_close(vout, np.swapaxes(bout, 0, 1))
    assert_close(vh, np.swapaxes(bh, 0, 1))


def test_rnn_dropout_between_layers_in_training():
    lstm = nn.LSTM(3, 4, num_layers=3, dropout=0.5)
    params = lstm.init(0)
    x = _x(5, 2, 3)
    ev = lstm(params, x)[0]
    k = fg.random.key(1)
    tr1 = lstm(params, x, train=True, key=k)[0]
    tr2 = lstm(params, x, train=True, key=k)[0]
    tr3 = lstm(params, x, train=True, key=fg.random.key(2))[0]
    assert np.array_equal(tr1, tr2) and not np.allclose(tr1, ev) and not np.allclose(tr1, tr3)
    no_drop = nn.LSTM(3, 4, num_layers=3)
    assert_close(no_drop(params, x, train=True)[0], ev)  # dropout 0: training changes nothing
    with pytest.raises(ValueError, match="LSTM.*PRNG key"):
        lstm(params, x, train=True)


MHA = [
    ({"batch_first": True}, {}),
    ({}, {"need_weights": False}),
    ({"bias": False, "batch_first": True}, {"average_attn_weights": False}),
]


@pytest.mark.parametrize("ctor,call", MHA)
def test_multihead_attention_matches_torch(ctor, call):
    torch = pytest.importorskip("torch")
    fm, tm = _torch_pair(("MultiheadAttention", (8, 2), ctor))
    bf = ctor.get("batch_first", False)
    q = _x(2, 5, 8, seed=1) if bf else _x(5, 2, 8, seed=1)
    k = _x(2, 4, 8, seed=2) if bf else _x(4, 2, 8, seed=2)
    v = _x(*k.shape, seed=3)
    _compare(fm, tm, [q, k, v], out_index=0, call_kw=call)
    params, _ = fm.load_state_dict(_torch_sd(tm))
    if call.get("need_weights", True):
        w = fm(params, q, k, v, **call)[1]
        tw = tm(*[torch.tensor(a) for a in (q, k, v)], **call)[1]
        assert_close(w, tw.detach().numpy())
    # self-attention with masks (boolean attention mask, key padding mask)
    am = np.triu(np.ones((5, 5), bool), 1)
    kpm = np.zeros((2, 5), bool)
    kpm[1, 3:] = True
    out = fm(params, q, q, q, attn_mask=am, key_padding_mask=kpm)[0]
    tq = torch.tensor(q)
    tout = tm(tq, tq, tq, attn_mask=torch.tensor(am), key_padding_mask=torch.tensor(kpm))[0]
    assert_close(out, tout.detach().numpy())


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_encoder_layer_matches_torch(norm_first):
    torch = pytest.importorskip("torch")
    kw = {"dim_feedforward": 16, "batch_first": True, "norm_first": norm_first}
    fm, tm = _torch_pair(("TransformerEncoderLayer", (8, 2), kw))
    x = _x(3, 5, 8)
    assert list(_torch_sd(tm)) == list(to_state_dict(fm.init(0)))
    _compare(fm, tm, [x])
    kpm = np.zeros((3, 5), bool)
    kpm[0, 4] = True
    params, _ = fm.load_state_dict(_torch_sd(tm))
    with torch.no_grad():
        tout = tm(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm))
    out = fm(params, x, src_key_padding_mask=kpm)
    assert_close(out, tout.numpy())


def test_transformer_defaults_are_pytorchs():
    layer = nn.TransformerEncoderLayer(8, 2)
    assert layer.linear1.out_features == 2048
    assert layer.dropout.p == 0.1 and not layer.norm_first and not layer.batch_first
    assert layer.activation == "relu"


def test_embedding_matches_torch_with_padding_idx():
    torch = pytest.importorskip("torch")
    fm, tm = _torch_pair(("Embedding", (10, 3), {"padding_idx": 2}))
    idx = np.array([[1, 2, 2], [9, 0, 1]])
    params, _ = fm.load_state_dict(_torch_sd(tm))
    r = _x(2, 3, 3)
    g = fg.grad(lambda p: fnp.sum(fm(p, idx) * r))(params)
    out = tm(torch.tensor(idx))
    (out * torch.tensor(r)).sum().backward()
    assert_close(fm(params, idx), out.detach().numpy())
    assert_close(g["weight"], tm.weight.grad.numpy())
    assert not np.any(g["weight"][2])  # the padding row gets no gradient


def test_sequential_cnn_matches_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                             torch.nn.Conv2d(4, 6, 3, padding=1), torch.nn.BatchNorm2d(6),
                             torch.nn.Tanh(), torch.nn.AdaptiveAvgPool2d(2),
                             torch.nn.Flatten(), torch.nn.Linear(24, 5))
    fm = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2),
                       nn.Conv2d(4, 6, 3, padding=1), nn.BatchNorm2d(6), nn.Tanh(),
                       nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(24, 5))
    assert list(to_state_dict(fm.state_dict(fm.init(0), fm.init_state()))) == \
        list(tm.state_dict())
    _compare(fm, tm, [_x(3, 1, 12, 12)], train=True)


# ---------------------------------------------------------------------------------------
# Parameters: PyTorch's keys, shapes, order and initialisation; state_dict round trips
# ---------------------------------------------------------------------------------------

ALL = [s for s, _ in SIMPLE] + RNNS + [
    ("BatchNorm1d", (4,), {}), ("BatchNorm2d", (3,), {"affine": False}),
    ("Embedding", (7, 3), {}), ("MultiheadAttention", (8, 2), {}),
    ("TransformerEncoderLayer", (8, 2), {"dim_feedforward": 12}),
]


@pytest.mark.parametrize("spec", ALL, ids=[f"{s[0]}-{i}" for i, s in enumerate(ALL)])
def test_state_dict_layout_and_round_trip(spec):
    torch = pytest.importorskip("torch")
    fm, tm = _torch_pair(spec)
    tsd = _torch_sd(tm)
    flat = fm.state_dict(fm.init(fg.random.key(1)), fm.init_state())
    assert list(flat) == list(tsd), "keys and order are PyTorch's"
    assert {k: np.shape(v) for k, v in flat.items()} == {k: v.shape for k, v in tsd.items()}
    params, state = fm.load_state_dict(tm.state_dict())  # tensors accepted directly
    back = fm.state_dict(params, state)
    assert list(back) == list(tsd)
    for k in tsd:
        np.testing.assert_array_equal(back[k], tsd[k])
    # ... and back into torch
    tm.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in flat.items()}, strict=True)
    assert from_state_dict(to_state_dict(params)).keys() == params.keys()


def _bound_check(w, bound):
    w = np.asarray(w)
    assert np.abs(w).max() <= bound + 1e-7
    assert np.abs(w).max() > 0.8 * bound  # really uses the range
    assert abs(float(w.mean())) < 0.2 * bound


def test_default_initialisation_is_pytorchs():
    key = fg.random.key(3)
    p = nn.Linear(100, 50).init(key)
    _bound_check(p["weight"], 1 / math.sqrt(100))
    _bound_check(p["bias"], 1 / math.sqrt(100))
    p = nn.Conv2d(6, 40, 3, groups=2).init(key)
    _bound_check(p["weight"], 1 / math.sqrt(3 * 9))
    p = nn.ConvTranspose2d(6, 40, 3, groups=2).init(key)
    _bound_check(p["weight"], 1 / math.sqrt(20 * 9))
    _bound_check(p["bias"], 1 / math.sqrt(20 * 9))
    for name, v in nn.LSTM(10, 20, num_layers=2).init(key).items():
        _bound_check(v, 1 / math.sqrt(20))
    p = nn.MultiheadAttention(16, 4).init(key)
    _bound_check(p["in_proj_weight"], math.sqrt(6 / (16 + 48)))
    assert not np.any(p["in_proj_bias"]) and not np.any(p["out_proj"]["bias"])
    _bound_check(p["out_proj"]["weight"], 1 / math.sqrt(16))
    w = nn.Embedding(200, 50).init(key)["weight"]
    assert abs(float(np.std(w)) - 1.0) < 0.05
    bn = nn.BatchNorm1d(3)
    assert np.array_equal(bn.init(key)["weight"], np.ones(3))
    st = bn.init_state()
    assert np.array_equal(st["running_var"], np.ones(3))
    assert st["num_batches_tracked"].dtype == np.int64
    # different children get different draws, the same key the same params
    m = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 4))
    a, b = m.init(key), m.init(key)
    assert np.array_equal(a["0"]["weight"], b["0"]["weight"])
    assert not np.array_equal(a["0"]["weight"], a["1"]["weight"])


# ---------------------------------------------------------------------------------------
# vmap over unbatched inputs, jit, second order
# ---------------------------------------------------------------------------------------

UNBATCHED = [
    (nn.Linear(5, 3), (5,)),
    (nn.Conv1d(3, 4, 3, padding=1), (3, 8)),
    (nn.Conv2d(3, 4, 3, stride=2), (3, 7, 7)),
    (nn.ConvTranspose2d(3, 2, 3, stride=2), (3, 4, 4)),
    (nn.MaxPool2d(2), (3, 6, 6)),
    (nn.MaxPool1d(3, 1, 1), (2, 7)),
    (nn.AvgPool2d(3, 2, 1), (2, 7, 6)),
    (nn.AdaptiveAvgPool2d((2, 3)), (2, 5, 7)),
    (nn.LayerNorm(6), (4, 6)),
    (nn.Sequential(nn.Conv2d(2, 3, 3), nn.GELU(), nn.MaxPool2d(2)), (2, 8, 8)),
    (nn.LSTM(3, 4), (5, 3)),
    (nn.MultiheadAttention(8, 2), (5, 8)),
    (nn.TransformerEncoderLayer(8, 2, dim_feedforward=16), (5, 8)),
]


@pytest.mark.parametrize("module,shape", UNBATCHED,
                         ids=[type(m).__name__ for m, _ in UNBATCHED])
def test_vmap_over_unbatched_inputs_equals_batched_call(module, shape):
    params = module.init(fg.random.key(0))
    xs = _x(4, *shape)
    if isinstance(module, nn.MultiheadAttention):
        def call(x):
            return module(params, x, x, x)[0]
    elif isinstance(module, nn.LSTM):
        def call(x):
            return module(params, x)[0]
    else:
        def call(x):
            return module(params, x)
    got = fg.vmap(call)(xs)
    if isinstance(module, (nn.LSTM, nn.MultiheadAttention, nn.TransformerEncoderLayer)):
        want = np.swapaxes(call(np.swapaxes(xs, 0, 1)), 0, 1)  # sequence-first layout
    else:
        want = call(xs)
    assert_close(got, want)
    loop = np.stack([call(x) for x in xs])
    assert_close(got, loop)


def test_batchnorm_eval_under_vmap_and_group_norm_per_example():
    bn = nn.BatchNorm1d(3)
    params, state = bn.init(0), bn.init_state()
    state = dict(state, running_mean=np.arange(3.0, dtype=np.float32))
    xs = _x(4, 5, 3)
    got = fg.vmap(lambda x: bn(params, x, state=state)[0])(xs)
    assert_close(got, np.stack([bn(params, x, state=state)[0] for x in xs]))
    gn = nn.GroupNorm(2, 4)
    xs = _x(3, 1, 4, 5)
    got = fg.vmap(lambda x: gn(gn.init(0), x))(xs)
    assert_close(got[:, 0], gn(gn.init(0), xs[:, 0]))


class SmallCNN(nn.Module):
    def __init__(self):
        self.conv1 = nn.Conv2d(1, 3, 3)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(3, 4, 3, padding=1)
        self.norm = nn.GroupNorm(2, 4)
        self.fc = nn.Linear(4 * 3 * 3, 5)

    def forward(self, params, x):
        x = self.pool(fnp.tanh(self.conv1(params["conv1"], x)))
        x = self.norm(params["norm"], self.conv2(params["conv2"], x))
        x = F.avg_pool2d(fnp.tanh(x), 1)
        return self.fc(params["fc"], fnp.reshape(x, (x.shape[0], -1)))


def test_jit_grad_of_small_cnn_equals_eager():
    model = SmallCNN()
    params = model.init(fg.random.key(0))
    x, y = _x(4, 1, 8, 8), np.array([0, 1, 2, 4])

    def loss(p, x, y):
        logits = model(p, x)
        return -fnp.mean(fnp.take_along_axis(fg.nn.log_softmax(logits), y[:, None], 1))

    eager = fg.value_and_grad(loss)(params, x, y)
    jitted = fg.jit(fg.value_and_grad(loss))
    for _ in range(2):  # traced once, replayed once
        got = jitted(params, x, y)
        assert_close(got[0], eager[0])
        for a, b in zip(fg.tree.leaves(got[1]), fg.tree.leaves(eager[1])):
            assert_close(a, b)
    # per-example gradients: vmap(grad) over examples with a batch dim of 1
    per = fg.vmap(fg.grad(lambda p, xi, yi: loss(p, xi[None], yi[None])),
                  in_axes=(None, 0, 0))(params, x, y)
    for i in range(2):
        gi = fg.grad(loss)(params, x[i:i + 1], y[i:i + 1])
        for a, b in zip(fg.tree.leaves(per), fg.tree.leaves(gi)):
            assert_close(a[i], b)


@pytest.mark.parametrize("module,shape", [
    (nn.Conv2d(2, 2, 2, stride=1, padding=1), (1, 2, 3, 3)),
    (nn.GRU(2, 3), (3, 1, 2)),
    (nn.LayerNorm(3), (2, 3)),
    (nn.MultiheadAttention(4, 2), (3, 1, 4)),
], ids=["Conv2d", "GRU", "LayerNorm", "MultiheadAttention"])
def test_second_order_gradients(module, shape):
    params = to64(module.init(fg.random.key(0)))
    x = rng(1).standard_normal(shape)

    def f(p, x):
        out = module(p, x, x, x) if isinstance(module, nn.MultiheadAttention) else \
            module(p, x)
        out = out[0] if isinstance(out, tuple) else out
        return fnp.sum(fnp.sin(out))

    check_grads(f, (params, x), order=2)


# ---------------------------------------------------------------------------------------
# The Module pattern
# ---------------------------------------------------------------------------------------


class Block(nn.Module):
    def __init__(self):
        self.fc = nn.Linear(4, 4)
        self.bn = nn.BatchNorm1d(4)
        self.drop = nn.Dropout(0.5)

    def forward(self, params, x):
        return self.drop(self.bn(params["bn"], self.fc(params["fc"], x)))


class Net(nn.Module):
    def __init__(self):
        self.a = Block()
        self.b = Block()
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(4, 2))

    def forward(self, params, x):
        return self.head(params["head"], self.b(params["b"], self.a(params["a"], x)))


def test_children_collected_under_attribute_names_with_state_and_keys():
    net = Net()
    params, state = net.init(fg.random.key(0)), net.init_state()
    assert list(to_state_dict(params)) == [
        "a.fc.weight", "a.fc.bias", "a.bn.weight", "a.bn.bias",
        "b.fc.weight", "b.fc.bias", "b.bn.weight", "b.bn.bias",
        "head.1.weight", "head.1.bias"]
    assert list(to_state_dict(state)) == [
        "a.bn.running_mean", "a.bn.running_var", "a.bn.num_batches_tracked",
        "b.bn.running_mean", "b.bn.running_var", "b.bn.num_batches_tracked"]
    x = _x(8, 4)
    y1, s1 = net(params, x, state=state, train=True, key=fg.random.key(5))
    y2, _ = net(params, x, state=state, train=True, key=fg.random.key(5))
    y3, _ = net(params, x, state=state, train=True, key=fg.random.key(6))
    assert np.array_equal(y1, y2) and not np.array_equal(y1, y3)  # keys: deterministic
    for blk in ("a", "b"):  # state threaded through nested children
        assert int(s1[blk]["bn"]["num_batches_tracked"]) == 1
        assert not np.array_equal(s1[blk]["bn"]["running_mean"], np.zeros(4))
    # the two Dropout children draw different masks from one key
    drop_a = fg.vmap(lambda k: net.a.drop(fnp.ones(64), key=k, train=True))(
        fg.random.split(fg.random.key(0), 2))
    assert not np.array_equal(drop_a[0], drop_a[1])
    # evaluation mode: no key needed, deterministic, state unchanged
    y_eval, s_eval = net(params, x, state=s1)
    assert fg.tree.all(fg.tree.map(lambda a, b: np.array_equal(a, b), s_eval, s1))
    assert y_eval.shape == (8, 2)
    # jit with the train flag static
    step = fg.jit(net.apply, static_argnames="train")
    yj, sj = step(params, x, state=state, train=True, key=fg.random.key(5))
    assert_close(yj, y1)
    assert_close(sj["a"]["bn"]["running_var"], s1["a"]["bn"]["running_var"])


def test_modules_are_immutable_and_lists_need_modulelist():
    m = nn.Linear(2, 3)
    with pytest.raises(AttributeError, match="immutable"):
        m.in_features = 4

    class Bad(nn.Module):
        def __init__(self):
            self.layers = [nn.Linear(2, 2), nn.Linear(2, 2)]

    with pytest.raises(TypeError, match="ModuleList"):
        Bad()

    class Good(nn.Module):
        def __init__(self):
            self.layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])

        def forward(self, params, x):
            for i, layer in enumerate(self.layers):
                x = layer(params["layers"][str(i)], x)
            return x

    g = Good()
    assert list(to_state_dict(g.init(0))) == ["layers.0.weight", "layers.0.bias",
                                              "layers.1.weight", "layers.1.bias"]
    assert g(g.init(0), fnp.ones((1, 2))).shape == (1, 2)
    assert "(layers): ModuleList(" in repr(g)


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("module,x,expected", [
    (nn.Conv2d(3, 8, 3), np.ones((2, 4, 9, 9), np.float32), r"Conv2d\(3, 8.*\(N, 3, H, W\)"),
    (nn.Conv1d(2, 8, 3), np.ones((2, 3, 4, 9), np.float32), r"Conv1d\(2, 8.*\(N, 2, L\)"),
    (nn.Linear(4, 2), np.ones((3, 5), np.float32), r"Linear\(in_features=4.*\(\*, 4\)"),
    (nn.BatchNorm2d(3), np.ones((2, 3, 4), np.float32), r"BatchNorm2d\(3.*\(N, 3, H, W\)"),
    (nn.GRU(3, 5, batch_first=True), np.ones((2, 4, 6), np.float32), r"GRU\(3, 5.*\(N, L, 3\)"),
    (nn.LayerNorm(4), np.ones((2, 5), np.float32), r"LayerNorm.*\(\*, 4\)"),
    (nn.MaxPool2d(2), np.ones((2, 3), np.float32), r"MaxPool2d.*\(N, C, H, W\)"),
    (nn.Embedding(4, 2), np.ones((2, 3), np.float32), r"Embedding.*integer"),
])
def test_wrong_input_shape_names_module_and_shapes(module, x, expected):
    params = module.init(0)
    state = module.init_state() or None
    with pytest.raises(ValueError, match=expected) as e:
        module(params, x, state=state)
    if "integer" not in expected:
        assert str(tuple(x.shape)) in str(e.value)


def test_mha_wrong_embed_dim():
    m = nn.MultiheadAttention(8, 2)
    x = np.ones((3, 2, 6), np.float32)
    with pytest.raises(ValueError, match=r"MultiheadAttention.*\(L, N, 8\).*\(3, 2, 6\)"):
        m(m.init(0), x, x, x)


def test_bad_params_list_offending_keys():
    net = Net()
    params = net.init(0)
    bad = fg.tree.map(lambda a: a, params)
    del bad["a"]["fc"]["bias"]
    bad["b"]["extra"] = np.ones(2)
    bad["head"]["1"]["weight"] = np.ones((3, 4), np.float32)
    with pytest.raises(ValueError) as e:
        net(bad, _x(2, 4), state=net.init_state())
    msg = str(e.value)
    assert "missing params keys ['a.fc.bias']" in msg
    assert "unexpected params keys ['b.extra']" in msg
    assert "'head.1.weight' has shape (3, 4), expected (2, 4)" in msg
    # load_state_dict checks too
    flat = net.state_dict(params, net.init_state())
    del flat["b.bn.running_var"]
    with pytest.raises(ValueError, match=r"missing state keys \['b.bn.running_var'\]"):
        net.load_state_dict(flat)
    with pytest.raises(TypeError, match="expected the parameters"):
        nn.Linear(2, 2)(np.ones((1, 2), np.float32))


def test_missing_key_and_state_errors_are_clear():
    drop = nn.Dropout(0.3)
    with pytest.raises(ValueError, match="Dropout.*PRNG key"):
        drop(fnp.ones(3), train=True)
    with pytest.raises(ValueError, match="PRNG key"):
        F.dropout(None, fnp.ones(3), 0.5)
    bn = nn.BatchNorm1d(2)
    with pytest.raises(ValueError, match="BatchNorm1d.*init_state"):
        bn(bn.init(0), fnp.ones((3, 2)))
    with pytest.raises(ValueError, match="num_channels must be divisible"):
        nn.GroupNorm(3, 4)
