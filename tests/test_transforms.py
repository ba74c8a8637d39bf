"""The transform algebra: grad, value_and_grad, vjp, jvp, jacrev, jacfwd, hessian, vmap,
custom_vjp, custom_jvp, checkpoint and stop_gradient — their argument handling, output
structures, compositions, dtype policy and error messages — compared with finite
differences, with each other, and with HIPS autograd where it is installed."""

from __future__ import annotations

import collections
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads, numerical_jvp
from funcgrad.tree_util import tree_leaves, tree_map, tree_structure

Point = collections.namedtuple("Point", ["x", "y"])


def f64(*xs):
    return [np.asarray(x, dtype=np.float64) for x in xs]


def rng(seed=0):
    return np.random.default_rng(seed)


def assert_tree_allclose(a, b, rtol=1e-7, atol=1e-9):
    assert tree_structure(a) == tree_structure(b), (tree_structure(a), tree_structure(b))
    for x, y in zip(tree_leaves(a), tree_leaves(b)):
        assert np.shape(x) == np.shape(y), (np.shape(x), np.shape(y))
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)


def assert_plain(tree):
    """Every leaf is a plain NumPy array: never a tracer, never a NumPy scalar."""
    for leaf in tree_leaves(tree):
        assert type(leaf) is np.ndarray, f"got a {type(leaf).__name__}: {leaf!r}"


def numerical_grad(f, x, eps=1e-6):
    """Central differences of scalar ``f`` at float64 array ``x``."""
    x = np.asarray(x, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        g[i] = (float(f(x + e)) - float(f(x - e))) / (2 * eps)
    return g


def numerical_jac(f, x, eps=1e-6):
    x = np.asarray(x, dtype=np.float64)
    cols = []
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * eps))
    out_shape = np.shape(cols[0])
    return np.stack(cols, axis=-1).reshape(out_shape + x.shape)


@pytest.fixture
def x64():
    """64-bit mode for one test, restored afterwards."""
    old = fg.config.read("enable_x64")
    fg.config.update("enable_x64", True)
    try:
        yield
    finally:
        fg.config.update("enable_x64", old)


# ---------------------------------------------------------------------------------------
# grad and value_and_grad
# ---------------------------------------------------------------------------------------


def _f3(x, y, z):
    return fnp.sum(fnp.sin(x) * y ** 2) + fnp.sum(fnp.exp(z) * x)


@pytest.mark.parametrize("argnums", [0, 1, 2, -1, (0,), (0, 2), (2, 0), (-1, 1)])
def test_grad_argnums(argnums):
    x, y, z = f64([0.3, -1.2], [0.7, 2.0], [0.1, 0.5])
    g = fg.grad(_f3, argnums=argnums)(x, y, z)
    args = [x, y, z]

    def num(i):
        i %= 3
        return numerical_grad(lambda v: _f3(*[v if k == i else a for k, a in enumerate(args)]),
                              args[i])

    if isinstance(argnums, int):
        assert_plain(g)
        np.testing.assert_allclose(g, num(argnums % 3), rtol=1e-6)
    else:
        assert isinstance(g, tuple) and len(g) == len(argnums)
        assert_plain(g)
        for gi, i in zip(g, argnums):
            np.testing.assert_allclose(gi, num(i), rtol=1e-6)


def test_value_and_grad_matches_grad_and_value():
    x, y, z = f64([0.3, -1.2], [0.7, 2.0], [0.1, 0.5])
    v, g = fg.value_and_grad(_f3, argnums=(0, 1))(x, y, z)
    assert_plain((v, g))
    assert v.shape == () and v.dtype == np.float64
    np.testing.assert_allclose(v, _f3(x, y, z))
    for a, b in zip(g, fg.grad(_f3, argnums=(0, 1))(x, y, z)):
        np.testing.assert_array_equal(a, b)


def test_grad_keyword_arguments_are_not_differentiated():
    def f(x, *, scale):
        return fnp.sum(x * scale)

    g = fg.grad(f)(np.ones(3), scale=np.arange(3.0))
    np.testing.assert_array_equal(g, np.arange(3.0))


def test_has_aux():
    def f(x):
        y = fnp.sin(x)
        return fnp.sum(y), {"y": y, "n": 3}

    x = np.array([0.1, 0.2])
    g, aux = fg.grad(f, has_aux=True)(x)
    np.testing.assert_allclose(g, np.cos(x))
    np.testing.assert_allclose(aux["y"], np.sin(x))
    assert aux["n"] == 3
    assert_plain(aux["y"])
    (v, aux2), g2 = fg.value_and_grad(f, has_aux=True)(x)
    np.testing.assert_allclose(v, np.sum(np.sin(x)))
    np.testing.assert_array_equal(g2, g)
    np.testing.assert_array_equal(aux2["y"], aux["y"])
    with pytest.raises(TypeError, match="pair"):
        fg.grad(lambda x: fnp.sum(x), has_aux=True)(x)


def test_pytree_arguments():
    params = {"w": np.array([[1.0, 2.0], [3.0, -1.0]]), "b": [np.array(0.5), None],
              "p": Point(np.array(2.0), (np.array([1.0, -1.0]),))}

    def loss(p):
        h = fnp.tanh(p["w"] @ p["p"].y[0] + p["b"][0])
        return fnp.sum(h ** 2) * p["p"].x

    g = fg.grad(loss)(params)
    assert tree_structure(g) == tree_structure(params)
    assert isinstance(g["p"], Point) and g["b"][1] is None
    assert_plain(g)
    flat, unravel = _ravel(params)
    num = numerical_grad(lambda v: loss(unravel(v)), flat)
    np.testing.assert_allclose(_ravel(g)[0], num, rtol=1e-6, atol=1e-9)


def _ravel(tree):
    leaves = tree_leaves(tree)
    shapes = [np.shape(v) for v in leaves]
    flat = np.concatenate([np.ravel(v) for v in leaves])

    def unravel(v):
        out, i = [], 0
        for s in shapes:
            n = int(np.prod(s))
            out.append(np.reshape(v[i:i + n], s))
            i += n
        it = iter(out)
        return tree_map(lambda _: next(it), tree)

    return flat, unravel


def test_pytree_outputs_of_vjp_and_jvp():
    def f(a, b):
        return {"s": fnp.sum(a * b), "pair": (a * 2.0, fnp.sin(b))}

    a, b = f64([1.0, 2.0], [0.5, -0.5])
    out, pull = fg.vjp(f, a, b)
    assert set(out) == {"s", "pair"} and isinstance(out["pair"], tuple)
    assert_plain(out)
    ct = {"s": np.array(1.0), "pair": (np.ones(2), np.ones(2))}
    ga, gb = pull(ct)
    np.testing.assert_allclose(ga, b + 2.0)
    np.testing.assert_allclose(gb, a + np.cos(b))
    p_out, t_out = fg.jvp(f, (a, b), (np.ones(2), np.zeros(2)))
    assert tree_structure(p_out) == tree_structure(t_out) == tree_structure(out)
    np.testing.assert_allclose(t_out["s"], np.sum(b))
    np.testing.assert_allclose(t_out["pair"][0], 2.0)
    np.testing.assert_allclose(t_out["pair"][1], 0.0)
    assert_plain((p_out, t_out))


def test_vjp_and_jvp_return_structures_and_orders():
    x, y = f64([1.0, 2.0], [3.0, 4.0])
    res = fg.vjp(lambda a, b: a * b, x, y)
    assert len(res) == 2
    out, pull = res
    cts = pull(np.ones(2))
    assert isinstance(cts, tuple) and len(cts) == 2
    np.testing.assert_array_equal(cts[0], y)
    np.testing.assert_array_equal(cts[1], x)
    out, pull, aux = fg.vjp(lambda a: (a * 2.0, "aux"), x, has_aux=True)
    assert aux == "aux" and len(pull(np.ones(2))) == 1
    res = fg.jvp(lambda a, b: a * b, (x, y), (np.ones(2), np.zeros(2)))
    assert isinstance(res, tuple) and len(res) == 2
    np.testing.assert_array_equal(res[0], x * y)
    np.testing.assert_array_equal(res[1], y)
    p, t, aux = fg.jvp(lambda a: (a ** 2, {"k": a}), (x,), (np.ones(2),), has_aux=True)
    np.testing.assert_array_equal(t, 2 * x)
    np.testing.assert_array_equal(aux["k"], x)
    assert_plain((p, t, aux))
    with pytest.raises(ValueError, match="structure"):
        pull = fg.vjp(lambda a, b: (a, b), x, y)[1]
        pull(np.ones(2))
    with pytest.raises(ValueError, match="shape"):
        fg.vjp(lambda a: a, x)[1](np.ones(3))
    with pytest.raises(ValueError, match="shape"):
        fg.jvp(lambda a: a, (x,), (np.ones(3),))
    with pytest.raises(TypeError, match="dtype"):
        fg.jvp(lambda a: a, (x,), (np.ones(2, np.float32),))
    with pytest.raises(TypeError, match="tuples or lists"):
        fg.jvp(lambda a: a, x, np.ones(2))


def test_linearize():
    x = np.array([0.3, 0.9])
    y, f_jvp = fg.linearize(fnp.sin, x)
    np.testing.assert_allclose(y, np.sin(x))
    np.testing.assert_allclose(f_jvp(np.array([1.0, 2.0])), np.cos(x) * [1.0, 2.0])
    assert_plain((y, f_jvp(np.ones(2))))
    y, f_jvp = fg.linearize(lambda v: v * 2.0, 1.0)  # Python scalars: float32 arrays
    assert type(y) is np.ndarray and y.dtype == np.float32
    assert f_jvp(1.0).dtype == np.float32


def test_linearize_evaluates_the_primal_once():
    """The linearized function replays only tangent operations: ``fun`` runs once for the
    output and once more when the linear function is first traced, never again."""
    calls = []

    def f(x, y):
        calls.append(1)
        return fnp.sin(x) * fnp.exp(y) + x @ y

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    out, f_jvp = fg.linearize(f, x, y)
    np.testing.assert_allclose(out, f(x, y))
    for _ in range(4):
        tx, ty = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
        np.testing.assert_allclose(f_jvp(tx, ty), fg.jvp(f, (x, y), (tx, ty))[1], rtol=1e-12)
    assert len(calls) == 2 + 1 + 4  # output, first trace, + the reference f and jvp calls
    eqns = str(fg.make_jaxpr(f_jvp)(x, y))
    assert "sin" not in eqns and "exp" not in eqns  # the primal parts are constants
    ts = rng.standard_normal((5, 3, 3))
    np.testing.assert_allclose(fg.vmap(f_jvp, in_axes=(0, None))(ts, y),
                               np.stack([f_jvp(t, y) for t in ts]), rtol=1e-12)
    with pytest.raises((TypeError, ValueError)):
        f_jvp(np.ones((2, 2)), y)  # a tangent of the wrong shape


def test_linearize_under_an_outer_transform():
    def g(a):
        y, f_jvp = fg.linearize(fnp.sin, a)
        return fnp.sum(f_jvp(a))  # = sum(cos(a) * a)

    a = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(fg.grad(g)(a), np.cos(a) - np.sin(a) * a, rtol=1e-12)
    check_grads(g, (a,), order=1)


# ---------------------------------------------------------------------------------------
# Jacobians and higher order
# ---------------------------------------------------------------------------------------


def _vec_fn(x):
    return fnp.stack([fnp.sum(x ** 2), x[0] * fnp.sin(x[1]), fnp.exp(x[2]) - x[0]])


@pytest.mark.parametrize("jac", [fg.jacrev, fg.jacfwd, fg.jacobian])
def test_jacobian_vs_finite_differences(jac):
    x = np.array([0.4, -1.1, 0.3])
    j = jac(_vec_fn)(x)
    assert_plain(j)
    assert j.shape == (3, 3)
    np.testing.assert_allclose(j, numerical_jac(_vec_fn, x), rtol=1e-6, atol=1e-8)


def test_jacobian_matrix_shapes():
    x = rng().standard_normal((2, 3))
    w = rng(1).standard_normal((3, 4))

    def f(x):
        return fnp.tanh(x @ w)

    jr, jf = fg.jacrev(f)(x), fg.jacfwd(f)(x)
    assert jr.shape == jf.shape == (2, 4, 2, 3)
    np.testing.assert_allclose(jr, jf, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(jr, numerical_jac(f, x), rtol=1e-6, atol=1e-8)
    # scalar input and output
    np.testing.assert_allclose(fg.jacrev(fnp.sin)(np.array(0.5)), np.cos(0.5))
    assert fg.jacfwd(fnp.sin)(np.array(0.5)).shape == ()


def test_jacobians_with_pytrees_agree():
    def f(p, c):
        return {"u": p["a"] * c[0], "v": (fnp.sum(p["b"] ** 2), fnp.sin(p["a"]) * c[1])}

    p = {"a": np.array([0.5, 1.5]), "b": np.array([[1.0, 2.0]])}
    c = (np.array(2.0), np.array([1.0, -1.0]))
    jr = fg.jacrev(f, argnums=(0, 1))(p, c)
    jf = fg.jacfwd(f, argnums=(0, 1))(p, c)
    assert_tree_allclose(jr, jf)
    assert_plain(jr)
    # Output structure of input structures: jr["u"] is (d/dp, d/dc).
    assert jr["u"][0]["a"].shape == (2, 2) and jr["u"][0]["b"].shape == (2, 1, 2)
    assert jr["u"][1][0].shape == (2,) and jr["v"][0][0]["b"].shape == (1, 2)
    np.testing.assert_allclose(jr["u"][0]["a"], np.diag([2.0, 2.0]))
    np.testing.assert_allclose(jr["v"][1][0]["a"], np.diag(np.cos(p["a"]) * c[1]))


def test_hessian_three_ways():
    def f(x):
        return fnp.sum(fnp.sin(x) * x[::-1] ** 2) + x[0] * x[1] * x[2]

    x = np.array([0.3, -0.7, 1.1])
    h = fg.hessian(f)(x)
    assert_plain(h)
    assert h.shape == (3, 3)
    np.testing.assert_allclose(h, h.T, atol=1e-12)
    np.testing.assert_allclose(h, fg.jacfwd(fg.jacrev(f))(x), atol=1e-12)
    np.testing.assert_allclose(h, fg.jacrev(fg.jacrev(f))(x), atol=1e-12)
    np.testing.assert_allclose(h, fg.jacfwd(fg.jacfwd(f))(x), atol=1e-12)
    np.testing.assert_allclose(h, fg.jacrev(fg.grad(f))(x), atol=1e-12)
    np.testing.assert_allclose(h, numerical_jac(fg.grad(f), x), rtol=1e-6, atol=1e-7)


def test_hessian_pytree():
    def f(d):
        return fnp.sum(d["a"] ** 2 * d["b"])

    d = {"a": np.array([1.0, 2.0]), "b": np.array([3.0, 4.0])}
    h = fg.hessian(f)(d)
    np.testing.assert_allclose(h["a"]["a"], np.diag(2 * d["b"]))
    np.testing.assert_allclose(h["a"]["b"], np.diag(2 * d["a"]))
    np.testing.assert_allclose(h["b"]["b"], np.zeros((2, 2)))


def test_grad_of_grad_to_order_three():
    x = np.array(0.7)
    d1 = fg.grad(fnp.sin)
    d2 = fg.grad(d1)
    d3 = fg.grad(d2)
    np.testing.assert_allclose(d1(x), np.cos(x))
    np.testing.assert_allclose(d2(x), -np.sin(x))
    np.testing.assert_allclose(d3(x), -np.cos(x))
    assert_plain((d1(x), d2(x), d3(x)))
    # a polynomial: exact
    p = fg.grad(fg.grad(fg.grad(lambda x: x ** 4 + 3.0 * x ** 3)))
    np.testing.assert_allclose(p(np.array(2.0)), 24 * 2.0 + 18.0)
    # forward over reverse over forward
    mixed = fg.grad(lambda x: fg.jvp(fg.grad(fnp.tanh), (x,), (np.ones(()),))[1])
    t = np.tanh(x)
    np.testing.assert_allclose(mixed(x), -2 * (1 - t**2) ** 2 + 4 * t**2 * (1 - t**2))


@given(st.floats(-2, 2), st.floats(0.5, 2))
def test_higher_order_check_grads(a, b):
    check_grads(lambda x, y: fnp.sin(x * y) * fnp.log(y) + x ** 3 / y,
                (np.array(a), np.array(b)), order=3, modes=("fwd", "rev"))


# ---------------------------------------------------------------------------------------
# vmap with grad
# ---------------------------------------------------------------------------------------


def _loss(w, x, y):
    return (fnp.tanh(fnp.dot(x, w)) - y) ** 2


def test_per_example_gradients():
    r = rng()
    w, xs, ys = r.standard_normal(3), r.standard_normal((5, 3)), r.standard_normal(5)
    got = fg.vmap(fg.grad(_loss), in_axes=(None, 0, 0))(w, xs, ys)
    want = np.stack([fg.grad(_loss)(w, xs[i], ys[i]) for i in range(5)])
    assert_plain(got)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # the value too, and per-example Jacobians and Hessians
    v, g = fg.vmap(fg.value_and_grad(_loss), in_axes=(None, 0, 0))(w, xs, ys)
    np.testing.assert_allclose(v, [_loss(w, xs[i], ys[i]) for i in range(5)])
    h = fg.vmap(fg.hessian(_loss), in_axes=(None, 0, 0))(w, xs, ys)
    np.testing.assert_allclose(h[2], fg.hessian(_loss)(w, xs[2], ys[2]), rtol=1e-10)


def test_grad_of_vmap():
    r = rng(2)
    w, xs, ys = r.standard_normal(3), r.standard_normal((4, 3)), r.standard_normal(4)

    def total(w):
        return fnp.sum(fg.vmap(_loss, in_axes=(None, 0, 0))(w, xs, ys))

    g = fg.grad(total)(w)
    want = sum(fg.grad(_loss)(w, xs[i], ys[i]) for i in range(4))
    np.testing.assert_allclose(g, want, rtol=1e-12)
    np.testing.assert_allclose(fg.jacfwd(total)(w), want, rtol=1e-12)


def test_vmap_of_jvp_and_vjp():
    xs = rng(3).standard_normal((4, 2))
    ts = rng(4).standard_normal((4, 2))
    got = fg.vmap(lambda x, t: fg.jvp(fnp.sin, (x,), (t,))[1])(xs, ts)
    np.testing.assert_allclose(got, np.cos(xs) * ts)
    got = fg.vmap(lambda x, c: fg.vjp(fnp.exp, x)[1](c)[0])(xs, ts)
    np.testing.assert_allclose(got, np.exp(xs) * ts)


# ---------------------------------------------------------------------------------------
# vmap: axes, nesting and errors
# ---------------------------------------------------------------------------------------


def test_vmap_in_axes_pytree_prefix_and_out_axes():
    r = rng(5)
    d = {"a": r.standard_normal((3, 2)), "b": r.standard_normal((2, 3))}
    c = r.standard_normal(2)

    def f(d, c):
        return {"s": d["a"] * c + d["b"], "t": fnp.sum(d["a"])}

    out = fg.vmap(f, in_axes=({"a": 0, "b": 1}, None), out_axes={"s": 1, "t": 0})(d, c)
    assert out["s"].shape == (2, 3) and out["t"].shape == (3,)
    for i in range(3):
        np.testing.assert_allclose(out["s"][:, i], d["a"][i] * c + d["b"][:, i])
        np.testing.assert_allclose(out["t"][i], np.sum(d["a"][i]))
    # a list for in_axes behaves as a tuple
    out2 = fg.vmap(f, in_axes=[{"a": 0, "b": 1}, None], out_axes={"s": 1, "t": 0})(d, c)
    np.testing.assert_array_equal(out2["s"], out["s"])


def test_vmap_negative_axes():
    x = rng(6).standard_normal((2, 3, 4))
    got = fg.vmap(lambda v: fnp.sum(v ** 2, axis=0), in_axes=-1, out_axes=-1)(x)
    np.testing.assert_allclose(got, np.sum(x ** 2, axis=0))
    got = fg.vmap(lambda v: v[0], in_axes=-2)(x)
    np.testing.assert_allclose(got, np.moveaxis(x, -2, 0)[:, 0])


def test_nested_vmap():
    a = rng(7).standard_normal((3, 4))
    b = rng(8).standard_normal((5, 4))
    outer = fg.vmap(fg.vmap(lambda u, v: fnp.dot(u, v), in_axes=(None, 0)), in_axes=(0, None))
    np.testing.assert_allclose(outer(a, b), a @ b.T, rtol=1e-12)
    # in_axes along different axes at both levels
    x = rng(9).standard_normal((2, 3, 4))
    got = fg.vmap(fg.vmap(fnp.sum, in_axes=1), in_axes=2)(x)
    np.testing.assert_allclose(got, np.sum(x, axis=0).T)


def test_vmap_axis_size_and_unmapped_outputs():
    out = fg.vmap(lambda: fnp.ones(2), in_axes=(), axis_size=3)()
    np.testing.assert_array_equal(out, np.ones((3, 2)))
    x = np.arange(3.0)
    out = fg.vmap(lambda v, c: c * 2.0, in_axes=(0, None))(x, np.array(5.0))
    np.testing.assert_array_equal(out, [10.0, 10.0, 10.0])
    y, c = fg.vmap(lambda v: (v * 2.0, np.array(1.0)), out_axes=(0, None))(x)
    np.testing.assert_array_equal(c, 1.0)
    assert_plain((out, y, c))
    with pytest.raises(ValueError, match="out_axes is None"):
        fg.vmap(lambda v: v, out_axes=None)(x)


def test_vmap_errors():
    with pytest.raises(ValueError, match=r"inconsistent sizes.*size 3.*size 4"):
        fg.vmap(lambda a, b: a + b)(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match=r"axis 2.*rank.*at least 3.*only 2"):
        fg.vmap(lambda a: a, in_axes=2)(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"axis -3"):
        fg.vmap(lambda a: a, in_axes=-3)(np.ones((2, 2)))
    with pytest.raises(ValueError, match="at least one non-None"):
        fg.vmap(lambda a: a, in_axes=None)(np.ones(2))
    with pytest.raises(ValueError, match="tree prefix"):
        fg.vmap(lambda a, b: a, in_axes=(0,))(np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="axis_size=5"):
        fg.vmap(lambda a: a, axis_size=5)(np.ones(2))


def test_vmap_python_control_flow_on_batched_value_raises():
    with pytest.raises(fg.ConcretizationTypeError, match="vmap"):
        fg.vmap(lambda v: v if v > 0 else -v)(np.array([1.0, -1.0]))


# ---------------------------------------------------------------------------------------
# Perturbation confusion
# ---------------------------------------------------------------------------------------


def test_perturbation_confusion_grad():
    # d/dx [ d/dy (x * y) ] = d/dx x = 1, not 2
    g = fg.grad(lambda x: fg.grad(lambda y: x * y)(x))(np.array(2.0))
    np.testing.assert_allclose(g, 1.0)
    g = fg.grad(lambda x: x * fg.grad(lambda y: x * y)(np.array(3.0)))(np.array(2.0))
    np.testing.assert_allclose(g, 4.0)


def test_siskind_pearlmutter():
    # D[x -> x * D[y -> x + y](1)](1) == 1 (a confused implementation gives 2)
    def d(f):
        return fg.grad(f)

    np.testing.assert_allclose(d(lambda x: x * d(lambda y: x + y)(np.array(1.0)))(
        np.array(1.0)), 1.0)

    def dfwd(f):
        return lambda x: fg.jvp(f, (x,), (np.ones_like(x),))[1]

    np.testing.assert_allclose(dfwd(lambda x: x * dfwd(lambda y: x + y)(np.array(1.0)))(
        np.array(1.0)), 1.0)
    # mixed modes
    np.testing.assert_allclose(d(lambda x: x * dfwd(lambda y: x + y)(np.array(1.0)))(
        np.array(1.0)), 1.0)
    np.testing.assert_allclose(dfwd(lambda x: x * d(lambda y: x + y)(np.array(1.0)))(
        np.array(1.0)), 1.0)


def test_perturbation_confusion_vmap():
    # vmap inside grad over a closed-over traced value: each level keeps its own tracers
    x = np.array([1.0, 2.0, 3.0])
    g = fg.grad(lambda s: fnp.sum(fg.vmap(lambda v: v * s)(x)))(np.array(2.0))
    np.testing.assert_allclose(g, x.sum())
    g = fg.vmap(lambda v: fg.grad(lambda s: v * s * s)(v))(x)
    np.testing.assert_allclose(g, 2 * x * x)


# ---------------------------------------------------------------------------------------
# custom_vjp, custom_jvp, checkpoint, stop_gradient
# ---------------------------------------------------------------------------------------


@fg.custom_vjp
def clip_grad(x, lo, hi):
    return x


def _clip_fwd(x, lo, hi):
    return x, (lo, hi)


def _clip_bwd(res, g):
    lo, hi = res
    return (fnp.clip(g, lo, hi), None, None)


clip_grad.defvjp(_clip_fwd, _clip_bwd)


def test_custom_vjp_basic():
    x = np.array([1.0, 2.0])
    f = lambda x: fnp.sum(10.0 * clip_grad(x, -1.0, 1.0) ** 2)  # noqa: E731
    np.testing.assert_allclose(f(x), 50.0)
    np.testing.assert_allclose(fg.grad(f)(x), [1.0, 1.0])
    # vjp wrt every argument: None cotangents are zeros
    _, pull = fg.vjp(clip_grad, x, np.array(-1.0), np.array(1.0))
    gx, glo, ghi = pull(np.array([5.0, -0.5]))
    np.testing.assert_array_equal(gx, [1.0, -0.5])
    np.testing.assert_array_equal(glo, 0.0)


def test_custom_vjp_nondiff_argnums():
    def _f(fun, x):
        return fun(x)

    f = fg.custom_vjp(_f, nondiff_argnums=(0,))
    f.defvjp(lambda fun, x: (fun(x), x), lambda fun, x, g: (g * 3.0,))
    np.testing.assert_allclose(fg.grad(lambda x: f(fnp.sin, x))(np.array(0.5)), 3.0)
    np.testing.assert_allclose(f(fnp.sin, np.array(0.5)), np.sin(0.5))
    with pytest.raises(TypeError, match="nondiff_argnums"):
        g = fg.custom_vjp(lambda s, x: s * x, nondiff_argnums=(0,))
        g.defvjp(lambda s, x: (s * x, None), lambda s, r, ct: (ct * s,))
        fg.grad(lambda s: g(s, np.array(1.0)))(np.array(2.0))


def test_custom_vjp_pytree_args_and_outputs():
    @fg.custom_vjp
    def f(d, t):
        return {"p": d["a"] * t[0], "q": t[1]}

    def fwd(d, t):
        return f(d, t), (d, t)

    def bwd(res, g):
        d, t = res
        return ({"a": g["p"] * t[0] * 2.0}, (fnp.sum(g["p"] * d["a"]), g["q"]))

    f.defvjp(fwd, bwd)
    d, t = {"a": np.array([1.0, 2.0])}, (np.array(3.0), np.array([4.0]))
    gd, gt = fg.grad(lambda d, t: fnp.sum(f(d, t)["p"]) + fnp.sum(f(d, t)["q"]),
                     argnums=(0, 1))(d, t)
    np.testing.assert_allclose(gd["a"], [6.0, 6.0])
    np.testing.assert_allclose(gt[0], 3.0)
    np.testing.assert_allclose(gt[1], [1.0])


def test_custom_vjp_bwd_wrong_structure_raises():
    f = fg.custom_vjp(lambda x, y: x * y)
    f.defvjp(lambda x, y: (x * y, (x, y)), lambda r, g: (g * r[1],))
    with pytest.raises(TypeError, match="1 cotangents.*2 differentiable"):
        fg.grad(f)(np.array(1.0), np.array(2.0))
    f.defvjp(lambda x, y: (x * y, (x, y)), lambda r, g: [g, {"oops": g}])
    with pytest.raises(TypeError, match="structure"):
        fg.grad(f)(np.array(1.0), np.array(2.0))
    f.defvjp(lambda x, y: (x * y, (x, y)), lambda r, g: (np.ones(3), g))
    with pytest.raises(ValueError, match="shape"):
        fg.grad(f)(np.array(1.0), np.array(2.0))
    f.defvjp(lambda x, y: x * y, lambda r, g: (g, g))
    with pytest.raises(TypeError, match="pair"):
        fg.grad(f)(np.array(1.0), np.array(2.0))
    with pytest.raises(AttributeError, match="defvjp"):
        fg.grad(fg.custom_vjp(lambda x: x))(np.array(1.0))


def test_custom_vjp_under_vmap():
    xs = np.array([[0.5, 3.0], [-4.0, 0.1]])
    f = lambda x: fnp.sum(10.0 * clip_grad(x, -1.0, 1.0))  # noqa: E731
    got = fg.vmap(fg.grad(f))(xs)
    np.testing.assert_allclose(got, np.ones_like(xs))
    np.testing.assert_allclose(fg.vmap(lambda x: clip_grad(x, -1.0, 1.0))(xs), xs)
    # grad of vmap: the custom rule survives batching
    g = fg.grad(lambda x: fnp.sum(fg.vmap(lambda r: 10.0 * clip_grad(r, -1.0, 1.0))(x)))(xs)
    np.testing.assert_allclose(g, np.ones_like(xs))
    # with an unbatched argument
    g = fg.grad(lambda x: fnp.sum(fg.vmap(lambda r, lo: 10.0 * clip_grad(r, lo, 1.0),
                                          in_axes=(0, None))(x, np.array(-2.0))))(xs)
    np.testing.assert_allclose(g, np.ones_like(xs))


def test_custom_vjp_forward_mode_uses_primal():
    # jvp differentiates the primal definition (documented; JAX refuses)
    t = fg.jvp(lambda x: clip_grad(x, -1.0, 1.0) * 5.0, (np.array(2.0),), (np.array(1.0),))[1]
    np.testing.assert_allclose(t, 5.0)


@fg.custom_jvp
def softplus(x):
    return fnp.log1p(fnp.exp(x))


@softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return softplus(x), t * fnp.tanh(x) * 0.0 + t / (1.0 + fnp.exp(-x))


def test_custom_jvp():
    x = np.array([-1.0, 0.5, 2.0])
    sig = 1 / (1 + np.exp(-x))
    p, t = fg.jvp(softplus, (x,), (np.ones(3),))
    np.testing.assert_allclose(p, np.log1p(np.exp(x)))
    np.testing.assert_allclose(t, sig)
    # reverse mode by transposing the custom JVP
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(softplus(x)))(x), sig)
    np.testing.assert_allclose(fg.vmap(fg.grad(softplus))(x), sig)
    np.testing.assert_allclose(fg.grad(fg.grad(lambda x: softplus(x)))(x[1]),
                               sig[1] * (1 - sig[1]))
    np.testing.assert_allclose(fg.vmap(softplus)(x), np.log1p(np.exp(x)))


def test_custom_jvp_rule_is_used():
    f = fg.custom_jvp(lambda x: fnp.sin(x))
    f.defjvp(lambda p, t: (fnp.sin(p[0]), 2.0 * t[0]))
    np.testing.assert_allclose(fg.grad(f)(np.array(0.3)), 2.0)
    np.testing.assert_allclose(fg.jvp(f, (np.array(0.3),), (np.array(1.5),))[1], 3.0)
    f2 = fg.custom_jvp(lambda x, y: x * y)
    f2.defjvps(lambda t, ans, x, y: t * 10.0, None)
    np.testing.assert_allclose(fg.grad(f2, argnums=(0, 1))(np.array(2.0), np.array(3.0)),
                               (10.0, 0.0))


def test_checkpoint_same_gradients():
    def block(x, w):
        return fnp.tanh(fnp.sin(x * w) + x)

    x, w = np.array([0.2, -0.4, 1.0]), np.array(1.5)

    def plain(x, w):
        return fnp.sum(block(block(x, w), w))

    def remat(x, w):
        return fnp.sum(fg.checkpoint(block)(fg.remat(block)(x, w), w))

    np.testing.assert_allclose(remat(x, w), plain(x, w))
    for a, b in zip(fg.grad(remat, (0, 1))(x, w), fg.grad(plain, (0, 1))(x, w)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_allclose(fg.hessian(remat)(x, w), fg.hessian(plain)(x, w), rtol=1e-10)
    np.testing.assert_allclose(fg.vmap(fg.grad(remat), in_axes=(0, None))(np.stack([x, x]), w),
                               np.stack([fg.grad(plain)(x, w)] * 2), rtol=1e-12)


def test_checkpoint_static_argnums_and_kwargs():
    x = np.array([0.3, 0.7])
    f = fg.checkpoint(lambda x, act, n: act(x) ** n, static_argnums=(1, 2))
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(f(x, fnp.sin, 3)))(x),
                               3 * np.sin(x) ** 2 * np.cos(x))
    g = fg.checkpoint(lambda x, scale=1.0: x * scale)
    gx, gs = fg.grad(lambda x, s: fnp.sum(g(x, scale=s)), argnums=(0, 1))(x, np.array(3.0))
    np.testing.assert_allclose(gx, [3.0, 3.0])
    np.testing.assert_allclose(gs, x.sum())
    with pytest.raises(ValueError, match="static_argnums"):
        fg.checkpoint(lambda x: x, static_argnums=(3,))(x)


def test_stop_gradient():
    x = np.array([1.0, 2.0])
    g = fg.grad(lambda x: fnp.sum(x * fg.stop_gradient(x)))(x)
    np.testing.assert_array_equal(g, x)
    t = fg.jvp(lambda x: fg.stop_gradient(x) * 3.0, (x,), (np.ones(2),))[1]
    np.testing.assert_array_equal(t, 0.0)
    tree = fg.stop_gradient({"a": x, "b": [x]})
    assert tree_structure(tree) == tree_structure({"a": 0, "b": [0]})
    h = fg.hessian(lambda x: fnp.sum(fg.stop_gradient(x ** 2) * x ** 2))(x)
    np.testing.assert_allclose(h, np.diag(2 * x ** 2))
    np.testing.assert_array_equal(fg.vmap(fg.grad(lambda v: fg.stop_gradient(v) * v))(x), x)


# ---------------------------------------------------------------------------------------
# dtype policy
# ---------------------------------------------------------------------------------------


def test_python_scalars_are_float32():
    g = fg.grad(lambda x: x * x)(3.0)
    assert g.dtype == np.float32 and type(g) is np.ndarray
    v, g = fg.value_and_grad(lambda x: fnp.sin(x) * 2.0)(1.0)
    assert v.dtype == g.dtype == np.float32
    assert fg.vmap(lambda x: x * 2.0)(np.arange(3.0, dtype=np.float32)).dtype == np.float32
    assert fg.jacfwd(lambda x: x * 2.0)(1.0).dtype == np.float32
    assert fg.jvp(fnp.sin, (1.0,), (1.0,))[1].dtype == np.float32
    assert fnp.array([1.0, 2.0]).dtype == np.float32
    assert fnp.arange(3).dtype == np.int32


def test_float64_stays_float64():
    x = np.array([1.0, 2.0])
    assert fg.grad(lambda x: fnp.sum(x * 2.0))(x).dtype == np.float64
    assert fg.jacrev(lambda x: x * 2.0)(x).dtype == np.float64
    assert fg.vmap(lambda x: x * 2.0)(x).dtype == np.float64


def test_gradient_has_the_input_dtype():
    x32 = np.array([1.0, 2.0], np.float32)
    c64 = np.array([3.0, 4.0])
    # float64 constants promote the computation; the gradient is still float32
    g = fg.grad(lambda x: fnp.sum(x * c64))(x32)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, c64)
    # also under an outer transform
    h = fg.jacfwd(fg.grad(lambda x: fnp.sum(x ** 2 * c64)))(x32)
    assert h.dtype == np.float32
    g = fg.vmap(fg.grad(lambda x: x * c64[0]))(x32)
    assert g.dtype == np.float32
    # a real input promoted to complex: the gradient is real
    g = fg.grad(lambda x: fnp.real(fnp.sum(fnp.exp(1j * x))))(np.array([0.3, 0.5]))
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, -np.sin([0.3, 0.5]))


def test_x64_mode(x64):
    g = fg.grad(lambda x: x * x)(3.0)
    assert g.dtype == np.float64
    assert fnp.array([1.0]).dtype == np.float64 and fnp.arange(2).dtype == np.int64
    assert fnp.zeros(2).dtype == np.float64


def test_x64_restored():
    assert not fg.config.read("enable_x64")
    assert fg.grad(lambda x: x * x)(3.0).dtype == np.float32


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------


def test_grad_of_non_scalar_output():
    with pytest.raises(TypeError, match=r"Gradient only defined for scalar-output functions\. "
                                        r"Output had shape: \(2,\)"):
        fg.grad(lambda x: x * 2.0)(np.ones(2))
    with pytest.raises(TypeError, match="scalar"):
        fg.grad(lambda x: (x, x))(np.array(1.0))
    with pytest.raises(TypeError, match="real-valued outputs"):
        fg.grad(lambda x: x * 1j)(np.array(1.0))


def test_integer_inputs():
    msg = (r"grad requires real- or complex-valued inputs \(input dtype that is a sub-dtype "
           r"of np.inexact\), but got int32. If you want to use Integer-valued inputs, use vjp "
           r"or set allow_int to True.")
    with pytest.raises(TypeError, match=msg):
        fg.grad(lambda x: x * 2.0)(np.array(3, np.int32))
    with pytest.raises(TypeError, match="jacrev requires real- or complex-valued inputs"):
        fg.jacrev(lambda x: x * 2.0)(np.array([3], np.int32))
    g = fg.grad(lambda x, i: fnp.sum(x[i]), argnums=(0, 1), allow_int=True)(
        np.array([1.0, 2.0]), np.array([1, 1]))
    np.testing.assert_array_equal(g[0], [0.0, 2.0])
    assert g[1].dtype == fg.float0 and g[1].shape == (2,)
    # vjp treats integer inputs as constants, with float0 cotangents
    _, pull = fg.vjp(lambda x, n: x * n, np.array(2.0), np.array(3))
    gx, gn = pull(np.array(1.0))
    np.testing.assert_array_equal(gx, 3.0)
    assert gn.dtype == fg.float0


def test_argnums_out_of_range():
    with pytest.raises(TypeError, match=r"argnums=\(0, 5\) requires at least 6 positional "
                                        r"arguments to be passed by the caller, but got only 2"):
        fg.grad(lambda x, y: x * y, argnums=(0, 5))(np.array(1.0), np.array(2.0))
    with pytest.raises(TypeError, match="argnums"):
        fg.grad(lambda x: x, argnums=1)(np.array(1.0))
    with pytest.raises(TypeError, match="argnums"):
        fg.jacfwd(lambda x: x, argnums=-2)(np.array(1.0))


def test_leaked_tracer():
    box = []

    def f(x):
        box.append(x * 2.0)
        return fnp.sum(x)

    fg.grad(f)(np.ones(2))
    with pytest.raises(fg.UnexpectedTracerError, match="leaked"):
        fnp.sin(box[0])
    with pytest.raises(fg.UnexpectedTracerError):
        box[0] + 1.0
    fg.vmap(lambda x: box.append(x) or x)(np.ones(2))
    with pytest.raises(fg.UnexpectedTracerError):
        fnp.exp(box[-1])
    fg.jvp(lambda x: box.append(x) or x, (np.ones(2),), (np.ones(2),))
    with pytest.raises(fg.UnexpectedTracerError):
        box[-1] * box[-1]


def test_concretization_errors():
    with pytest.raises(fg.ConcretizationTypeError, match="float"):
        fg.grad(lambda x: float(x) * x)(np.array(1.0))
    with pytest.raises(fg.ConcretizationTypeError, match=r"item\(\)"):
        fg.grad(lambda x: x.item())(np.array(1.0))
    with pytest.raises(fg.ConcretizationTypeError):
        fg.jvp(lambda x: int(x), (np.array(1.0),), (np.array(1.0),))
    # bool() of a differentiated value is fine: control flow on it does not lose gradients
    np.testing.assert_allclose(fg.grad(lambda x: x * 2.0 if x > 0 else -x)(np.array(1.0)), 2.0)


def test_numpy_functions_on_tracers():
    x = np.array([0.3, 0.6])
    g = fg.grad(lambda x: np.sum(np.sin(x) * np.exp(x)))(x)
    np.testing.assert_allclose(g, np.cos(x) * np.exp(x) + np.sin(x) * np.exp(x))
    g = fg.grad(lambda x: np.dot(x, x))(x)
    np.testing.assert_allclose(g, 2 * x)
    got = fg.vmap(lambda v: np.maximum(v, 0.4))(x)
    np.testing.assert_allclose(got, [0.4, 0.6])
    np.testing.assert_allclose(fg.grad(lambda x: np.sum(np.ones(2) * x))(x), 1.0)
    missing = next(n for n in ("histogram", "lexsort", "unwrap", "polyfit", "busday_count",
                                "histogram_bin_edges") if not hasattr(fnp, n))
    with pytest.raises(TypeError, match=rf"numpy\.{missing}.*funcgrad\.numpy"):
        fg.grad(lambda x: np.sum(getattr(np, missing)(x)))(x)
    with pytest.raises(TypeError, match="funcgrad.numpy"):
        fg.grad(lambda x: np.sum(np.add.reduce(x)))(x)
    with pytest.raises(TypeError, match="funcgrad.numpy"):
        fg.grad(lambda x: fnp.sum(np.asarray(x)))(x)
    with pytest.raises(TypeError, match="funcgrad.numpy"):
        fg.vmap(lambda x: np.array(x))(x)


def test_in_place_assignment_points_to_at():
    def f(x):
        x[0] = 1.0
        return fnp.sum(x)

    with pytest.raises(TypeError, match=r"immutable.*\.at\[idx\]\.set"):
        fg.grad(f)(np.ones(2))
    with pytest.raises(TypeError, match=r"\.at\["):
        fg.vmap(f)(np.ones((2, 2)))


def test_shape_mismatch_message_names_op_and_shapes():
    for fn, name in [(fnp.add, "add"), (fnp.multiply, "multiply"), (fnp.maximum, "maximum")]:
        with pytest.raises(ValueError, match=rf"{name}.*\(3,\).*\(4,\)"):
            fg.grad(lambda x: fnp.sum(fn(x, np.ones(4))))(np.ones(3))
        with pytest.raises(ValueError, match=rf"{name}.*\(3,\).*\(4,\)"):
            fn(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match=r"where.*\(3,\).*\(2,\)"):
        fg.grad(lambda x: fnp.sum(fnp.where(x > 0, x, np.ones(2))))(np.ones(3))
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(2, 3\)"):
        fg.grad(lambda x: fnp.sum(x @ x))(np.ones((2, 3)))


# ---------------------------------------------------------------------------------------
# Outputs, integer-valued ops, indexing
# ---------------------------------------------------------------------------------------


def test_every_transform_returns_plain_arrays():
    x = np.array(0.5)
    xs = np.array([0.5, 1.5])

    def f(v):
        return fnp.sum(fnp.sin(v))

    outs = [
        fg.grad(f)(x), fg.value_and_grad(f)(x), fg.vjp(f, x)[0], fg.vjp(f, x)[1](np.array(1.0)),
        fg.jvp(f, (x,), (x,)), fg.jacrev(f)(x), fg.jacfwd(f)(x), fg.hessian(f)(x),
        fg.vmap(f)(xs), fg.vmap(lambda v: v[0])(xs[:, None]), fg.linearize(f, x)[0],
        fg.linearize(f, x)[1](x), fg.grad(lambda v: v)(np.float32(1.0)),
        fg.vmap(fg.grad(f))(xs), fg.grad(f)(1.0), fg.vmap(lambda v: fnp.argmax(v))(xs[:, None]),
        fg.jvp(lambda v: v > 0, (x,), (x,)), fg.vjp(lambda v: fnp.argmax(v), xs)[0],
        fg.checkpoint(f)(x), fg.grad(fg.checkpoint(f))(x), fg.grad(softplus)(x),
        fg.grad(lambda v: clip_grad(v, -1.0, 1.0))(x),
    ]
    for o in outs:
        assert_plain(o)
    # eager funcgrad.numpy on 0-d inputs gives 0-d arrays too
    for o in [fnp.sin(x), fnp.sum(xs), fnp.max(xs), fnp.sin(xs[0]), fnp.dot(xs, xs),
              fnp.mean(xs), fnp.argmax(xs), fnp.where(True, 1.0, 2.0), fnp.clip(x, 0, 1),
              fnp.einsum("i,i->", xs, xs), fnp.real(x), x.astype(np.float32)]:
        assert_plain(o)


def test_integer_valued_ops_carry_no_gradient():
    x = np.array([0.5, 2.0, -1.0])

    def f(x):
        i = fnp.argmax(x)  # an integer array: no gradient flows through it
        mask = x > 0
        n = fnp.sum(mask)
        return x[i] * n + fnp.sum(fnp.where(mask, x, 0.0)) + fnp.floor(x[0]) + fnp.sign(x[1])

    g = fg.grad(f)(x)
    np.testing.assert_allclose(g, [1.0, 3.0, 0.0])
    t = fg.jvp(lambda x: fnp.argmax(x), (x,), (np.ones(3),))[1]
    assert t.shape == () and not np.any(t)
    h = fg.hessian(f)(x)
    np.testing.assert_allclose(h, np.zeros((3, 3)))


def test_indexing_gradients_scatter_add():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    w = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
    idx = np.array([0, 0, 2, 0, 3])
    g = fg.grad(lambda x: fnp.sum(x[idx] * w))(x)
    np.testing.assert_allclose(g, [10 + 20 + 40, 0, 30, 50])
    # traced integer indices (from vmap) and 2-d fancy indexing
    m = np.arange(12.0).reshape(3, 4)
    g = fg.grad(lambda m: fnp.sum(m[[0, 0, 2], [1, 1, 3]] * np.array([1.0, 2.0, 3.0])))(m)
    want = np.zeros((3, 4))
    want[0, 1], want[2, 3] = 3.0, 3.0
    np.testing.assert_allclose(g, want)
    g = fg.grad(lambda x: fnp.sum(fg.vmap(lambda i: x[i] ** 2)(np.array([1, 1, 3]))))(x)
    np.testing.assert_allclose(g, [0.0, 2 * 2 * 2.0, 0.0, 2 * 4.0])
    g = fg.grad(lambda x: fnp.sum(fnp.take_along_axis(x, np.array([[0, 0]]), 1)))(m[:1])
    np.testing.assert_allclose(g, [[2.0, 0.0, 0.0, 0.0]])
    # basic slices: no repeated elements, cotangent placed into zeros
    g = fg.grad(lambda m: fnp.sum(m[1:, ::-2] * 2.0))(m)
    want = np.zeros((3, 4))
    want[1:, ::-2] = 2.0
    np.testing.assert_allclose(g, want)


def test_tracer_array_interface():
    seen = {}

    def f(x):
        seen.update(shape=x.shape, ndim=x.ndim, dtype=x.dtype, size=x.size, len=len(x),
                    rows=[r.shape for r in x], T=x.T.shape, repr=repr(x))
        y = x.T.reshape(-1).reshape((3, 2)).reshape(2, 3)
        z = fnp.real(y.astype(np.complex128)).astype(np.float64)
        parts = [row.sum() for row in x]
        return (x.sum() + x.mean() + y.max() + z.min() + x.var() + x.std() + sum(parts)
                + x.ravel()[1] + x.flatten()[2] + x.transpose().T[0, 0] + x.swapaxes(0, 1)[1, 0]
                + (x @ x.T).sum() + x.dot(x.T).sum() - abs(-x).sum() + (+x)[0, 0]
                + x.clip(0.0, 5.0).sum() + (x ** 2).sum() + (2.0 ** x).sum()
                + (x // 1.0).sum() + (x % 2.0).sum() + x.squeeze().sum() + x.real.sum()
                + x.conj().sum() + x.conjugate().sum() + x.mT.sum())

    x = (np.arange(6.0).reshape(2, 3) + 0.5) / 3.3  # away from the kinks of //, %
    g = fg.grad(f)(x)
    assert seen["shape"] == (2, 3) and seen["ndim"] == 2 and seen["dtype"] == np.float64
    assert seen["size"] == 6 and seen["len"] == 2 and seen["rows"] == [(3,), (3,)]
    assert seen["T"] == (3, 2) and "shape=(2, 3)" in seen["repr"]
    np.testing.assert_allclose(g, numerical_grad(f, x), rtol=1e-5, atol=1e-6)
    g32 = fg.grad(lambda x: fnp.sum(x.astype(np.float32) * 2.0))(x)
    assert g32.dtype == np.float64
    np.testing.assert_array_equal(g32, 2.0)
    for method in ("argmax", "argmin", "all", "any"):
        out = fg.vmap(lambda v, m=method: getattr(v > 0.5, m)() if m in ("all", "any")
                      else getattr(v, m)())(x)
        np.testing.assert_array_equal(out, [getattr(r > 0.5, method)() if method in
                                            ("all", "any") else getattr(r, method)()
                                            for r in x])
    with pytest.raises(TypeError, match="0-d"):
        fg.grad(lambda s: len(s))(np.array(1.0))
    with pytest.raises(TypeError, match="unhashable"):
        fg.grad(lambda s: {s: 1} and s)(np.array(1.0))


def test_numpy_array_on_the_left_of_an_operator():
    x = np.array([1.0, 2.0])
    c = np.array([3.0, 4.0])
    g = fg.grad(lambda x: fnp.sum(c * x + c / x - c ** x + (c > x) * x))(x)
    np.testing.assert_allclose(g, c - c / x ** 2 - c ** x * np.log(c) + (c > x))
    g = fg.grad(lambda x: fnp.sum(c @ fnp.stack([x, x])))(x)
    np.testing.assert_allclose(g, c.sum() * np.ones(2))


def test_python_values_on_the_left_and_builtins():
    x = np.array([0.4, -1.6, 2.5])
    pos = fg.vmap(lambda v: (True & (v > 0), False | (v > 0), True ^ (v > 0)))(x)
    np.testing.assert_array_equal(pos[0], x > 0)
    np.testing.assert_array_equal(pos[1], x > 0)
    np.testing.assert_array_equal(pos[2], x <= 0)
    q, r = fg.vmap(lambda v: divmod(v, 1.5))(x)
    np.testing.assert_allclose(q, x // 1.5)
    np.testing.assert_allclose(r, x % 1.5)
    q, r = fg.vmap(lambda v: divmod(7.0, v))(x)
    np.testing.assert_allclose(q, 7.0 // x)
    np.testing.assert_allclose(r, 7.0 % x)
    np.testing.assert_allclose(fg.grad(lambda v: fnp.sum(divmod(v, 1.5)[1]))(x), 1.0)
    np.testing.assert_array_equal(fg.vmap(round)(x), np.round(x))
    np.testing.assert_allclose(fg.grad(lambda v: fnp.sum(round(v) * v))(x), np.round(x))


def test_numpy_bool_array_and_tracer():
    m = np.array([True, False])
    out = fg.vmap(lambda v: m & (v > 0))(np.array([[1.0, 1.0], [-1.0, 1.0]]))
    np.testing.assert_array_equal(out, [[True, False], [False, False]])


def test_random_uniform_dtype_does_not_depend_on_tracing():
    key = fg.random.key(0)
    lo, hi = np.array(-1.0), np.array(2.0)
    eager = fg.random.uniform(key, (3,), minval=lo, maxval=hi)
    traced = fg.vmap(lambda h: fg.random.uniform(key, (3,), minval=lo, maxval=h))(hi[None])[0]
    assert eager.dtype == traced.dtype == np.float32


def test_conv_transpose_output_padding_beyond_stride():
    from funcgrad._src.ops.conv import conv_transpose

    out = conv_transpose(np.ones((1, 1, 2)), np.ones((1, 1, 1)), strides=1, output_padding=1,
                         dilation=2)
    assert out.shape == (1, 1, 3)


# ---------------------------------------------------------------------------------------
# Against HIPS autograd
# ---------------------------------------------------------------------------------------


def _composites(np_):
    def logistic_loss(w, x, y):
        z = np_.dot(x, w)
        return np_.mean(np_.log1p(np_.exp(-y * z)))

    def mlp(w, x, y):
        h = np_.tanh(np_.dot(x, w.reshape(3, 2)))
        out = np_.sum(h ** 2, axis=1) + np_.maximum(h[:, 0], 0.1)
        return np_.sum((out - y) ** 2) / y.shape[0]

    def gather_concat(w, x, y):
        z = np_.concatenate([w, np_.sin(w[::-1])])
        return np_.sum(z[np_.array([0, 1, 1, 3, 5])] ** 2) + np_.sum(np_.where(w > 0, w, -w)) \
            + np_.sum(x[:, 0] * w[0] ** 3)

    def softmax_xent(w, x, y):
        logits = np_.dot(x, w.reshape(3, 2))
        m = np_.max(logits, axis=1, keepdims=True)
        lse = np_.log(np_.sum(np_.exp(logits - m), axis=1)) + m[:, 0]
        return np_.mean(lse - logits[np_.arange(4), np_.array([0, 1, 1, 0])])

    return [logistic_loss, mlp, gather_concat, softmax_xent]


@pytest.mark.parametrize("k", range(4), ids=["logistic", "mlp", "gather_concat", "xent"])
def test_against_autograd(k):
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    r = rng(k)
    w = r.standard_normal(6 if k != 0 else 3)
    if k == 2:
        w = r.standard_normal(3)
    x = r.standard_normal((4, 3))
    y = np.sign(r.standard_normal(4))
    f_fg, f_ag = _composites(fnp)[k], _composites(anp)[k]
    np.testing.assert_allclose(f_fg(w, x, y), f_ag(w, x, y), rtol=1e-12)
    np.testing.assert_allclose(fg.grad(f_fg)(w, x, y), autograd.grad(f_ag)(w, x, y),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fg.hessian(f_fg)(w, x, y), autograd.hessian(f_ag)(w, x, y),
                               rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(fg.grad(f_fg, argnums=1)(w, x, y),
                               autograd.grad(f_ag, 1)(w, x, y), rtol=1e-10, atol=1e-12)


def test_numerical_jvp_helper_sanity():
    # the finite-difference oracle itself (guards the guards)
    out = numerical_jvp(lambda x: x ** 3, (np.array(2.0),), (np.array(1.0),), 1e-5)
    np.testing.assert_allclose(out[0], 12.0, rtol=1e-8)
    assert math.isclose(numerical_grad(lambda v: np.sum(v ** 2), np.array([3.0]))[0], 6.0)
