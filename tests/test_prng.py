"""Tests of the Threefry PRNG kernels and samplers in ``funcgrad._src.prng``.

Statistical checks use fixed keys, so they are deterministic; their bounds are several
standard errors wide.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

try:
    from funcgrad._src import prng
except ImportError:  # the package __init__ may be mid-edit; the module stands alone
    _path = Path(__file__).resolve().parents[1] / "funcgrad" / "_src" / "prng.py"
    _spec = importlib.util.spec_from_file_location("funcgrad_prng_standalone", _path)
    prng = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(prng)

# NumPy reports overflow and invalid operations as RuntimeWarnings: none may escape.
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

KEY = prng.key_from_seed(0)
U32 = st.integers(0, 2**32 - 1)
FAST = settings(max_examples=40, deadline=None)


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & 0xFFFFFFFF


def _threefry_reference(k0: int, k1: int, x0: int, x1: int) -> tuple[int, int]:
    """Threefry-2x32-20 on Python ints, one block at a time."""
    ks = (k0, k1, k0 ^ k1 ^ 0x1BD11BDA)
    rotations = ((13, 15, 26, 6), (17, 29, 16, 24))
    x0, x1 = (x0 + ks[0]) & 0xFFFFFFFF, (x1 + ks[1]) & 0xFFFFFFFF
    for group in range(5):
        for r in rotations[group % 2]:
            x0 = (x0 + x1) & 0xFFFFFFFF
            x1 = _rotl(x1, r) ^ x0
        x0 = (x0 + ks[(group + 1) % 3]) & 0xFFFFFFFF
        x1 = (x1 + ks[(group + 2) % 3] + group + 1) & 0xFFFFFFFF
    return x0, x1


# --------------------------------------------------------------------------------------
# Threefry and keys
# --------------------------------------------------------------------------------------

# Random123's known-answer tests for threefry2x32_20 (kat_vectors).
KAT = [
    ((0x00000000, 0x00000000), (0x00000000, 0x00000000), (0x6B200159, 0x99BA4EFE)),
    ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
    ((0x13198A2E, 0x03707344), (0x243F6A88, 0x85A308D3), (0xC4923A9C, 0x483DF7A0)),
]


@pytest.mark.parametrize(("key", "ctr", "expected"), KAT)
def test_threefry_known_answers(key, ctr, expected):
    y0, y1 = prng.threefry2x32(np.array(key, np.uint32), np.uint32(ctr[0]), np.uint32(ctr[1]))
    assert (int(y0), int(y1)) == expected
    assert y0.dtype == y1.dtype == np.uint32
    assert _threefry_reference(*key, *ctr) == expected


def test_threefry_batched_keys_and_counters_broadcast():
    keys = np.array([k for k, _, _ in KAT], np.uint32)[:, None, :]  # (3, 1, 2)
    ctrs = np.array([c for _, c, _ in KAT], np.uint32)  # (3, 2)
    y0, y1 = prng.threefry2x32(keys, ctrs[:, 0], ctrs[:, 1])
    assert y0.shape == y1.shape == (3, 3)
    for i, (_, _, expected) in enumerate(KAT):
        assert (int(y0[i, i]), int(y1[i, i])) == expected


@FAST
@given(st.lists(st.tuples(U32, U32, U32, U32), min_size=1, max_size=8))
def test_threefry_matches_scalar_reference(rows):
    k0, k1, x0, x1 = (np.array(col, np.uint32) for col in zip(*rows, strict=True))
    y0, y1 = prng.threefry2x32(np.stack([k0, k1], axis=-1), x0, x1)
    assert [(int(a), int(b)) for a, b in zip(y0, y1, strict=True)] == [
        _threefry_reference(*row) for row in rows
    ]


def test_split_matches_jax_published_values():
    # jax.random.split(jax.random.PRNGKey(0)) with JAX's original threefry scheme.
    expected = [[4146024105, 967050713], [2718843009, 1272950319]]
    assert prng.split(prng.key_from_seed(0)).tolist() == expected


@pytest.mark.parametrize(
    ("seed", "expected"),
    [
        (0, [0, 0]),
        (42, [0, 42]),
        (-1, [2**32 - 1, 2**32 - 1]),
        (2**32 + 5, [1, 5]),
        (2**64 - 1, [2**32 - 1, 2**32 - 1]),
        (-(2**63), [2**31, 0]),
        (np.int64(7), [0, 7]),
    ],
)
def test_key_from_seed(seed, expected):
    key = prng.key_from_seed(seed)
    assert key.dtype == np.uint32 and key.tolist() == expected


@given(st.integers(-(2**63), 2**64 - 1))
def test_key_from_seed_is_the_64_bit_twos_complement(seed):
    hi, lo = (int(w) for w in prng.key_from_seed(seed))
    assert (hi << 32) | lo == seed % 2**64


@pytest.mark.parametrize("seed", [2**64, -(2**63) - 1, 1.5, "1", True])
def test_key_from_seed_rejects_bad_seeds(seed):
    with pytest.raises((OverflowError, TypeError)):
        prng.key_from_seed(seed)


@pytest.mark.parametrize("key", [np.zeros(3, np.uint32), np.zeros((), np.uint32),
                                 np.array([-1, 0]), np.array([0.5, 1.0])])
def test_bad_keys_are_rejected(key):
    with pytest.raises((TypeError, ValueError)):
        prng.uniform(key, (2,))


def test_split_gives_distinct_keys():
    keys = prng.split(KEY, 1000)
    assert keys.shape == (1000, 2) and keys.dtype == np.uint32
    rows = {tuple(k) for k in keys.tolist()} | {tuple(KEY.tolist())}
    assert len(rows) == 1001
    batched = prng.split(keys[:5], 3)
    assert batched.shape == (5, 3, 2)
    assert np.array_equal(batched[4], prng.split(keys[4], 3))


def test_fold_in_gives_distinct_keys_and_accepts_arrays():
    data = list(range(-50, 50)) + [2**40, 2**63, 2**64 - 51]  # -51 wraps to 2**64 - 51
    keys = [tuple(prng.fold_in(KEY, d).tolist()) for d in data]
    assert len(set(keys) | {tuple(KEY.tolist())}) == len(data) + 1
    as_array = prng.fold_in(KEY, np.arange(-50, 50))
    assert as_array.shape == (100, 2)
    assert [tuple(k) for k in as_array.tolist()] == keys[:100]
    batched = prng.fold_in(prng.split(KEY, 4), 7)
    assert batched.shape == (4, 2)
    assert np.array_equal(batched[2], prng.fold_in(prng.split(KEY, 4)[2], 7))
    assert not np.array_equal(prng.fold_in(KEY, 0), prng.fold_in(prng.fold_in(KEY, 0), 0))


# --------------------------------------------------------------------------------------
# Bits
# --------------------------------------------------------------------------------------


def test_random_bits_layout_and_widths():
    words = prng.random_bits(KEY, (10,))
    assert words.shape == (10,) and words.dtype == np.uint32
    wide = prng.random_bits(KEY, (5,), 64)
    assert wide.dtype == np.uint64
    assert np.array_equal(wide, (words[:5].astype(np.uint64) << 32) | words[5:])
    for width in (8, 16):
        narrow = prng.random_bits(KEY, (10,), width)
        assert narrow.dtype == np.dtype(f"uint{width}")
        assert np.array_equal(narrow, words & (2**width - 1))
    assert prng.bits(KEY, (2, 3), np.uint16).shape == (2, 3)
    with pytest.raises(ValueError):
        prng.random_bits(KEY, (3,), 12)
    with pytest.raises(ValueError):
        prng.bits(KEY, (3,), np.int32)


@pytest.mark.parametrize("n", [1, 2, 7])
def test_random_bits_follows_the_documented_counter_layout(n):
    half = (n + 1) // 2
    counters = list(range(n)) + [0] * (2 * half - n)
    blocks = [_threefry_reference(0, 0, counters[i], counters[half + i]) for i in range(half)]
    expected = ([b[0] for b in blocks] + [b[1] for b in blocks])[:n]
    assert prng.random_bits(np.zeros(2, np.uint32), (n,)).tolist() == expected


def test_bits_are_balanced_and_streams_uncorrelated():
    words = prng.random_bits(KEY, (100_000,))
    ones = (words[:, None] >> np.arange(32, dtype=np.uint32)) & 1
    assert np.abs(ones.mean(axis=0) - 0.5).max() < 0.01  # 5 standard errors is 0.008
    other = prng.random_bits(prng.fold_in(KEY, 1), (100_000,))
    assert abs(np.corrcoef(words.astype(float), other.astype(float))[0, 1]) < 0.015
    neighbours = np.corrcoef(words[:-1].astype(float), words[1:].astype(float))[0, 1]
    assert abs(neighbours) < 0.015


# --------------------------------------------------------------------------------------
# Determinism and batching, for every sampler
# --------------------------------------------------------------------------------------

SAMPLERS = {
    "bits": lambda k: prng.bits(k, (4, 3), np.uint64),
    "uniform": lambda k: prng.uniform(k, (5,), np.float32, -1.0, np.arange(1.0, 6.0)),
    "normal": lambda k: prng.normal(k, (3, 4), np.float64),
    "truncated_normal": lambda k: prng.truncated_normal(k, [-1.0, 3.0], np.inf, None),
    "bernoulli": lambda k: prng.bernoulli(k, np.array([0.1, 0.5, 0.9]), (2, 3)),
    "randint": lambda k: prng.randint(k, (6,), -5, [5, 6, 7, 8, 9, 10], np.int64),
    "permutation": lambda k: prng.permutation(k, np.arange(12).reshape(3, 4), axis=1),
    "choice": lambda k: prng.choice(k, np.arange(10.0), (2, 2), replace=False),
    "choice_p": lambda k: prng.choice(k, 6, (5,), p=np.arange(6.0)),
    "categorical": lambda k: prng.categorical(k, np.zeros((3, 5)), shape=(2, 3)),
    "gumbel": lambda k: prng.gumbel(k, (4,), np.float16),
    "exponential": lambda k: prng.exponential(k, (4,)),
    "laplace": lambda k: prng.laplace(k, (4,)),
    "split": lambda k: prng.split(k, 3),
    "fold_in": lambda k: prng.fold_in(k, 123),
}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_same_key_same_numbers_other_key_other_numbers(name):
    sample = SAMPLERS[name]
    first = sample(KEY)
    assert isinstance(first, np.ndarray)
    assert np.array_equal(first, sample(prng.key_from_seed(0)))
    others = [sample(prng.key_from_seed(s)) for s in range(1, 4)]
    assert any(not np.array_equal(first, o) for o in others)


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_batched_keys_match_a_loop_over_keys(name):
    sample = SAMPLERS[name]
    keys = prng.split(KEY, 6).reshape(2, 3, 2)
    batched = sample(keys)
    single = sample(keys[0, 0])
    assert batched.shape == (2, 3) + single.shape
    assert batched.dtype == single.dtype
    for i in range(2):
        for j in range(3):
            assert np.array_equal(batched[i, j], sample(keys[i, j]))


def test_empty_key_batch_and_empty_shape():
    assert prng.uniform(np.zeros((0, 2), np.uint32), (3,)).shape == (0, 3)
    assert prng.normal(KEY, (0, 4)).shape == (0, 4)
    assert prng.randint(KEY, (0,), 0, 3).shape == (0,)


# --------------------------------------------------------------------------------------
# Continuous samplers
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_uniform_range_dtype_and_moments(dtype):
    u = prng.uniform(KEY, (100_000,), dtype)
    assert u.dtype == dtype and u.min() >= 0 and u.max() < 1
    assert abs(u.astype(float).mean() - 0.5) < 0.005
    assert abs(u.astype(float).var() - 1 / 12) < 0.002
    # Each draw is a multiple of 2**-nmant: exactly nmant random mantissa bits.
    nmant = np.finfo(dtype).nmant
    scaled = u.astype(np.float64) * 2.0**nmant
    assert np.array_equal(scaled, np.floor(scaled))


@FAST
@given(st.floats(-1e6, 1e6), st.floats(1e-3, 1e6), st.sampled_from([np.float32, np.float64]))
def test_uniform_respects_bounds(lo, width, dtype):
    lo, hi = dtype(lo), dtype(lo) + dtype(width)
    assume(hi > lo)
    u = prng.uniform(KEY, (1000,), dtype, lo, hi)
    assert u.dtype == dtype and (u >= lo).all() and (u < hi).all()


def test_uniform_is_strictly_below_maxval_when_rounding_would_reach_it():
    lo = np.float32(1.0)
    hi = np.nextafter(lo, np.float32(2))
    u = prng.uniform(KEY, (1000,), np.float32, lo, hi)
    assert (u == lo).all()
    assert (prng.uniform(KEY, (10,), np.float32, 2.0, 2.0) == 2.0).all()  # empty: minval


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normal_moments_and_cdf(dtype):
    z = prng.normal(KEY, (100_000,), dtype)
    assert z.dtype == dtype and np.isfinite(z).all()
    z = z.astype(np.float64)
    assert abs(z.mean()) < 0.015 and abs(z.std() - 1) < 0.015
    assert abs(np.mean(z**3)) < 0.05 and abs(np.mean(z**4) - 3) < 0.1
    for t in (-2.0, -0.5, 0.3, 1.5):
        cdf = 0.5 * math.erfc(-t / math.sqrt(2))
        assert abs(np.mean(z < t) - cdf) < 0.006


def test_normal_of_float16():
    z = prng.normal(KEY, (10_000,), np.float16)
    assert z.dtype == np.float16 and np.isfinite(z).all() and abs(z.std() - 1) < 0.05


def test_erf_and_erfc_match_math():
    x = np.linspace(-9, 9, 4001)
    assert np.allclose(prng.erf(x), [math.erf(v) for v in x], rtol=1e-14, atol=0)
    assert np.allclose(prng.erfc(x), [math.erfc(v) for v in x], rtol=5e-14, atol=0)
    tail = np.linspace(9, 26, 200)
    assert np.allclose(prng.erfc(tail), [math.erfc(v) for v in tail], rtol=2e-13, atol=0)
    assert prng.erf(np.float32(0.5)).dtype == np.float32
    assert prng.erf(np.array([np.inf, -np.inf])).tolist() == [1.0, -1.0]
    assert prng.erfc(np.array([np.inf, -np.inf])).tolist() == [0.0, 2.0]


def test_erfinv_and_erfcinv_invert():
    y = np.concatenate([np.linspace(-5.9, 5.9, 2001), [1e-300, -1e-20]])
    x = np.array([math.erf(v) for v in y])
    exact = np.abs(x) < 1 - 1e-3  # elsewhere erf has lost the digits of y
    assert np.allclose(prng.erfinv(x[exact]), y[exact], rtol=1e-14, atol=0)
    assert np.allclose([math.erf(v) for v in prng.erfinv(x)], x, rtol=1e-15, atol=0)
    q = np.logspace(-300, 0.3, 500)
    assert np.allclose([math.erfc(v) for v in prng.erfcinv(q)], q, rtol=1e-12, atol=0)
    assert prng.erfinv(np.array([1.0, -1.0])).tolist() == [np.inf, -np.inf]
    assert np.isnan(prng.erfinv(np.array([1.5, -2.0, np.nan]))).all()
    assert prng.erfcinv(np.array([0.0, 2.0])).tolist() == [np.inf, -np.inf]
    assert np.isnan(prng.erfcinv(np.array([-0.1, 2.1]))).all()


def _truncated_mean(a: float, b: float) -> float:
    pdf = lambda t: math.exp(-t * t / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda t: 0.5 * math.erfc(-t / math.sqrt(2))  # noqa: E731
    return (pdf(a) - pdf(b)) / (cdf(b) - cdf(a))


@pytest.mark.parametrize(("lower", "upper"), [(-1.0, 2.0), (-np.inf, 0.5), (0.0, np.inf),
                                              (10.0, np.inf), (-30.0, -29.0)])
def test_truncated_normal_bounds_and_mean(lower, upper):
    x = prng.truncated_normal(KEY, lower, upper, (50_000,), np.float64)
    assert (x > lower).all() and (x < upper).all()
    expected = -_truncated_mean(-upper, -lower) if lower > 0 else _truncated_mean(lower, upper)
    assert abs(x.mean() - expected) < 0.02


def test_truncated_normal_broadcasts_bounds_and_dtype():
    x = prng.truncated_normal(KEY, np.array([-1.0, 0.0, 5.0]), np.array([1.0, 1e-3, 6.0]),
                              (1000, 3), np.float32)
    assert x.dtype == np.float32 and x.shape == (1000, 3)
    assert (x[:, 0] > -1).all() and (x[:, 0] < 1).all()
    assert (x[:, 1] > 0).all() and (x[:, 1] < 1e-3).all()
    assert (x[:, 2] > 5).all() and (x[:, 2] < 6).all()


def test_gumbel_exponential_laplace_moments():
    g = prng.gumbel(KEY, (100_000,), np.float64)
    assert abs(g.mean() - 0.5772156649) < 0.02 and abs(g.var() - math.pi**2 / 6) < 0.05
    e = prng.exponential(KEY, (100_000,), np.float64)
    assert e.min() >= 0 and abs(e.mean() - 1) < 0.015 and abs(e.var() - 1) < 0.05
    lap = prng.laplace(KEY, (100_000,), np.float64)
    assert abs(lap.mean()) < 0.02 and abs(lap.var() - 2) < 0.06
    for sampler in (prng.gumbel, prng.exponential, prng.laplace):
        out = sampler(KEY, (1000,), np.float32)
        assert out.dtype == np.float32 and np.isfinite(out).all()


# --------------------------------------------------------------------------------------
# Discrete samplers
# --------------------------------------------------------------------------------------


def test_bernoulli_frequencies():
    p = np.array([0.0, 0.02, 0.5, 0.97, 1.0])
    b = prng.bernoulli(KEY, p, (20_000, 5))
    assert b.dtype == np.bool_ and b.shape == (20_000, 5)
    assert np.abs(b.mean(axis=0) - p).max() < 0.015
    assert not b[:, 0].any() and b[:, 4].all()
    assert prng.bernoulli(KEY, p).shape == (5,)
    with pytest.raises(ValueError):
        prng.bernoulli(KEY, p, (3,))


def _chi2_ok(counts: np.ndarray, probs: np.ndarray) -> bool:
    """Pearson's statistic within about six standard deviations of its mean."""
    expected = counts.sum() * probs
    stat = float(((counts - expected) ** 2 / expected).sum())
    dof = len(counts) - 1
    return stat < dof + 6 * math.sqrt(2 * dof) + 5


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, np.uint32, np.int64])
def test_randint_frequencies(dtype):
    lo = -7 if np.dtype(dtype).kind == "i" else 3
    r = prng.randint(KEY, (50_000,), lo, lo + 10, dtype)
    assert r.dtype == dtype and r.min() == lo and r.max() == lo + 9
    assert _chi2_ok(np.bincount(r.astype(np.int64) - lo, minlength=10), np.full(10, 0.1))


def test_randint_negative_and_array_bounds():
    r = prng.randint(KEY, (10_000,), -20, -17)
    assert r.dtype == np.int32 and set(r.tolist()) == {-20, -19, -18}
    lo, hi = np.array([-5, 0, 100]), np.array([-4, 2, 200])
    r = prng.randint(KEY, (1000, 3), lo, hi, np.int64)
    assert (r >= lo).all() and (r < hi).all() and (r[:, 0] == -5).all()
    assert prng.randint(KEY, (4,), 5, 5).tolist() == [5] * 4  # empty range gives minval
    with pytest.raises(ValueError):
        prng.randint(KEY, (4,), 0, 1, np.float32)
    with pytest.raises(TypeError):
        prng.randint(KEY, (4,), 0.5, 3)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, np.uint32, np.int64, np.uint64])
def test_randint_full_range_reaches_both_ends_via_clipping(dtype):
    info = np.iinfo(dtype)
    r = prng.randint(KEY, (20_000,), info.min - 5, info.max + 10, dtype)
    assert r.dtype == dtype
    if info.bits == 8:
        assert r.min() == info.min and r.max() == info.max
    # The top bit of the offset from the minimum is fair, whatever the width.
    high = [int(v) - info.min >= 2 ** (info.bits - 1) for v in r]
    assert abs(np.mean(high) - 0.5) < 0.02


@pytest.mark.parametrize(("dtype", "lo", "hi"), [(np.int32, -(2**31), 2**31 - 7),
                                                 (np.uint32, 0, 2**32), (np.int16, -3, 1000),
                                                 (np.int64, -(2**63) + 5, 2**63 - 3),
                                                 (np.uint64, 1, 2**64 - 1), (np.int64, 0, 3)])
def test_randint_is_the_documented_multiply_shift(dtype, lo, hi):
    # minval + floor(R * span / 2**b), R from b / 32 little-endian words of the stream.
    n_words = 2 if np.dtype(dtype).itemsize <= 4 else 4
    words = prng.random_bits(KEY, (50, n_words)).tolist()
    big = [sum(w << (32 * i) for i, w in enumerate(row)) for row in words]
    expected = [lo + (r * (hi - lo) >> (32 * n_words)) for r in big]
    assert [int(v) for v in prng.randint(KEY, (50,), lo, hi, dtype)] == expected


@FAST
@given(st.integers(-(2**63), 2**63 - 1), st.integers(1, 2**64), st.sampled_from([32, 64]))
def test_randint_stays_in_range(lo, span, bits):
    info = np.iinfo(np.dtype(f"int{bits}"))
    lo = min(max(lo, info.min), info.max)
    hi = min(lo + span, info.max + 1)
    r = prng.randint(KEY, (200,), lo, hi, f"int{bits}")
    values = [int(v) for v in r]
    assert min(values) >= lo and max(values) < hi


@FAST
@given(st.integers(0, 300))
def test_permutation_is_a_permutation(n):
    perm = prng.permutation(KEY, n)
    assert perm.shape == (n,) and sorted(perm.tolist()) == list(range(n))


def test_permutation_of_arrays_along_an_axis_with_batched_keys():
    x = np.arange(24).reshape(2, 12)
    keys = prng.split(KEY, 5)
    out = prng.permutation(keys, x, axis=1)
    assert out.shape == (5, 2, 12)
    for row in out:
        assert sorted(row[0].tolist()) == list(range(12))
        assert np.array_equal(row[1], row[0] + 12)  # whole columns move together
    assert len({tuple(row[0]) for row in out.tolist()}) == 5
    assert not np.array_equal(prng.permutation(KEY, 100), np.arange(100))
    with pytest.raises(ValueError):
        prng.permutation(KEY, np.float64(3.0))


def test_permutation_positions_are_uniform():
    keys = prng.split(KEY, 20_000)
    first = prng.permutation(keys, 5)[:, 0]
    assert _chi2_ok(np.bincount(first, minlength=5), np.full(5, 0.2))


def test_choice_without_replacement_is_unique():
    draws = prng.choice(prng.split(KEY, 50), 20, (4, 5), replace=False)
    assert draws.shape == (50, 4, 5)
    for d in draws:
        assert len(set(d.ravel().tolist())) == 20
    weighted = prng.choice(prng.split(KEY, 50), 8, (5,), replace=False, p=np.arange(8.0))
    for d in weighted:
        assert len(set(d.tolist())) == 5 and 0 not in d.tolist()
    with pytest.raises(ValueError):
        prng.choice(KEY, 3, (4,), replace=False)
    with pytest.raises(ValueError):
        prng.choice(KEY, 3, (3,), replace=False, p=np.array([1.0, 1.0, 0.0]))


def test_choice_with_probabilities():
    p = np.array([0.1, 0.0, 0.6, 0.3])
    draws = prng.choice(KEY, 4, (40_000,), p=p)
    counts = np.bincount(draws, minlength=4)
    assert counts[1] == 0
    assert _chi2_ok(counts[[0, 2, 3]], p[[0, 2, 3]])
    unnormalised = prng.choice(KEY, 4, (40_000,), p=10 * p)
    assert np.array_equal(unnormalised, draws)


def test_choice_of_array_slices_along_an_axis():
    a = np.arange(30).reshape(3, 10)
    out = prng.choice(KEY, a, (2, 4), axis=1)
    assert out.shape == (3, 2, 4)
    assert np.array_equal(out[1], out[0] + 10) and (out[0] < 10).all()
    batched = prng.choice(prng.split(KEY, 2), a, (4,), axis=1)
    assert batched.shape == (2, 3, 4)
    scalar = prng.choice(KEY, np.arange(5.0))
    assert scalar.shape == () and scalar.dtype == np.float64


def test_categorical_frequencies_match_softmax():
    logits = np.array([1.0, -0.5, 2.0, 0.0, -np.inf])
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    draws = prng.categorical(KEY, logits, shape=(50_000,))
    counts = np.bincount(draws, minlength=5)
    assert counts[4] == 0
    assert _chi2_ok(counts[:4], probs[:4])


def test_categorical_axis_and_shape():
    logits = np.log(np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]]))  # (3 batch, 2 classes)
    draws = prng.categorical(KEY, logits, shape=(20_000, 3))
    assert draws.shape == (20_000, 3) and draws.dtype == np.int64
    assert np.allclose(draws.mean(axis=0), [0.1, 0.8, 0.5], atol=0.015)
    transposed = prng.categorical(KEY, logits.T, axis=0, shape=(20_000, 3))
    assert np.array_equal(transposed, draws)
    assert prng.categorical(KEY, logits).shape == (3,)
    with pytest.raises(ValueError):
        prng.categorical(KEY, logits, shape=(4,))
