"""Convolution and pooling primitives (``funcgrad._src.ops.conv``) and the functional API
(``funcgrad_nn.functional``): against hand-written loop references in NumPy, against
torch.nn.functional where installed, check_grads to second order, vmap (batched inputs,
batched weights, per-example gradients), jit, and argument errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._src.ops.conv import avg_pool, conv_general, conv_transpose, max_pool
from funcgrad.testing import check_grads
from funcgrad_nn import functional as F


def randn(*shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def close(a, b, tol=1e-10):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol * max(1.0, float(np.abs(b).max())))


# ---------------------------------------------------------------------------------------
# Hand-written references: explicit loops over output positions
# ---------------------------------------------------------------------------------------


def _pads(padding, nd):
    if isinstance(padding, int):
        return [(padding, padding)] * nd
    return [p if isinstance(p, tuple) else (p, p) for p in padding]


def _tup(v, nd):
    return (v,) * nd if isinstance(v, int) else tuple(v)


def _windows(out_shape, kernel, stride, dilation):
    """For each output position, the slices of its window in the padded input."""
    for pos in itertools.product(*[range(o) for o in out_shape]):
        yield pos, tuple(slice(p * s, p * s + d * (k - 1) + 1, d)
                         for p, k, s, d in zip(pos, kernel, stride, dilation))


def _geometry(x_shape, kernel, stride, padding, dilation):
    nd = len(kernel)
    stride, dilation, pads = _tup(stride, nd), _tup(dilation, nd), _pads(padding, nd)
    padded = [n + lo + hi for n, (lo, hi) in zip(x_shape[2:], pads)]
    out = [(n - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip(padded, kernel, stride,
                                                                   dilation)]
    return stride, dilation, pads, out


def ref_conv(x, w, stride=1, padding=0, dilation=1, groups=1):
    """y[n, o, pos] = sum_{c, k} xpad[n, c, window(pos)][k] * w[o, c, k]; plus the VJP
    maps ``dx(g)`` and ``dw(g)`` by the same loops."""
    nd = x.ndim - 2
    kernel = w.shape[2:]
    stride, dilation, pads, out = _geometry(x.shape, kernel, stride, padding, dilation)
    xp = np.pad(x, [(0, 0), (0, 0)] + pads)
    n, c = x.shape[:2]
    o = w.shape[0]
    cg, og = c // groups, o // groups
    y = np.zeros((n, o, *out))
    for pos, win in _windows(out, kernel, stride, dilation):
        for g in range(groups):
            patch = xp[(slice(None), slice(g * cg, (g + 1) * cg)) + win]
            wg = w[g * og:(g + 1) * og]
            y[(slice(None), slice(g * og, (g + 1) * og)) + pos] = np.tensordot(
                patch, wg, axes=(list(range(1, nd + 2)), list(range(1, nd + 2))))

    def dx(gy):
        dxp = np.zeros_like(xp)
        for pos, win in _windows(out, kernel, stride, dilation):
            for g in range(groups):
                wg = w[g * og:(g + 1) * og]
                gg = gy[(slice(None), slice(g * og, (g + 1) * og)) + pos]
                dxp[(slice(None), slice(g * cg, (g + 1) * cg)) + win] += np.tensordot(
                    gg, wg, axes=([1], [0]))
        crop = tuple(slice(lo, lo + s) for (lo, _), s in zip(pads, x.shape[2:]))
        return dxp[(slice(None), slice(None)) + crop]

    def dw(gy):
        out_w = np.zeros_like(w)
        for pos, win in _windows(out, kernel, stride, dilation):
            for g in range(groups):
                patch = xp[(slice(None), slice(g * cg, (g + 1) * cg)) + win]
                gg = gy[(slice(None), slice(g * og, (g + 1) * og)) + pos]
                out_w[g * og:(g + 1) * og] += np.tensordot(gg, patch, axes=([0], [0]))
        return out_w

    return y, dx, dw


def ref_pool(x, kernel, stride, padding, dilation=1, mode="max", count_include_pad=True):
    """Max (gradient to the first maximum, row-major) or average pooling, with its VJP."""
    nd = x.ndim - 2
    kernel = _tup(kernel, nd)
    stride, dilation, pads, out = _geometry(x.shape, kernel, stride or kernel, padding,
                                            dilation)
    fill = -np.inf if mode == "max" else 0.0
    xp = np.pad(x, [(0, 0), (0, 0)] + pads, constant_values=fill)
    ones = np.pad(np.ones(x.shape[2:]), pads)
    y = np.zeros(x.shape[:2] + tuple(out))
    for pos, win in _windows(out, kernel, stride, dilation):
        patch = xp[(Ellipsis,) + win]
        if mode == "max":
            y[(Ellipsis,) + pos] = patch.reshape(patch.shape[:2] + (-1,)).max(-1)
        else:
            div = np.prod(kernel) if count_include_pad else ones[win].sum()
            y[(Ellipsis,) + pos] = patch.reshape(patch.shape[:2] + (-1,)).sum(-1) / div

    def vjp(gy):
        dxp = np.zeros_like(xp)
        for pos, win in _windows(out, kernel, stride, dilation):
            patch = xp[(Ellipsis,) + win]
            flat = patch.reshape(patch.shape[:2] + (-1,))
            gg = gy[(Ellipsis,) + pos]
            if mode == "max":
                onehot = np.zeros_like(flat)
                np.put_along_axis(onehot, flat.argmax(-1)[..., None], 1.0, -1)  # first max
                dxp[(Ellipsis,) + win] += (onehot * gg[..., None]).reshape(patch.shape)
            else:
                div = np.prod(kernel) if count_include_pad else ones[win].sum()
                dxp[(Ellipsis,) + win] += gg[(Ellipsis,) + (None,) * nd] / div
        crop = tuple(slice(lo, lo + s) for (lo, _), s in zip(pads, x.shape[2:]))
        return dxp[(slice(None), slice(None)) + crop]

    return y, vjp


CONV_CASES = [
    # (x shape, w shape, stride, padding, dilation, groups)
    ((2, 3, 9), (4, 3, 3), 1, 0, 1, 1),
    ((2, 4, 10), (6, 2, 3), 2, 1, 2, 2),
    ((2, 3, 7, 6), (5, 3, 3, 2), 1, 1, 1, 1),
    ((1, 4, 9, 8), (4, 1, 3, 3), (2, 1), ((1, 0), (2, 1)), (1, 2), 4),
    ((2, 2, 6, 7), (3, 2, 1, 1), 3, 0, 1, 1),
    ((3, 1, 12, 12), (8, 1, 5, 5), 1, 0, 1, 1),  # LeNet's first layer, small batch
    ((1, 2, 5, 4, 6), (3, 2, 2, 2, 3), 1, 1, 1, 1),  # 3-D
]


@pytest.mark.parametrize("xs,ws,stride,padding,dilation,groups", CONV_CASES)
def test_conv_matches_loop_reference(xs, ws, stride, padding, dilation, groups):
    x, w = randn(*xs, seed=1), randn(*ws, seed=2)
    want, dx, dw = ref_conv(x, w, stride, padding, dilation, groups)
    y, pull = fg.vjp(lambda a, b: conv_general(a, b, stride, padding, dilation, groups), x, w)
    close(y, want)
    g = randn(*want.shape, seed=3)
    gx, gw = pull(g)
    close(gx, dx(g))
    close(gw, dw(g))
    # float32 in, float32 out
    y32 = conv_general(x.astype(np.float32), w.astype(np.float32), stride, padding, dilation,
                       groups)
    assert y32.dtype == np.float32
    close(y32, want, 1e-5)


@pytest.mark.parametrize("xs,ws,stride,padding,out_pad,dilation,groups", [
    ((2, 4, 5, 6), (4, 3, 3, 3), 2, 1, 1, 1, 1),
    ((1, 4, 3, 3), (4, 2, 2, 2), 3, 0, (2, 1), 2, 2),
    ((2, 3, 6), (3, 2, 4), 2, 2, 0, 1, 1),
    ((2, 2, 3, 4), (2, 3, 2, 2), (1, 2), 0, (1, 1), 2, 1),  # output_padding >= stride
])
def test_conv_transpose_is_the_input_gradient_of_conv(xs, ws, stride, padding, out_pad,
                                                      dilation, groups):
    g, w = randn(*xs, seed=1), randn(*ws, seed=2)
    y = conv_transpose(g, w, stride, padding, out_pad, dilation, groups)
    # the conv whose input gradient this is: input of y's shape, the same weights (its
    # output may be longer than g where output_padding reaches past the stride: those
    # positions get a zero cotangent)
    want, dx, dw = ref_conv(np.zeros(y.shape), w, stride, padding, dilation, groups)
    gpad = np.zeros(want.shape)
    gpad[(slice(None), slice(None)) + tuple(slice(0, n) for n in g.shape[2:])] = g
    close(y, dx(gpad))
    # its own VJP: a convolution for g, a weight gradient for w
    c = randn(*y.shape, seed=3)
    _, pull = fg.vjp(lambda a, b: conv_transpose(a, b, stride, padding, out_pad, dilation,
                                                 groups), g, w)
    cg, cw = pull(c)
    want_g, _, dw_c = ref_conv(c, w, stride, padding, dilation, groups)
    crop = (slice(None), slice(None)) + tuple(slice(0, n) for n in g.shape[2:])
    close(cg, want_g[crop])
    close(cw, dw_c(gpad))
    check_grads(lambda a, b: conv_transpose(a, b, stride, padding, out_pad, dilation, groups),
                (g, w), order=2)


def test_same_and_valid_padding_strings():
    x, w = randn(2, 3, 8, 7), randn(4, 3, 4, 3)
    y = conv_general(x, w, padding="same")
    assert y.shape == (2, 4, 8, 7)
    close(y, ref_conv(x, w, padding=[(1, 2), (1, 1)])[0])  # the odd extra at the end
    close(conv_general(x, w, padding="valid"), ref_conv(x, w)[0])
    y = conv_general(x, w, padding="same", dilation=2)
    close(y, ref_conv(x, w, padding=[(3, 3), (2, 2)], dilation=2)[0])


POOL_CASES = [
    ((2, 3, 8, 6), 2, None, 0, 1),
    ((2, 2, 7, 8), 3, 2, 1, 1),
    ((1, 2, 9, 9), (2, 3), (1, 2), (1, 1), (2, 1)),
    ((2, 3, 10), 3, 1, 1, 2),
    ((2, 3, 9), 4, 3, 2, 1),
]


@pytest.mark.parametrize("xs,kernel,stride,padding,dilation", POOL_CASES)
def test_max_pool_matches_loop_reference(xs, kernel, stride, padding, dilation):
    x = randn(*xs, seed=4)
    want, vjp = ref_pool(x, kernel, stride, padding, dilation, "max")
    y, pull = fg.vjp(lambda a: max_pool(a, kernel, stride, padding, dilation), x)
    close(y, want)
    g = randn(*want.shape, seed=5)
    close(pull(g)[0], vjp(g))


@pytest.mark.parametrize("xs,kernel,stride,padding,_", POOL_CASES)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool_matches_loop_reference(xs, kernel, stride, padding, _, count_include_pad):
    x = randn(*xs, seed=4)
    want, vjp = ref_pool(x, kernel, stride, padding, 1, "avg", count_include_pad)
    y, pull = fg.vjp(lambda a: avg_pool(a, kernel, stride, padding, count_include_pad), x)
    close(y, want)
    g = randn(*want.shape, seed=5)
    close(pull(g)[0], vjp(g))


def test_max_pool_gradient_goes_to_the_first_maximum_on_ties():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 2:, 2:] = [[1.0, 5.0], [5.0, 5.0]]
    g = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    got = fg.vjp(lambda a: max_pool(a, 2), x)[1](g)[0]
    want = np.zeros((4, 4))
    want[0, 0], want[0, 2], want[2, 0], want[2, 3] = 1.0, 2.0, 3.0, 4.0
    close(got[0, 0], want)
    # overlapping windows accumulate
    x = np.zeros((1, 1, 1, 4))
    got = fg.vjp(lambda a: max_pool(a, (1, 2), 1), x)[1](np.ones((1, 1, 1, 3)))[0]
    close(got[0, 0, 0], [1.0, 1.0, 1.0, 0.0])
    close(got, ref_pool(x, (1, 2), 1, 0)[1](np.ones((1, 1, 1, 3))))


@pytest.mark.parametrize("xs,ws", [((1, 1, 1, 1), (1, 1, 1, 1)), ((2, 3, 6, 5), (4, 3, 3, 2)),
                                   ((1, 2, 4), (2, 2, 1))])
def test_results_never_alias_reused_scratch_buffers(xs, ws):
    x, w = randn(*xs, seed=1), randn(*ws, seed=2)
    y, pull = fg.vjp(lambda a, b: conv_general(a, b), x, w)
    g = randn(*y.shape, seed=3)
    dx, dw = pull(g)
    p = max_pool(x, 1)
    kept = [a.copy() for a in (y, dx, dw, p)]
    # the same primitives on other values, with the same shapes
    y2, pull2 = fg.vjp(lambda a, b: conv_general(a, b), x + 1.0, w * 2.0)
    pull2(g * 3.0)
    max_pool(x - 5.0, 1)
    for a, b in zip((y, dx, dw, p), kept):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------------------
# Second order, JVP, vmap, jit
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("xs,ws,stride,padding,dilation,groups", [
    ((1, 2, 4, 4), (2, 1, 2, 2), 1, 1, 1, 2),
    ((2, 1, 5, 4), (2, 1, 3, 2), 2, 0, (1, 2), 1),
    ((1, 2, 6), (3, 2, 3), 1, 1, 2, 1),
])
def test_conv_check_grads_second_order(xs, ws, stride, padding, dilation, groups):
    x, w = randn(*xs, seed=6), randn(*ws, seed=7)
    check_grads(lambda a, b: conv_general(a, b, stride, padding, dilation, groups), (x, w),
                order=2)
    t = conv_general(x, w, stride, padding, dilation, groups)
    check_grads(lambda a, b: conv_transpose(a, b, stride, padding, 0, dilation, groups),
                (randn(*t.shape, seed=8), w), order=2)


@pytest.mark.parametrize("fn", [
    lambda a: max_pool(a, 2),
    lambda a: max_pool(a, 3, 1, 1),
    lambda a: max_pool(a, (2, 3), (1, 2), 1, (1, 2)),
    lambda a: avg_pool(a, 2),
    lambda a: avg_pool(a, 3, 2, 1, False),
    lambda a: F.adaptive_avg_pool2d(a, (2, 3)),
    lambda a: F.adaptive_avg_pool2d(a, 2),
], ids=["max2", "max3s1p1", "max-dilated", "avg2", "avg-nopad-count", "adaptive-bins",
        "adaptive-even"])
def test_pool_check_grads_second_order(fn):
    x = randn(2, 2, 4, 6, seed=9)  # continuous values: no ties
    check_grads(fn, (x,), order=2)


def test_jvp_is_linear_in_each_argument():
    x, w = randn(2, 3, 6, 6, seed=1), randn(4, 3, 3, 3, seed=2)
    tx, tw = randn(*x.shape, seed=3), randn(*w.shape, seed=4)
    y, t = fg.jvp(lambda a, b: conv_general(a, b, 2, 1), (x, w), (tx, tw))
    close(t, conv_general(tx, w, 2, 1) + conv_general(x, tw, 2, 1))
    y, t = fg.jvp(lambda a: max_pool(a, 2), (x,), (tx,))
    idx = ref_pool(x, 2, None, 0)[1]  # the first-max routing, as a linear map
    close(fnp.sum(t * y), np.sum(tx * idx(np.asarray(y))))


@pytest.mark.parametrize("in_axes", [(0, None), (None, 0), (0, 0), (2, 1)])
def test_vmap_conv_batched_inputs_and_weights(in_axes):
    x, w = randn(2, 4, 6, 5, seed=1), randn(6, 2, 3, 2, seed=2)
    b = 3
    xb = np.stack([x + i for i in range(b)], axis=in_axes[0]) if in_axes[0] is not None else x
    wb = np.stack([w * (i + 1) for i in range(b)], axis=in_axes[1]) \
        if in_axes[1] is not None else w

    def f(a, c):
        return conv_general(a, c, 1, 1, 1, 2)

    got = fg.vmap(f, in_axes=in_axes)(xb, wb)
    xs = [np.take(xb, i, in_axes[0]) if in_axes[0] is not None else x for i in range(b)]
    ws = [np.take(wb, i, in_axes[1]) if in_axes[1] is not None else w for i in range(b)]
    close(got, np.stack([f(a, c) for a, c in zip(xs, ws)]))
    # the VJP under vmap (per-example gradients) equals a loop of VJPs
    gs = randn(b, *got.shape[1:], seed=3)
    got_g = fg.vmap(lambda a, c, g: fg.vjp(f, a, c)[1](g), in_axes=in_axes + (0,))(xb, wb, gs)
    for i in range(b):
        want = fg.vjp(f, xs[i], ws[i])[1](gs[i])
        close(got_g[0][i] if in_axes[0] is not None else got_g[0][i], want[0])
        close(got_g[1][i], want[1])


def test_vmap_pools_and_transpose_and_jacobian():
    x = randn(3, 2, 2, 6, 6, seed=1)
    for f in (lambda a: max_pool(a, 2), lambda a: avg_pool(a, 3, 1, 1),
              lambda a: conv_transpose(a, np.ones((2, 3, 2, 2)), 2)):
        close(fg.vmap(f)(x), np.stack([f(a) for a in x]))
        gs = fg.vmap(lambda a: fg.grad(lambda z: fnp.sum(fnp.sin(f(z))))(a))(x)
        close(gs, np.stack([fg.grad(lambda z: fnp.sum(fnp.sin(f(z))))(a) for a in x]))
    # jacrev maps over cotangents with unbatched inputs: the routing args are broadcast
    xs = randn(1, 1, 4, 4, seed=2)
    jac = fg.jacrev(lambda a: max_pool(a, 2))(xs)
    jac_f = fg.jacfwd(lambda a: max_pool(a, 2))(xs)
    close(jac, jac_f)
    assert jac.shape == (1, 1, 2, 2, 1, 1, 4, 4)


def test_jit_forward_and_backward_equal_eager():
    x, w = randn(2, 3, 8, 8, seed=1), randn(4, 3, 3, 3, seed=2)

    def loss(a, b):
        h = max_pool(fnp.tanh(conv_general(a, b, 1, 1)), 2)
        return fnp.sum(avg_pool(h, 2) ** 2)

    eager = fg.value_and_grad(loss, argnums=(0, 1))(x, w)
    jitted = fg.jit(fg.value_and_grad(loss, argnums=(0, 1)))
    for _ in range(2):
        got = jitted(x, w)
        close(got[0], eager[0])
        close(got[1][0], eager[1][0])
        close(got[1][1], eager[1][1])
    text = str(fg.make_jaxpr(fg.grad(loss, argnums=1))(x, w))
    for name in ("conv_general", "conv_weight_grad", "max_pool_grad", "avg_pool_grad"):
        assert name in text


# ---------------------------------------------------------------------------------------
# The functional API against torch.nn.functional
# ---------------------------------------------------------------------------------------


def _torch_grad(fn, *arrays):
    torch = pytest.importorskip("torch")
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts)
    r = randn(*out.shape, seed=11)
    grads = torch.autograd.grad((out * torch.tensor(r)).sum(), ts)
    return out.detach().numpy(), [g.numpy() for g in grads], r


@pytest.mark.parametrize("name,args,kw", [
    ("conv1d", [(2, 4, 9), (6, 2, 3), (6,)], {"stride": 2, "padding": 1, "groups": 2}),
    ("conv1d", [(4, 9), (6, 4, 3), None], {"padding": "same", "dilation": 2}),
    ("conv2d", [(2, 3, 7, 8), (4, 3, 3, 3), (4,)], {"stride": (2, 1), "padding": (1, 0)}),
    ("conv2d", [(3, 7, 8), (4, 3, 2, 2), (4,)], {"dilation": 2}),
    ("conv_transpose2d", [(2, 4, 4, 5), (4, 3, 3, 3), (3,)],
     {"stride": 2, "padding": 1, "output_padding": 1}),
    ("conv_transpose1d", [(2, 4, 6), (4, 2, 3), None], {"stride": 3, "groups": 2}),
    ("max_pool1d", [(2, 3, 9)], {"kernel_size": 3, "stride": 2, "padding": 1}),
    ("max_pool2d", [(3, 8, 8)], {"kernel_size": 2}),
    ("avg_pool1d", [(2, 3, 9)], {"kernel_size": 3, "padding": 1,
                                 "count_include_pad": False}),
    ("avg_pool2d", [(2, 3, 8, 7)], {"kernel_size": (3, 2), "stride": 2, "padding": 1}),
    ("adaptive_avg_pool2d", [(2, 3, 7, 9)], {"output_size": (3, 4)}),
    ("adaptive_avg_pool2d", [(3, 6, 6)], {"output_size": (None, 2)}),
    ("linear", [(2, 5, 3), (4, 3), (4,)], {}),
    ("layer_norm", [(2, 3, 4), (3, 4), (3, 4)], {"normalized_shape": (3, 4)}),
    ("group_norm", [(2, 6, 5), (6,), (6,)], {"num_groups": 3}),
], ids=lambda v: v if isinstance(v, str) else None)
def test_functional_matches_torch(name, args, kw):
    torch = pytest.importorskip("torch")
    arrays = [randn(*s, seed=i, dtype=np.float32) for i, s in enumerate(args) if s is not None]
    tf = getattr(torch.nn.functional, name)
    ff = getattr(F, name)
    if name in ("layer_norm", "group_norm"):
        key = "normalized_shape" if name == "layer_norm" else "num_groups"
        val = kw[key]

        def tcall(x, *wb):
            return tf(x, val, *wb)

        def fcall(x, *wb):
            return ff(x, val, *wb)
    elif len(args) == 3 and args[2] is None:
        def tcall(*a):
            return tf(*a, **kw)

        def fcall(*a):
            return ff(*a, **kw)
    else:
        def tcall(*a):
            return tf(*a, **kw)

        def fcall(*a):
            return ff(*a, **kw)
    want, tgrads, r = _torch_grad(tcall, *arrays)
    got, pull = fg.vjp(fcall, *arrays)
    close(got, want, 1e-5)
    for a, b in zip(pull(r), tgrads):
        close(a, b, 1e-5)


def test_functional_batch_norm_dropout_embedding():
    torch = pytest.importorskip("torch")
    x = randn(5, 3, 4, seed=1, dtype=np.float32)
    rm, rv = np.zeros(3, np.float32), np.ones(3, np.float32)
    w, b = randn(3, seed=2, dtype=np.float32), randn(3, seed=3, dtype=np.float32)
    out, m, v = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.2)
    trm, trv = torch.tensor(rm), torch.tensor(rv)
    tout = torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, torch.tensor(w),
                                          torch.tensor(b), training=True, momentum=0.2)
    close(out, tout.numpy(), 1e-5)
    close(m, trm.numpy(), 1e-6)
    close(v, trv.numpy(), 1e-6)
    ev = F.batch_norm(x, m, v, w, b)
    tev = torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, torch.tensor(w),
                                         torch.tensor(b))
    close(ev, tev.numpy(), 1e-5)
    # dropout: identity off, expectation kept on, p=1 zeros, deterministic per key
    k = fg.random.key(0)
    y = F.dropout(k, np.ones((200, 200), np.float32), 0.3)
    assert abs(float(y.mean()) - 1.0) < 0.02 and abs(float((y == 0).mean()) - 0.3) < 0.02
    assert np.array_equal(y, F.dropout(k, np.ones((200, 200), np.float32), 0.3))
    assert np.array_equal(F.dropout(None, x, 0.5, training=False), x)
    assert not np.any(F.dropout(k, x, 1.0))
    table = randn(6, 2, dtype=np.float32)
    idx = np.array([[0, 5], [3, 3]])
    close(F.embedding(idx, table), table[idx])


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("call,exc,match", [
    (lambda: F.conv2d(np.ones((1, 3, 5, 5)), np.ones((2, 4, 3, 3))), ValueError,
     r"conv2d: input of shape \(1, 3, 5, 5\) has 3 channels.*\(2, 4, 3, 3\)"),
    (lambda: F.conv2d(np.ones((3, 5)), np.ones((2, 3, 3, 3))), ValueError,
     r"expected a 3-D \(unbatched.*got shape \(3, 5\)"),
    (lambda: F.conv2d(np.ones((1, 3, 2, 2)), np.ones((2, 3, 3, 3))), ValueError,
     "smaller than the"),
    (lambda: F.conv1d(np.ones((1, 4, 5)), np.ones((3, 2, 3)), groups=2), ValueError,
     "divisible by groups"),
    (lambda: F.conv1d(np.ones((1, 4, 5)), np.ones((4, 4, 3)), padding="full"), ValueError,
     "padding must be"),
    (lambda: F.conv1d(np.ones((1, 4, 5)), np.ones((4, 4, 3)), stride=2, padding="same"),
     ValueError, "'same' is not supported for strided"),
    (lambda: F.max_pool2d(np.ones((1, 1, 4, 4)), 2, padding=2), ValueError,
     "at most half of the kernel"),
    (lambda: F.max_pool2d(np.ones((1, 1, 4, 4)), 2, ceil_mode=True), NotImplementedError,
     "ceil_mode"),
    (lambda: F.conv_transpose2d(np.ones((1, 2, 3, 3)), np.ones((2, 1, 3, 3)), stride=2,
                                output_padding=2), ValueError, "output_padding"),
    (lambda: F.linear(np.ones((2, 3)), np.ones((4, 5))), ValueError, r"linear.*\(4, 5\)"),
    (lambda: F.embedding(np.ones((2,)), np.ones((3, 2))), ValueError, "integer"),
    (lambda: F.layer_norm(np.ones((2, 3)), (4,)), ValueError, r"trailing shape \(4,\)"),
])
def test_argument_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
