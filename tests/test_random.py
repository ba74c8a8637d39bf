"""fg.random: explicit keys, determinism, vmap over keys, jit, errors."""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp

SAMPLERS = [
    ("normal", lambda k: fg.random.normal(k, (3, 2))),
    ("uniform", lambda k: fg.random.uniform(k, (5,), minval=-2.0, maxval=3.0)),
    ("bernoulli", lambda k: fg.random.bernoulli(k, 0.3, (6,))),
    ("randint", lambda k: fg.random.randint(k, (4,), -3, 9)),
    ("permutation", lambda k: fg.random.permutation(k, 7)),
    ("choice", lambda k: fg.random.choice(k, 10, (3,), replace=False)),
    ("truncated_normal", lambda k: fg.random.truncated_normal(k, -1.0, 2.0, (5,))),
    ("gumbel", lambda k: fg.random.gumbel(k, (2,))),
    ("categorical", lambda k: fg.random.categorical(k, fnp.log(fnp.array([0.2, 0.3, 0.5])))),
]


@pytest.mark.parametrize("name,sample", SAMPLERS, ids=[s[0] for s in SAMPLERS])
def test_same_key_same_numbers_and_vmap_over_keys_equals_loop(name, sample):
    key = fg.random.key(42)
    np.testing.assert_array_equal(sample(key), sample(fg.random.key(42)))
    keys = fg.random.split(key, 4)
    batched = fg.vmap(sample)(keys)
    looped = np.stack([sample(k) for k in keys])
    np.testing.assert_array_equal(batched, looped)
    np.testing.assert_array_equal(fg.jit(sample)(key), sample(key))
    assert not np.array_equal(looped[0], looped[1]) or name == "categorical"


def test_split_and_fold_in_give_distinct_streams():
    k = fg.random.key(0)
    a, b = fg.random.split(k)
    c = fg.random.fold_in(k, 1)
    draws = [fg.random.normal(x, (8,)) for x in (k, a, b, c)]
    for i in range(4):
        for j in range(i + 1, 4):
            assert not np.allclose(draws[i], draws[j])


def test_dtypes_and_ranges():
    k = fg.random.key(1)
    assert fg.random.normal(k, (2,)).dtype == np.float32
    assert fg.random.normal(k, (2,), dtype=np.float64).dtype == np.float64
    u = fg.random.uniform(k, (1000,), minval=-2.0, maxval=3.0)
    assert u.min() >= -2.0 and u.max() < 3.0
    r = fg.random.randint(k, (1000,), -3, 9)
    assert r.dtype == np.int32 and r.min() >= -3 and r.max() < 9
    assert sorted(fg.random.permutation(k, 50).tolist()) == list(range(50))
    x = np.arange(10.0)
    assert sorted(fg.random.permutation(k, x).tolist()) == x.tolist()


def test_statistics_are_sane():
    k = fg.random.key(7)
    z = fg.random.normal(k, (200_000,), dtype=np.float64)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    p = np.bincount(fg.random.categorical(k, np.log(np.array([[0.2, 0.3, 0.5]] * 20000))),
                    minlength=3) / 20000
    np.testing.assert_allclose(p, [0.2, 0.3, 0.5], atol=0.015)


def test_bad_key_is_a_clear_error():
    with pytest.raises(TypeError, match="key"):
        fg.random.normal(np.array([1.0, 2.0]), (2,))


def test_sampling_with_traced_parameters_is_differentiable():
    k = fg.random.key(0)
    g = fg.grad(lambda lo: fnp.sum(fg.random.uniform(k, (5,), minval=lo, maxval=lo + 1.0)))(
        np.float32(0.0))
    assert float(g) == pytest.approx(5.0)
