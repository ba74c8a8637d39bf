"""Every op in the spec list (``op_specs.py``), three ways, plus a registry audit:

(a) forward values against NumPy, eagerly and under a trace, with NumPy's result dtype;
(b) derivatives with ``check_grads`` (forward and reverse mode, to the row's order) in
    float64 — or, for rows without a gradient, that the derivative is exactly zero;
(c) ``vmap`` against a Python loop (JAX's ``_CheckBatching``) with random ``in_axes``
    (``None`` for some arguments, non-zero and negative axes) and ``out_axes``, for the op
    and for its VJP and JVP (per-example derivatives);
(d) the registry audit: every primitive in ``core.primitives`` has an impl and a batching
    rule, VJP and JVP rules unless ``nondiff``, and is named by some spec row — and each
    row really binds the primitives it names.
"""

from __future__ import annotations

import importlib
import pkgutil
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_specs import ALIASES, BY_NAME, SPECS, fwd_tol, is_diff_arg, make_args

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._src import core
from funcgrad.testing import check_grads
from funcgrad.tree_util import tree_leaves, tree_map

# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def _leaves(x):
    return tree_leaves(list(x) if isinstance(x, tuple) else x)


def assert_close(got, want, dtype, rtol, atol, what):
    """Leafwise comparison; ``got`` leaves must be plain ndarrays with NumPy's dtype."""
    gl, wl = _leaves(got), _leaves(want)
    assert len(gl) == len(wl), f"{what}: {len(gl)} outputs, NumPy gives {len(wl)}"
    for k, (g, w) in enumerate(zip(gl, wl)):
        w = np.asarray(w)
        assert type(g) is np.ndarray, f"{what}: output {k} is a {type(g).__name__}, not ndarray"
        assert g.shape == w.shape, f"{what}: output {k} shape {g.shape}, expected {w.shape}"
        if dtype is not None:
            assert g.dtype == w.dtype, f"{what}: output {k} dtype {g.dtype}, NumPy's {w.dtype}"
        if w.dtype.kind in "fc":
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True,
                                       err_msg=f"{what}: output {k}")
        else:
            np.testing.assert_array_equal(g, w, err_msg=f"{what}: output {k}")


def _merge(args, diff, dvals):
    full = list(args)
    for i, v in zip(diff, dvals):
        full[i] = v
    return full


def _restrict(spec, args, kw, diff):
    """``spec.fn`` as a function of its differentiable arguments only."""
    def f(*dvals):
        return spec.fn(*_merge(args, diff, dvals), **kw)

    return f


def _has_inexact(spec):
    return any(np.dtype(d).kind in "fc" for d in spec.dtypes)


def _rand_like(rng, x):
    x = np.asarray(x)
    r = rng.standard_normal(x.shape)
    if x.dtype.kind == "c":
        r = r + 1j * rng.standard_normal(x.shape)
    return r.astype(x.dtype)


def _real_pair(f, dargs):
    """``f`` of complex arguments as a function of their real and imaginary parts, with
    complex outputs split the same way: complex derivatives checked through real ones, so
    the check holds whatever the complex VJP convention."""
    cplx = [a.dtype.kind == "c" for a in dargs]
    parts = []
    for a, c in zip(dargs, cplx):
        parts += [a.real.copy(), a.imag.copy()] if c else [a]

    def g(*ps):
        it = iter(ps)
        args = [next(it) + 1j * next(it) if c else next(it) for c in cplx]
        return tree_map(lambda o: [fnp.real(o), fnp.real(o * -1j)] if o.dtype.kind == "c"
                        else o, f(*args))

    return g, tuple(parts)


FWD = [pytest.param(s, d, id=f"{s.name}-{np.dtype(d).name}") for s in SPECS for d in s.dtypes]
DIFF = [pytest.param(s, id=s.name) for s in SPECS if _has_inexact(s)]
BATCH = [pytest.param(s, id=s.name) for s in SPECS if s.batchable]

# ---------------------------------------------------------------------------------------
# (a) forward values
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec,dtype", FWD)
@given(data=st.data())
def test_forward_matches_numpy(spec, dtype, data):
    shapes, kw = data.draw(spec.case(), label="shapes, kwargs")
    args = make_args(spec, shapes, dtype, data=data)
    want = spec.ref(*args, **kw)
    rtol, atol = fwd_tol(spec, dtype)
    if not spec.method:  # methods/operators on NumPy arrays are NumPy's own
        got = spec.fn(*args, **kw)
        assert_close(got, want, dtype, rtol, atol, f"{spec.name} (eager)")
    diff = [i for i, a in enumerate(args) if is_diff_arg(a)]
    if diff:
        out, _ = fg.vjp(_restrict(spec, args, kw, diff), *[args[i] for i in diff])
        assert_close(out, want, dtype, rtol, atol, f"{spec.name} (traced)")


def test_aliases_are_the_same_function():
    for alias, name in ALIASES.items():
        assert getattr(fnp, alias) is getattr(fnp, name), alias


# ---------------------------------------------------------------------------------------
# (b) derivatives
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", DIFF)
@given(data=st.data())
def test_grads(spec, data):
    shapes, kw = data.draw(spec.case(), label="shapes, kwargs")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    args = make_args(spec, shapes, spec.grad_dtype, rng=rng)
    diff = [i for i, a in enumerate(args) if is_diff_arg(a)]
    f = _restrict(spec, args, kw, diff)
    dargs = tuple(args[i] for i in diff)
    if spec.order:
        if any(a.dtype.kind == "c" for a in dargs):
            f, dargs = _real_pair(f, dargs)
        check_grads(f, dargs, order=spec.order, modes=("fwd", "rev"), atol=spec.grad_tol,
                    rtol=spec.grad_tol, eps=spec.grad_eps)
        return
    # No gradient: forward and reverse mode give exact zeros of the right dtype.
    tangents = tuple(_rand_like(rng, a) for a in dargs)
    _, t_out = fg.jvp(f, dargs, tangents)
    for t in _leaves(t_out):
        assert type(t) is np.ndarray and not np.any(t), f"{spec.name}: nonzero tangent {t}"
    out, pull = fg.vjp(f, *dargs)
    cts = pull(tree_map(np.ones_like, out))
    for c, a in zip(cts, dargs):
        assert c.dtype == a.dtype and c.shape == a.shape and not np.any(c)


# ---------------------------------------------------------------------------------------
# (c) vmap against a loop
# ---------------------------------------------------------------------------------------


def _stack(outs, axis):
    return tree_map(lambda *xs: np.stack([np.asarray(x) for x in xs], axis=axis), *outs)


@pytest.mark.parametrize("spec", BATCH)
@given(data=st.data())
def test_vmap_matches_loop(spec, data):
    dtype = spec.grad_dtype if _has_inexact(spec) else spec.dtypes[0]
    shapes, kw = data.draw(spec.case(), label="shapes, kwargs")
    n = len(shapes)
    size = data.draw(st.integers(1, 3), label="batch size")
    in_axes = [data.draw(st.sampled_from(d.axes) if d.axes is not None else
                         st.none() | st.integers(-(len(s) + 1), len(s)), label="in_axis")
               for s, d in zip(shapes, spec.doms(n))]
    if all(a is None for a in in_axes) or (spec.receiver and in_axes[0] is None):
        k = 0 if spec.receiver else data.draw(st.integers(0, n - 1))
        in_axes[k] = data.draw(st.sampled_from([0, -1]))
    out_axes = data.draw(st.sampled_from([0, -1]), label="out_axes")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    per = [make_args(spec, shapes, dtype, rng=rng) for _ in range(size)]
    batched = [per[0][i] if ax is None else np.stack([p[i] for p in per], axis=ax)
               for i, ax in enumerate(in_axes)]

    def example(b):
        return [a if ax is None else np.take(a, b, axis=ax) for a, ax in zip(batched, in_axes)]

    rtol, atol = fwd_tol(spec, dtype)
    rtol, atol = max(rtol, 1e-12), max(atol, 1e-12)

    def op(*a):
        return spec.fn(*a, **kw)

    got = fg.vmap(op, in_axes=tuple(in_axes), out_axes=out_axes)(*batched)
    outs = [op(*example(b)) for b in range(size)]
    assert_close(got, _stack(outs, out_axes), dtype, rtol, atol,
                 f"vmap({spec.name}, in_axes={in_axes}, out_axes={out_axes})")

    diff = [i for i, a in enumerate(batched) if is_diff_arg(a)]
    if not spec.order or not diff:
        return

    # Per-example VJPs: the cotangent is mapped along axis 0.
    def vjp_fn(*a):
        args, ct = a[:-1], a[-1]
        _, pull = fg.vjp(_restrict(spec, args, kw, diff), *[args[i] for i in diff])
        return pull(ct)

    cts = [tree_map(lambda o: _rand_like(rng, o), o) for o in outs]
    got = fg.vmap(vjp_fn, in_axes=tuple(in_axes) + (0,))(*batched, _stack(cts, 0))
    want = _stack([vjp_fn(*example(b), cts[b]) for b in range(size)], 0)
    assert_close(got, want, None, 1e-10, 1e-10, f"vmap(vjp({spec.name}), in_axes={in_axes})")

    # Per-example JVPs: the tangents are mapped along axis 0.
    def jvp_fn(*a):
        args, ts = a[:n], a[n:]
        return fg.jvp(_restrict(spec, args, kw, diff), tuple(args[i] for i in diff), ts)[1]

    tans = [[_rand_like(rng, per[0][i]) for i in diff] for _ in range(size)]
    got = fg.vmap(jvp_fn, in_axes=tuple(in_axes) + (0,) * len(diff))(
        *batched, *[np.stack([t[k] for t in tans]) for k in range(len(diff))])
    want = _stack([jvp_fn(*example(b), *tans[b]) for b in range(size)], 0)
    assert_close(got, want, None, 1e-10, 1e-10, f"vmap(jvp({spec.name}), in_axes={in_axes})")


# ---------------------------------------------------------------------------------------
# (d) the registry audit
# ---------------------------------------------------------------------------------------


def _import_everything():
    """Import every funcgrad module, so that every primitive is registered."""
    import funcgrad

    for m in pkgutil.walk_packages(funcgrad.__path__, "funcgrad."):
        try:
            importlib.import_module(m.name)
        except ModuleNotFoundError as e:  # an optional third-party dependency
            if (e.name or "").startswith("funcgrad"):
                raise


def test_registry_audit():
    _import_everything()
    covered = {p for s in SPECS for p in s.primitives}
    problems = []
    for name, p in sorted(core.primitives.items()):
        missing = []
        if not callable(p.impl):
            missing.append("impl")
        if p.batch is None:
            missing.append("batch rule")
        if not p.nondiff:
            # A primitive may decline reverse mode only by saying why (see while_p).
            if p.vjp is None and not getattr(p, "reverse_mode_unsupported", ""):
                missing.append("vjp rule")
            if p.jvp is None:
                missing.append("jvp rule")
        if name not in covered:
            missing.append("a row in tests/op_specs.py")
        if missing:
            problems.append(f"{name!r}: missing {', '.join(missing)}")
    assert not problems, ("primitives that are declared half-done or not tested (add the "
                          "rule, or a row to tests/op_specs.py):\n  " + "\n  ".join(problems))


def test_rows_name_registered_primitives():
    _import_everything()
    stale = {(s.name, p) for s in SPECS for p in s.primitives if p not in core.primitives}
    assert not stale, f"rows naming primitives that do not exist: {sorted(stale)}"


@contextmanager
def _recording():
    seen: set[str] = set()
    saved = {name: p.impl for name, p in core.primitives.items()}

    def wrap(name, f):
        def impl(*a, **k):
            seen.add(name)
            return f(*a, **k)

        return impl

    for name, p in core.primitives.items():
        p.impl = wrap(name, saved[name])
    try:
        yield seen
    finally:
        for name, p in core.primitives.items():
            if name in saved:
                p.impl = saved[name]


@pytest.mark.parametrize("spec", [pytest.param(s, id=s.name) for s in SPECS if s.primitives])
def test_row_binds_its_primitives(spec):
    """The primitives a row names are bound (eagerly, or by its VJP, JVP or vmap)."""
    seen: set[str] = set()
    dtype = spec.grad_dtype if _has_inexact(spec) else spec.dtypes[0]

    @settings(max_examples=8, derandomize=True, database=None)
    @given(data=st.data())
    def run(data):
        shapes, kw = data.draw(spec.case())
        args = make_args(spec, shapes, dtype, rng=np.random.default_rng(0))
        diff = [i for i, a in enumerate(args) if is_diff_arg(a)]
        with _recording() as s:
            spec.fn(*args, **kw)
            if diff:
                f = _restrict(spec, args, kw, diff)
                dargs = [args[i] for i in diff]
                out, pull = fg.vjp(f, *dargs)
                if spec.order:
                    pull(tree_map(np.ones_like, out))
                fg.jvp(f, tuple(dargs), tuple(np.ones_like(a) for a in dargs))
            if spec.batchable:
                fg.vmap(lambda *a: spec.fn(*a, **kw))(*[np.stack([a, a]) for a in args])
        seen.update(s)

    run()
    missing = set(spec.primitives) - seen
    assert not missing, f"{spec.name} names {sorted(missing)} but never binds them " \
                        f"(it binds {sorted(seen)})"


def test_spec_names_unique():
    assert len(BY_NAME) == len(SPECS)
