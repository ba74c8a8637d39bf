"""jit's buffer reuse: elementwise equations write into dying intermediates (and donated
arguments) only where no value that is read later shares the memory.

Every test compares the compiled function with eager execution, on the tracing call and on
a replay, and checks that arguments that are not donated are never modified.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._src import jit as jit_mod


def _graph(jf):
    """The (single) compiled graph of a jitted function."""
    (entry,) = jf._cache.values()
    return entry[0]


def _assert_same(got, want):
    got, want = fg.tree.leaves(got), fg.tree.leaves(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape
        if w.dtype.kind in "fc":
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)
        else:
            np.testing.assert_array_equal(g, w)


def check(f, *args, donate_argnums=()):
    """Compile ``f``; compare it with eager ``f`` on ``args`` twice (trace, then replay on
    fresh copies); arguments not donated must be left as they were. Returns the graph."""
    jf = fg.jit(f, donate_argnums=donate_argnums)
    want = f(*args)
    for _ in range(2):
        mine = [np.array(a, copy=True) for a in args]
        kept = [np.array(a, copy=True) for a in args]
        _assert_same(jf(*mine), want)
        for i, (a, k) in enumerate(zip(mine, kept)):
            if i not in donate_argnums:
                np.testing.assert_array_equal(a, k)
    return _graph(jf)


def _rng():
    return np.random.default_rng(0)


# ---------------------------------------------------------------------------------------
# Reuse happens where it should
# ---------------------------------------------------------------------------------------


def test_elementwise_chain_reuses_its_intermediates():
    x = _rng().standard_normal((8, 16)).astype(np.float32)
    g = check(lambda x: fnp.tanh(fnp.exp(x * 2.0) + 1.0) * 3.0, x)
    # x * 2 allocates (x is an argument); exp, + 1, tanh and * 3 reuse that buffer
    assert len(g.inplace) == 4
    assert g.source.count("# in place") == 4


def test_mlp_step_reuses_matmul_and_relu_results():
    rng = _rng()
    w1, w2 = rng.standard_normal((6, 5)), rng.standard_normal((5, 3))
    x = rng.standard_normal((4, 6))

    def step(w1, w2, x):
        def loss(w1, w2):
            return fnp.sum(fg.nn.relu(x @ w1 + 1.0) @ w2)
        g1, g2 = fg.grad(loss, argnums=(0, 1))(w1, w2)
        return w1 - 0.1 * g1, w2 - 0.1 * g2

    g = check(step, w1, w2, x)
    names = {g.eqns[k].prim.name for k in g.inplace}
    assert {"add", "relu", "multiply", "subtract"} <= names


def test_no_reuse_without_numpy_ufunc_or_for_arguments():
    x = np.ones((3, 4))
    g = check(lambda x: fnp.sin(x), x)  # the argument itself is never a destination
    assert not g.inplace
    g = check(lambda x: fnp.sum(fnp.cumsum(x, axis=0) + 1.0), x)  # cumsum: not declared fresh
    assert not g.inplace


# ---------------------------------------------------------------------------------------
# Views and aliasing
# ---------------------------------------------------------------------------------------


def test_transpose_of_intermediate_read_later():
    x = _rng().standard_normal((5, 5))

    def f(x):
        a = fnp.exp(x)
        t = a.T  # a view of a's buffer, read after a's last use
        b = fnp.sin(a)
        return b * t

    g = check(f, x)
    sin = next(k for k, e in enumerate(g.eqns) if e.prim.name == "sin")
    assert sin not in g.inplace


@pytest.mark.parametrize("view", [
    lambda a: fnp.reshape(a, (-1,)),
    lambda a: fnp.reshape(a, (3, 1, 4)),
    lambda a: fnp.transpose(a),
    lambda a: a[1:],
    lambda a: a[::-1],
    lambda a: fnp.broadcast_to(a, (2, 3, 4)),
    lambda a: fg.stop_gradient(a),
    lambda a: fnp.real(a),
    lambda a: fnp.asarray(a, dtype=a.dtype),
    lambda a: fnp.squeeze(fnp.expand_dims(a, 0), 0),
])
def test_views_of_dying_intermediates_are_respected(view):
    x = _rng().standard_normal((3, 4))

    def f(x):
        a = fnp.exp(x)
        v = view(a)
        b = fnp.cos(a) * 2.0  # a's last use: must not clobber v
        return b, v, fnp.sum(v) + 1.0

    check(f, x)

    def g(x):
        a = fnp.exp(x)
        v = view(a)
        b = fnp.cos(a)
        return fnp.sum(b) + fnp.sum(v)  # v read after a dies, not returned

    check(g, x)


def test_view_dying_at_the_same_equation():
    x = _rng().standard_normal((4, 4))
    # a and its transpose both die at the add: writing into a is safe (NumPy buffers the
    # overlapping operand)
    g = check(lambda x: (lambda a: a + a.T)(fnp.exp(x)), x)
    assert any(g.eqns[k].prim.name == "add" for k in g.inplace)


def test_control_flow_results_may_be_their_operands():
    x = _rng().standard_normal((3, 3))

    def f(x, p):
        a = fnp.exp(x)
        b = fg.lax.cond(p > 0, lambda v: v, lambda v: v * 2.0, a)  # may return a itself
        c = fg.lax.fori_loop(0, 0, lambda i, v: v + 1.0, a)  # zero iterations: a itself
        d = fnp.sin(a)
        return d + b, c

    check(f, x, np.array(1.0))
    check(f, x, np.array(-1.0))


def test_outputs_alias_inputs_and_each_other():
    x = _rng().standard_normal((2, 3))

    def f(x):
        a = fnp.exp(x)
        return x, x, a, a, a.T, fnp.reshape(x, (-1,)), a * 2.0, -a

    check(f, x)


def test_repeated_inputs():
    x = _rng().standard_normal((3, 3))
    f = fg.jit(lambda a, b: (a * 2.0 + b, fnp.exp(a) - b))
    kept = x.copy()
    _assert_same(f(x, x), ((kept * 2.0 + kept), np.exp(kept) - kept))
    np.testing.assert_array_equal(x, kept)


def test_reshape_is_view_on_replay_but_copy_when_traced():
    # traced on a Fortran-ordered argument (the reshape copies), replayed on a C-ordered one
    # (the reshape is a view of the caller's array): the argument must stay intact
    f = fg.jit(lambda x: fnp.reshape(x, (-1,)) * 2.0 + 1.0)
    a = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    b = np.arange(12.0).reshape(3, 4)
    for x in (a, b, a):
        kept = x.copy()
        np.testing.assert_array_equal(f(x), kept.reshape(-1) * 2.0 + 1.0)
        np.testing.assert_array_equal(x, kept)


# ---------------------------------------------------------------------------------------
# dtypes and shapes: no casting, no broadcasting into a smaller buffer
# ---------------------------------------------------------------------------------------


def test_integer_and_bool_ops():
    rng = _rng()
    i = rng.integers(-50, 50, (4, 5)).astype(np.int32)
    j = rng.integers(1, 9, (4, 5)).astype(np.int32)

    def f(i, j):
        s = i * 3 + j  # int32 intermediates
        q = s // 2 - j
        r = s / j  # float result: the int buffers cannot take it
        m = (s > j) & (q < 5)  # bool from ints, then bool & bool
        n = ~m | (i == 0)
        return q, r, m, n, fnp.where(n, q, 0) * 2, q.astype(np.float32) + 0.5

    g = check(f, i, j)
    for k, p in g.inplace.items():  # destinations always have the result's dtype
        e = g.eqns[k]
        assert e.ins[p].aval.dtype == e.outs[0].aval.dtype


def test_mixed_dtypes_never_cast_into_the_smaller_type():
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    y = np.linspace(-1, 1, 12).reshape(3, 4)  # float64
    check(lambda x, y: fnp.exp(x) + y, x, y)  # float32 exp(x) cannot hold the float64 sum
    check(lambda x, y: fnp.exp(x) * fnp.sin(y).astype(np.float32), x, y)


def test_broadcasting_never_writes_into_the_smaller_operand():
    rng = _rng()
    x = rng.standard_normal((3, 4))
    b = rng.standard_normal(4)

    def f(x, b):
        return fnp.exp(b) + fnp.sin(x), fnp.cos(b)[None] * fnp.ones((2, 1))

    g = check(f, x, b)
    for k, p in g.inplace.items():
        e = g.eqns[k]
        assert e.ins[p].aval.shape == e.outs[0].aval.shape


def test_scalar_results_are_not_reused():
    x = np.array(2.0)
    g = check(lambda x: fnp.exp(x * 2.0) + 1.0, x)
    assert not g.inplace


# ---------------------------------------------------------------------------------------
# donate_argnums
# ---------------------------------------------------------------------------------------


def test_donated_argument_buffer_is_reused():
    x = _rng().standard_normal((4, 4))
    f = fg.jit(lambda x, y: fnp.exp(x * 2.0) + y, donate_argnums=0)
    xd, y = x.copy(), np.ones((4, 4))
    out = f(xd, y)
    np.testing.assert_allclose(out, np.exp(x * 2.0) + 1.0)
    assert np.shares_memory(out, xd)  # written into the donated buffer
    np.testing.assert_array_equal(y, 1.0)  # not donated: intact
    assert _graph(f).donated_written == (0,)
    # a second call reuses the (new) donated argument again
    xd2 = x.copy()
    assert np.shares_memory(f(xd2, y), xd2)


def test_donation_in_pytrees_and_with_static_arguments():
    rng = _rng()
    params = {"w": rng.standard_normal((3, 3)), "b": rng.standard_normal(3)}
    x = rng.standard_normal((2, 3))

    def step(params, scale, x):
        return fg.tree.map(lambda p: p - scale * p, params), x * 2.0

    f = fg.jit(step, static_argnums=1, donate_argnums=(0,))
    want = step(params, 0.5, x)
    mine = fg.tree.map(np.copy, params)
    x_kept = x.copy()
    _assert_same(f(mine, 0.5, x), want)
    np.testing.assert_array_equal(x, x_kept)
    assert _graph(f).donated_written  # the params' leaves, not x
    assert all(p < 2 for p in _graph(f).donated_written)


def test_unsafe_donations_are_copied():
    x = _rng().standard_normal((4, 4))
    f = fg.jit(lambda a, b: fnp.exp(a * 2.0) + b, donate_argnums=0)
    want = np.exp(x * 2.0) + x
    # the same array passed twice, a view, a read-only array: the donation falls back to a
    # private copy, so the caller's (shared) memory is intact
    same = x.copy()
    _assert_same(f(same, same), want)
    np.testing.assert_array_equal(same, x)
    base = np.concatenate([x, x])
    _assert_same(f(base[:4], base[4:]), want)
    np.testing.assert_array_equal(base, np.concatenate([x, x]))
    ro = x.copy()
    ro.flags.writeable = False
    _assert_same(f(ro, x), want)
    np.testing.assert_array_equal(ro, x)


def test_donating_a_closed_over_constant_is_copied():
    c = _rng().standard_normal((3, 3))
    kept = c.copy()
    f = fg.jit(lambda a: fnp.exp(a * 2.0) + c, donate_argnums=0)
    _assert_same(f(c), np.exp(kept * 2.0) + kept)
    _assert_same(f(c), np.exp(kept * 2.0) + kept)
    np.testing.assert_array_equal(c, kept)


def test_arguments_not_donated_are_never_written():
    x = _rng().standard_normal((5, 5))
    g = check(lambda x, y: (fnp.exp(x) - y, x * y + 1.0, -y), x, x + 1.0)
    assert not {g.eqns[k].ins[p].id for k, p in g.inplace.items()} & \
        {v.id for v in g.invars}


# ---------------------------------------------------------------------------------------
# Property: random elementwise programs with views
# ---------------------------------------------------------------------------------------

_SHAPES = [(2, 6), (6, 2), (3, 4), (12,), (2, 2, 3)]
_BINARY = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b,
           "sub": lambda a, b: a - b, "max": fnp.maximum,
           "mask": lambda a, b: a * (b > 0)}
_UNARY = {"neg": lambda a: -a, "square": fnp.square, "abs": fnp.abs, "sin": fnp.sin,
          "relu": fg.nn.relu, "scale": lambda a: a * 2.0, "shift": lambda a: 1 + a,
          "reshape": lambda a: fnp.reshape(a, _SHAPES[a.size % 3]),
          "transpose": fnp.transpose, "flip": lambda a: fnp.flip(a, 0),
          "sum": lambda a: fnp.broadcast_to(fnp.sum(a, axis=0, keepdims=True), a.shape)}


def _program(steps, outs):
    def f(x, y):
        pool = [x, y]
        for op, i, j in steps:  # operands counted back from the latest value
            a = pool[-1 - i % len(pool)]
            if op in _BINARY:
                b = fnp.reshape(pool[-1 - j % len(pool)], a.shape)
                pool.append(_BINARY[op](a, b))
            else:
                pool.append(_UNARY[op](a))
        return tuple(pool[k % len(pool)] for k in outs)

    return f


@given(
    steps=st.lists(st.tuples(st.sampled_from(sorted(_BINARY) + sorted(_UNARY)),
                             st.integers(0, 4), st.integers(0, 8)), min_size=1, max_size=12),
    outs=st.lists(st.integers(0, 63), min_size=1, max_size=4),
    shape=st.sampled_from(_SHAPES),
    dtype=st.sampled_from([np.float32, np.float64, np.int32]),
    seed=st.integers(0, 2 ** 16),
    donate=st.booleans(),
)
def test_random_elementwise_programs_match_eager(steps, outs, shape, dtype, seed, donate):
    rng = np.random.default_rng(seed)
    x, y = ((rng.integers(-4, 5, shape) if dtype == np.int32 else rng.standard_normal(shape))
            .astype(dtype) for _ in range(2))
    with np.errstate(all="ignore"):  # squares may overflow, alike in both
        check(_program(steps, outs), x, y, donate_argnums=(0,) if donate else ())


def test_random_programs_do_reuse():
    f = _program([("sin", 1, 0), ("square", 0, 0), ("add", 0, 3), ("relu", 0, 0),
                  ("transpose", 0, 0), ("mask", 0, 4)], [7, 6])
    x = _rng().standard_normal((3, 4))
    g = check(f, x, x + 1.0)
    assert len(g.inplace) == 2  # the add and the relu; not the mask: g is returned


def test_only_destination_passing_equations_are_planned():
    x = _rng().standard_normal((4, 4))
    jf = fg.jit(lambda x: fg.nn.relu(fnp.cumsum(x, 0) @ x + 1.0) * fnp.exp(x))
    jf(x)
    g = _graph(jf)
    assert g.inplace
    for k in g.inplace:
        assert jit_mod._into(g.eqns[k], np) is not None


def test_donating_arrays_from_the_recycled_pool():
    """Large eager results live in recycled blocks (funcgrad/_src/buffers.py): donating one
    writes into it, and a view of it, the same block twice or a pooled constant is still
    copied first."""
    from funcgrad._src import buffers

    x = _rng().standard_normal((512, 256))  # 1 MiB: a pooled size
    f = fg.jit(lambda a, b: fnp.exp(a * 2.0) + b, donate_argnums=0)
    want = np.exp(x * 2.0) + 1.0
    pooled = buffers.empty(x.shape, x.dtype)
    pooled[...] = x
    assert not pooled.flags.owndata
    out = f(pooled, np.ones_like(x))
    _assert_same(out, want)
    assert np.shares_memory(out, pooled)  # donated: its block is reused

    same = buffers.empty(x.shape, x.dtype)
    same[...] = x
    _assert_same(f(same, same), np.exp(x * 2.0) + x)
    np.testing.assert_array_equal(same, x)  # passed twice: copied, intact
    view_arg = buffers.empty((1024, 256), x.dtype)
    view_arg[:512], view_arg[512:] = x, x
    _assert_same(f(view_arg[:512], view_arg[512:]), np.exp(x * 2.0) + x)
    np.testing.assert_array_equal(view_arg[:512], x)

    const = buffers.empty(x.shape, x.dtype)
    const[...] = x
    g = fg.jit(lambda a: fnp.exp(a * 2.0) + const, donate_argnums=0)
    _assert_same(g(const), np.exp(x * 2.0) + x)
    np.testing.assert_array_equal(const, x)
