"""CuPy: the same code on a GPU. Skipped where CuPy (or a GPU) is unavailable."""

import numpy as np
import pytest

cupy = pytest.importorskip("cupy")
try:
    cupy.zeros(1)
except Exception:  # pragma: no cover - CuPy installed without a usable GPU
    pytest.skip("CuPy is installed but no GPU is usable", allow_module_level=True)

import funcgrad as fg  # noqa: E402
import funcgrad.numpy as fnp  # noqa: E402

pytestmark = pytest.mark.gpu


def _loss(w, x):
    return fnp.sum(fnp.tanh(x @ w) ** 2)


def test_grad_vmap_jit_on_cupy_match_numpy():
    rng = np.random.default_rng(0)
    w, x = rng.standard_normal((3, 2)), rng.standard_normal((5, 3))
    wg, xg = cupy.asarray(w), cupy.asarray(x)
    for f in (fg.grad(_loss), fg.jit(fg.grad(_loss))):
        out = f(wg, xg)
        assert isinstance(out, cupy.ndarray)
        np.testing.assert_allclose(cupy.asnumpy(out), fg.grad(_loss)(w, x), rtol=1e-10)
    per = fg.vmap(fg.grad(_loss), in_axes=(None, 0))(wg, xg[:, None])
    assert isinstance(per, cupy.ndarray) and per.shape == (5, 3, 2)
