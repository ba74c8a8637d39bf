"""The recycled large-buffer pool (funcgrad/_src/buffers.py): blocks come back only when
nothing can reach them, and funcgrad results that use it keep their values."""

import gc
import os
import platform
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._src import buffers

SHAPE = (512, 512)  # 1 MiB of float32: buffers.MIN_BYTES


def _addr(a):
    return a.__array_interface__["data"][0]


@pytest.fixture(autouse=True)
def _fresh_pool():
    buffers.clear()
    yield
    fg.config.update("buffer_pool_bytes", 256 << 20)


def test_block_is_reused_after_the_array_dies():
    a = buffers.empty(SHAPE, np.float32)
    addr = _addr(a)
    del a
    b = buffers.empty(SHAPE, np.float32)
    assert _addr(b) == addr


def test_a_live_view_keeps_the_block():
    a = buffers.empty(SHAPE, np.float32)
    a[:] = 7.0
    views = [a[10:20], a.T, a.reshape(-1), a[::2, ::3]]
    addr = _addr(a)
    del a
    gc.collect()
    others = [buffers.empty(SHAPE, np.float32) for _ in range(3)]
    for o in others:
        assert _addr(o) != addr
        o[:] = -1.0
    for v in views:
        assert np.all(v == 7.0)
    del views, v
    assert _addr(buffers.empty(SHAPE, np.float32)) == addr


def test_same_size_different_dtype_and_shape_share_blocks():
    a = buffers.empty((512, 512), np.float32)
    addr = _addr(a)
    del a
    b = buffers.empty((512, 256), np.float64)  # same number of bytes
    assert _addr(b) == addr and b.dtype == np.float64 and b.shape == (512, 256)
    assert b.flags.c_contiguous and b.flags.writeable and b.flags.aligned


def test_small_arrays_are_plain_numpy():
    a = buffers.empty((10,), np.float32)
    assert a.flags.owndata
    del a
    assert buffers.idle_bytes() == 0


def test_limit_and_switch_off():
    fg.config.update("buffer_pool_bytes", 1200 << 10)  # room for one 1 MiB block
    a, b = buffers.empty(SHAPE, np.float32), buffers.empty(SHAPE, np.float32)
    del a, b
    assert buffers.idle_bytes() == 1 << 20
    fg.config.update("buffer_pool_bytes", 0)
    assert buffers.idle_bytes() == 0
    c = buffers.empty(SHAPE, np.float32)
    assert c.flags.owndata  # plain NumPy when the pool is off
    with pytest.raises(ValueError, match="buffer_pool_bytes"):
        fg.config.update("buffer_pool_bytes", -1)


def test_zeros():
    a = buffers.empty(SHAPE, np.float32)
    a[:] = 3.0
    del a
    z = buffers.zeros(SHAPE, np.float32)
    assert not z.any()


def test_threads_each_get_their_own_blocks():
    seen, lock = [], threading.Lock()

    def work(value):
        for _ in range(50):
            a = buffers.empty(SHAPE, np.float32)
            a.fill(value)
            ok = bool(np.all(a == value))
            with lock:
                seen.append(ok)
            del a

    threads = [threading.Thread(target=work, args=(float(i),)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 200 and all(seen)


def test_results_survive_later_steps():
    """Gradients of a conv/relu/pool/matmul model stay intact while later steps reuse
    the pool: results kept from step k equal a recomputation."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 2, 40, 40)).astype(np.float32)  # 2.9 MB conv output
    w = rng.standard_normal((8, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal(8).astype(np.float32)
    from funcgrad_nn import functional as F

    def loss(w, b, x):
        h = F.max_pool2d(fg.nn.relu(F.conv2d(x, w, b)), 2)
        return fnp.sum(fnp.reshape(h, (64, -1)) @ fnp.ones((h[0].size, 3), np.float32) ** 2)

    g = fg.grad(loss, argnums=(0, 1, 2))
    kept = [g(w, b, x * (k + 1)) for k in range(4)]
    for k, got in enumerate(kept):
        want = g(w, b, x * (k + 1))
        for a, c in zip(got, want):
            np.testing.assert_array_equal(a, c)


def test_model_results_come_from_the_pool():
    """The test above is about pooled arrays: the conv output there is large enough."""
    from funcgrad_nn import functional as F

    x = np.ones((64, 2, 40, 40), np.float32)
    y = F.conv2d(x, np.ones((8, 2, 3, 3), np.float32), np.zeros(8, np.float32))
    assert y.nbytes >= buffers.MIN_BYTES and type(y.base) is buffers._Owner


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="about glibc's malloc")
def test_import_primes_malloc_for_mid_sized_temporaries():
    """A step's mid-sized temporaries (here ten of 256 KiB) are freed together at its end.
    In a fresh process glibc's trim threshold is then only twice the largest block freed so
    far, so it hands the pages back and the next step faults them in again. Importing
    funcgrad frees one 8 MiB block first, which raises both thresholds: the pages stay —
    unless the pool, and with it the priming, is switched off."""
    code = (
        "import resource, numpy as np, funcgrad\n"
        "f = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "def step():\n"
        "    return [np.ones(256 << 10, np.uint8) for _ in range(10)]\n"
        "step()\n"
        "b = f()\n"
        "for _ in range(10):\n"
        "    step()\n"
        "print(f() - b)\n")

    def faults(pool):
        env = dict(os.environ, FUNCGRAD_BUFFER_POOL_BYTES=str(pool))
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True)
        return int(out.stdout.strip())

    assert faults(256 << 20) < 300  # 10 steps x 640 pages would be 6,400
    assert faults(0) > 3000  # the unprimed default: the pages come back every step


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_starts_with_a_fresh_pool():
    a = buffers.empty(SHAPE, np.float32)
    del a
    assert buffers.idle_bytes() > 0
    buffers._lock.acquire()  # as if another thread held it at the fork
    try:
        r, w = os.pipe()
        with warnings.catch_warnings():  # Python >= 3.12 warns about fork with threads
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # child: must not deadlock, and owns no parent blocks
            try:
                ok = buffers.idle_bytes() == 0
                b = buffers.empty(SHAPE, np.float32)
                b.fill(1.0)
                del b
                ok = ok and buffers.idle_bytes() > 0
                os.write(w, b"1" if ok else b"0")
            finally:
                os._exit(0)
    finally:
        buffers._lock.release()
    os.close(w)
    got = os.read(r, 1)
    os.close(r)
    os.waitpid(pid, 0)
    assert got == b"1"
