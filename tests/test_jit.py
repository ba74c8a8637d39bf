"""jit: trace once, replay; retrace on new signatures; compositions; errors."""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads


def test_jit_matches_eager_and_traces_once():
    calls = []

    def f(x, y):
        calls.append(1)
        return fnp.sum(fnp.tanh(x @ y) ** 2) + fnp.max(x)

    jf = fg.jit(f)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((3, 2))
    np.testing.assert_allclose(jf(x, y), f(x, y), rtol=1e-12)
    n = len(calls)
    for _ in range(3):
        x2 = rng.standard_normal((4, 3))
        np.testing.assert_allclose(jf(x2, y), f(x2, y), rtol=1e-12)
    assert len(calls) == n + 3  # the 3 eager calls only: jit replayed without tracing


def test_retrace_on_new_shape_dtype_and_static_value():
    traces = []

    @fg.jit
    def f(x):
        traces.append(x.shape)
        return x * 2.0

    f(np.ones(3))
    f(np.ones(3))
    f(np.ones(4))
    f(np.ones(4, np.float32))
    assert len(traces) == 3

    g = fg.jit(lambda x, n: x * n, static_argnums=1)
    assert float(g(np.ones(()), 2)) == 2.0
    assert float(g(np.ones(()), 3)) == 3.0


def test_replay_key_tells_apart_structure_dtype_shape_and_x64():
    """Calls made of dicts, lists, tuples and arrays find their graph without tree_flatten
    (jit._fast_key); anything that changes the graph must still retrace."""
    traces = []

    @fg.jit
    def f(tree):
        traces.append(1)
        leaves = fg.tree.leaves(tree)
        return sum(v * (i + 1) for i, v in enumerate(leaves)) + 0.5

    a, b = np.ones(2), np.full(2, 3.0)
    np.testing.assert_allclose(f({"x": a, "y": b}), a + 2 * b + 0.5)
    np.testing.assert_allclose(f({"y": b, "x": a}), a + 2 * b + 0.5)  # same structure
    np.testing.assert_allclose(f({"x": b, "y": a}), b + 2 * a + 0.5)
    assert len(traces) == 1
    np.testing.assert_allclose(f([a, b]), a + 2 * b + 0.5)
    np.testing.assert_allclose(f((a, b)), a + 2 * b + 0.5)  # a tuple is another structure
    np.testing.assert_allclose(f({"x": a, "z": b}), a + 2 * b + 0.5)  # other keys
    np.testing.assert_allclose(f([a, b, a]), a + 2 * b + 3 * a + 0.5)
    assert len(traces) == 5
    f([a.astype(np.float32), b])  # a dtype
    f([np.ones(3), np.ones(3)])  # a shape
    assert len(traces) == 7
    with _x64(False):
        out = f([a.astype(np.float32), b.astype(np.float32)])
    assert len(traces) == 8 and out.dtype == np.float32
    f.clear_cache()
    f([a, b])
    assert len(traces) == 9


class _x64:
    def __init__(self, on):
        self.on = on

    def __enter__(self):
        self.old = fg.config.read("enable_x64")
        fg.config.update("enable_x64", self.on)

    def __exit__(self, *exc):
        fg.config.update("enable_x64", self.old)


def test_x64_switch_retraces():
    """The default float dtype inside the body (here of fnp.zeros) follows the switch, so
    the switch is part of the cache key."""
    f = fg.jit(lambda x: fnp.zeros(2) + x)
    x = np.ones(2, bool)
    with _x64(False):
        assert f(x).dtype == np.float32
    with _x64(True):
        assert f(x).dtype == np.float64
    with _x64(False):
        assert f(x).dtype == np.float32


def test_static_argnames_and_kwargs():
    f = fg.jit(lambda x, *, power: x ** power, static_argnames="power")
    np.testing.assert_allclose(f(np.array([2.0]), power=3), [8.0])
    np.testing.assert_allclose(f(np.array([2.0]), power=2), [4.0])


def test_cache_is_bounded():
    from funcgrad._src import jit as jit_mod

    f = fg.jit(lambda x: x + 1.0)
    for n in range(jit_mod._CACHE_SIZE + 5):
        f(np.ones(n + 1))
    assert f._cache_size() == jit_mod._CACHE_SIZE


def test_print_runs_only_at_trace_time(capsys):
    @fg.jit
    def f(x):
        print("tracing")
        return x + 1.0

    f(np.ones(2))
    f(np.ones(2))
    assert capsys.readouterr().out.count("tracing") == 1


def test_python_control_flow_on_traced_value_raises():
    f = fg.jit(lambda x: x if x > 0 else -x)
    with pytest.raises(fg.ConcretizationTypeError, match="lax.cond"):
        f(1.0)
    with pytest.raises(fg.ConcretizationTypeError):
        fg.jit(lambda x: float(x))(1.0)


def test_compositions():
    def f(x):
        return fnp.sum(fnp.sin(x) * x)

    x = np.array([0.3, -1.2, 2.0])
    expected = fg.grad(f)(x)
    np.testing.assert_allclose(fg.jit(fg.grad(f))(x), expected, rtol=1e-12)
    np.testing.assert_allclose(fg.grad(fg.jit(f))(x), expected, rtol=1e-12)
    np.testing.assert_allclose(fg.jit(fg.vmap(fg.grad(lambda v: fnp.sin(v) * v)))(x), expected,
                               rtol=1e-12)
    np.testing.assert_allclose(fg.vmap(fg.jit(fg.grad(lambda v: fnp.sin(v) * v)))(x), expected,
                               rtol=1e-12)
    np.testing.assert_allclose(fg.jit(fg.jit(f))(x), f(x), rtol=1e-12)
    check_grads(fg.jit(f), (x,), order=2)


def test_closure_over_outer_tracer_is_correct():
    # The jitted function closes over x, traced by the outer grad.
    g = fg.grad(lambda x: fg.jit(lambda y: x * y)(3.0))(2.0)
    assert float(g) == 3.0
    # ... and over a value of an enclosing jit.
    h = fg.jit(lambda x: fg.jit(lambda y: x + y)(1.0))
    assert float(h(2.0)) == 3.0


def test_whole_training_step_jits():
    def loss(w, x, y):
        return fnp.mean((x @ w - y) ** 2)

    @fg.jit
    def step(w, x, y):
        return w - 0.1 * fg.grad(loss)(w, x, y)

    rng = np.random.default_rng(1)
    x = rng.standard_normal((32, 3))
    y = x @ np.array([1.0, -2.0, 0.5])
    w = np.zeros(3)
    for _ in range(200):
        w = step(w, x, y)
    np.testing.assert_allclose(w, [1.0, -2.0, 0.5], atol=1e-4)


def test_simplification_passes():
    def f(x):
        a = fnp.sin(x)
        b = fnp.sin(x)  # common subexpression
        fnp.exp(x)  # dead code
        c = fnp.ones(3) * 2.0 + 1.0  # constant folded
        return a + b + c

    g = fg.make_jaxpr(f)(np.ones(3))
    names = [e.prim.name for e in g.eqns]
    assert names.count("sin") == 1
    assert "exp" not in names
    assert names.count("add") == 2
    np.testing.assert_allclose(fg.jit(f)(np.ones(3)), f(np.ones(3)))


def test_make_jaxpr_is_readable():
    text = str(fg.make_jaxpr(lambda x: fnp.sum(fnp.sin(x)))(np.ones(3, np.float32)))
    assert "sin a" in text and "f32[3]" in text and text.startswith("{ lambda")


def test_outputs_are_plain_arrays():
    out = fg.jit(lambda x: (fnp.sum(x), x * 2))(np.ones(3))
    assert all(type(o) is np.ndarray for o in out)
    assert out[0].shape == ()


def test_jit_with_pytrees_and_integer_outputs():
    @fg.jit
    def f(p):
        return {"idx": fnp.argmax(p["a"]), "s": fnp.sum(p["b"][0])}

    out = f({"a": np.array([1.0, 5.0, 2.0]), "b": [np.ones(2)]})
    assert int(out["idx"]) == 1 and float(out["s"]) == 2.0


def test_random_under_jit_matches_eager():
    k = fg.random.key(3)
    np.testing.assert_array_equal(fg.jit(lambda k: fg.random.normal(k, (4,)))(k),
                                  fg.random.normal(k, (4,)))
