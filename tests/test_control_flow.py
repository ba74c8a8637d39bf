"""fg.lax control flow: eager, grad (both modes), vmap and jit."""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads


def _loop(x):
    return fg.lax.while_loop(lambda v: v < 10.0, lambda v: v * 1.5 + 0.1, x)


def _loop_ref(x):
    while x < 10.0:
        x = x * 1.5 + 0.1
    return x


@pytest.mark.parametrize("x", [0.7, 2.0, 11.0])
def test_while_loop_eager_jit_and_reverse_mode(x):
    assert np.isclose(float(_loop(x)), _loop_ref(x))
    assert np.isclose(float(fg.jit(_loop)(x)), _loop_ref(x))
    eps = 1e-6
    fd = (_loop_ref(x + eps) - _loop_ref(x - eps)) / (2 * eps)
    assert np.isclose(float(fg.grad(_loop)(np.float64(x))), fd, rtol=1e-5)
    assert np.isclose(float(fg.jvp(_loop, (np.float64(x),), (np.float64(1.0),))[1]), fd,
                      rtol=1e-5)


def test_while_loop_under_vmap_freezes_finished_examples():
    xs = np.array([0.7, 2.0, 11.0])
    np.testing.assert_allclose(fg.vmap(_loop)(xs), [_loop_ref(v) for v in xs])


def test_cond_switch_all_modes():
    def f(x):
        return fg.lax.cond(x > 0, lambda v: v ** 2, lambda v: -3.0 * v, x)

    for x in (-2.0, 1.5):
        ref = x ** 2 if x > 0 else -3 * x
        assert np.isclose(float(f(x)), ref)
        assert np.isclose(float(fg.jit(f)(x)), ref)
        assert np.isclose(float(fg.grad(f)(x)), 2 * x if x > 0 else -3.0)
    xs = np.array([-2.0, 1.5])
    np.testing.assert_allclose(fg.vmap(f)(xs), [6.0, 2.25])
    np.testing.assert_allclose(fg.vmap(fg.grad(f))(xs), [-3.0, 3.0])

    def s(i, x):
        return fg.lax.switch(i, [lambda v: v, lambda v: 2 * v, lambda v: 3 * v], x)

    assert float(s(1, 2.0)) == 4.0
    assert float(s(7, 2.0)) == 6.0  # clamped
    np.testing.assert_allclose(fg.vmap(s)(np.array([0, 2]), np.array([1.0, 1.0])), [1.0, 3.0])
    assert float(fg.jit(s)(np.int32(1), 2.0)) == 4.0


def test_cond_branch_mismatch_is_an_error():
    with pytest.raises(TypeError, match="identical"):
        fg.vmap(lambda x: fg.lax.cond(x > 0, lambda v: v, lambda v: fnp.stack([v, v]), x))(
            np.ones(2))


def test_fori_loop_and_scan_gradients():
    def f(x):
        return fg.lax.fori_loop(0, 5, lambda i, v: fnp.sin(v) + i * 0.1, x)

    check_grads(f, (np.array([0.3, 1.0]),), order=2)

    def g(c0, xs):
        c, ys = fg.lax.scan(lambda c, x: (c * x + 1.0, c ** 2), c0, xs)
        return c + fnp.sum(ys)

    check_grads(g, (np.array(0.5), np.array([0.9, 1.1, -0.7])), order=2)
    assert np.isclose(float(fg.jit(g)(0.5, np.array([0.9, 1.1, -0.7]))),
                      float(g(np.array(0.5), np.array([0.9, 1.1, -0.7]))), rtol=1e-6)


def test_fori_loop_with_traced_bound_under_jit():
    f = fg.jit(lambda x, n: fg.lax.fori_loop(0, n, lambda i, v: v + i, x))
    assert float(f(0.0, np.int32(5))) == 10.0
    assert float(f(0.0, np.int32(3))) == 3.0


def test_scan_reverse_and_errors():
    _, ys = fg.lax.scan(lambda c, x: (c + x, c), 0.0, np.arange(4.0), reverse=True)
    np.testing.assert_allclose(ys, [6.0, 5.0, 3.0, 0.0])
    with pytest.raises(ValueError, match="inconsistent"):
        fg.lax.scan(lambda c, x: (c, x), 0.0, (np.ones(2), np.ones(3)))


def test_while_primitive_rules_forward_mode_and_batching():
    # The `while` primitive appears in jit graphs; evaluate such a graph under jvp and vmap.
    from funcgrad._src.jit import _eval_graph

    def f(x, k):
        return fg.lax.while_loop(lambda v: v[0] < 10.0,
                                 lambda v: (v[0] * k + 0.1, v[1] + 1.0), (x, 0.0))

    graph = fg.jit(f).lower(1.5, 1.5)
    assert [e.prim.name for e in graph.eqns] == ["while"]

    def ev(x, k):
        return _eval_graph(graph, [x, k])

    x, k = np.float64(1.5), np.float64(1.5)
    out_e, t_e = fg.jvp(f, (x, k), (np.float64(1.0), np.float64(0.0)))
    out_g, t_g = fg.jvp(ev, (x, k), (np.float64(1.0), np.float64(0.0)))
    np.testing.assert_allclose(t_g[0], t_e[0])
    np.testing.assert_allclose(out_g[0], out_e[0])
    xs = np.array([1.5, 3.0, 20.0])
    for got in (fg.vmap(ev, in_axes=(0, None))(xs, k),
                fg.jit(fg.vmap(ev, in_axes=(0, None)))(xs, k)):
        want = fg.vmap(f, in_axes=(0, None))(xs, k)
        np.testing.assert_allclose(got[0], want[0])
        np.testing.assert_allclose(got[1], want[1])
