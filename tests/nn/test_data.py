"""Tests for funcgrad_nn.data: batching, datasets, splits, IDX parsing, loaders, downloads.

No test touches the network: downloads go to an http.server on 127.0.0.1, and a guard
fixture fails any connection to another host.
"""

import collections
import gzip
import hashlib
import http.server
import importlib
import os
import socket
import struct
import sys
import threading
import time
import types

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funcgrad_nn import data
from funcgrad_nn.data import (
    ArrayDataset,
    DataLoader,
    Dataset,
    DownloadError,
    Subset,
    batches,
    fashion_mnist,
    mnist,
    random_split,
    read_idx,
    train_test_split,
    write_idx,
)


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture
def make_key(monkeypatch):
    """Key constructor for ``funcgrad.random``; a NumPy stand-in if it is not there yet."""
    try:
        real = importlib.import_module("funcgrad.random")
    except (ImportError, SyntaxError, AttributeError):  # not written yet, or mid-edit
        real = None
    ctor = getattr(real, "key", None) or getattr(real, "PRNGKey", None)
    if ctor is not None and hasattr(real, "permutation"):
        return ctor
    stub = types.ModuleType("funcgrad.random")
    stub.permutation = lambda key, n: np.random.default_rng(key).permutation(n)
    monkeypatch.setitem(sys.modules, "funcgrad.random", stub)
    return lambda seed: seed


@pytest.fixture(autouse=True)
def blocked(monkeypatch):
    """Refuse (and record) any connection not to the loopback interface; ignore proxies.

    Yields the list of blocked addresses; a test that expects blocked connections must
    empty it, otherwise the test fails at teardown.
    """
    attempts = []
    real = socket.create_connection

    def guarded(address, *args, **kwargs):
        if address[0] not in ("127.0.0.1", "localhost", "::1"):
            attempts.append(address)
            raise ConnectionRefusedError(f"test blocked a connection to {address}")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)
    for var in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.upper(), raising=False)
    monkeypatch.setenv("no_proxy", "*")
    yield attempts
    assert attempts == [], f"test tried to reach the network: {attempts}"


def order_of(batch_list, field=lambda b: b):
    return np.concatenate([np.asarray(field(b)) for b in batch_list])


# ------------------------------------------------------------------------------ batches
def test_batches_in_order_without_key():
    x = np.arange(10)
    got = list(batches(None, x, 4, shuffle=False))
    assert [b.tolist() for b in got] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_batches_cover_every_sample_once_and_stay_aligned(make_key):
    n = 23
    x = np.arange(n)
    tree = {"pair": (x * 10, [x.astype(np.float32)]), "img": np.arange(n * 6).reshape(n, 2, 3)}
    got = list(batches(make_key(0), tree, 5))
    assert [len(b["img"]) for b in got] == [5, 5, 5, 5, 3]
    for b in got:
        assert isinstance(b, dict) and isinstance(b["pair"], tuple)
        assert isinstance(b["pair"][1], list)
        idx = b["pair"][0] // 10
        np.testing.assert_array_equal(b["pair"][1][0], idx.astype(np.float32))
        np.testing.assert_array_equal(b["img"], tree["img"][idx])
    seen = order_of(got, lambda b: b["pair"][0] // 10)
    assert sorted(seen.tolist()) == list(range(n))
    assert seen.tolist() != list(range(n))  # actually shuffled


def test_batches_deterministic_per_key(make_key):
    x = np.arange(100)
    a = order_of(batches(make_key(1), x, 7))
    b = order_of(batches(make_key(1), x, 7))
    c = order_of(batches(make_key(2), x, 7))
    np.testing.assert_array_equal(a, b)
    assert a.tolist() != c.tolist()


def test_batches_drop_last(make_key):
    x = np.arange(10)
    got = list(batches(make_key(0), x, 3, drop_last=True))
    assert [len(b) for b in got] == [3, 3, 3]
    assert len(set(order_of(got).tolist())) == 9
    assert [len(b) for b in batches(None, x, 10, shuffle=False, drop_last=True)] == [10]


def test_batches_preserve_namedtuples():
    pair = collections.namedtuple("Pair", "x y")
    b = next(batches(None, pair(np.zeros((4, 2)), np.ones(4)), 3, shuffle=False))
    assert type(b) is pair and b.x.shape == (3, 2) and b.y.shape == (3,)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(n=st.integers(1, 60), bs=st.integers(1, 70), drop_last=st.booleans(), seed=st.integers(0, 9))
def test_batches_coverage_property(make_key, n, bs, drop_last, seed):
    if drop_last and bs > n:
        with pytest.raises(ValueError):
            batches(make_key(seed), np.arange(n), bs, drop_last=drop_last)
        return
    got = list(batches(make_key(seed), np.arange(n), bs, drop_last=drop_last))
    seen = order_of(got)
    assert len(seen) == len(set(seen.tolist()))
    assert len(seen) == (n - n % bs if drop_last else n)
    assert all(len(b) == bs for b in got[:-1])
    assert len(got) == (n // bs if drop_last else -(-n // bs))


@pytest.mark.parametrize("bs", [0, -3])
def test_batches_rejects_non_positive_batch_size(bs):
    with pytest.raises(ValueError, match="batch_size must be positive"):
        batches(None, np.arange(3), bs, shuffle=False)


def test_batches_errors_are_eager_and_clear():
    # No next() needed: errors surface at the call.
    with pytest.raises(ValueError, match=r"\['y'\] has 99") as info:
        batches(None, {"x": np.zeros(100), "y": np.zeros(99)}, 4, shuffle=False)
    assert "['x'] has 100" in str(info.value)
    with pytest.raises(ValueError, match="no batch would be produced"):
        batches(None, np.arange(5), 6, shuffle=False, drop_last=True)
    with pytest.raises(ValueError, match="key"):
        batches(None, np.arange(5), 2)
    with pytest.raises(ValueError, match="leading dimension"):
        batches(None, {"x": np.float32(1.0)}, 1, shuffle=False)


def test_batches_calls_funcgrad_random_permutation(monkeypatch):
    calls = []
    stub = types.ModuleType("funcgrad.random")
    stub.permutation = lambda key, n: calls.append((key, n)) or np.arange(n)[::-1]
    monkeypatch.setitem(sys.modules, "funcgrad.random", stub)
    got = list(batches("KEY", np.arange(5), 2))
    assert calls == [("KEY", 5)]
    assert [b.tolist() for b in got] == [[4, 3], [2, 1], [0]]


# ------------------------------------------------------------------ datasets / loaders
class Squares(Dataset):
    def __len__(self):
        return 7

    def __getitem__(self, i):
        if not 0 <= i < 7:
            raise IndexError(i)
        return np.float32(i), np.array([i * i, -i])


def test_dataset_is_abstract():
    with pytest.raises(TypeError):
        Dataset()


def test_array_dataset():
    ds = ArrayDataset(np.arange(6).reshape(3, 2), np.array([5, 6, 7]))
    assert len(ds) == 3
    x, y = ds[1]
    assert x.tolist() == [2, 3] and y == 6
    with pytest.raises(ValueError, match="array 0 has 3, array 1 has 2"):
        ArrayDataset(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError):
        ArrayDataset()


@pytest.mark.parametrize(("n", "bs", "drop_last"), [(10, 3, False), (10, 3, True), (9, 3, True)])
def test_loader_len_matches_batches(n, bs, drop_last):
    loader = DataLoader(ArrayDataset(np.arange(n)), batch_size=bs, drop_last=drop_last)
    got = list(loader)
    assert len(loader) == len(got) == (n // bs if drop_last else -(-n // bs))
    assert order_of(got, lambda b: b[0]).tolist() == list(range(len(got) * bs))[:n]


def test_loader_shuffle_requires_key(make_key):
    loader = DataLoader(ArrayDataset(np.arange(10)), batch_size=4, shuffle=True)
    with pytest.raises(ValueError) as info:
        iter(loader)
    assert "key=" in str(info.value) and "loader.epoch(key)" in str(info.value)
    with pytest.raises(ValueError, match="key="):
        loader.epoch()
    got = order_of(loader.epoch(make_key(3)), lambda b: b[0])
    assert sorted(got.tolist()) == list(range(10))


def test_loader_is_stateless(make_key):
    x = np.arange(50)
    loader = DataLoader(ArrayDataset(x, -x), batch_size=8, shuffle=True, key=make_key(0))
    first = [b[0].tolist() for b in loader]
    assert [b[0].tolist() for b in loader] == first  # same key, same order
    other = [b[0].tolist() for b in loader.epoch(make_key(1))]
    assert other != first and sorted(x for batch in other for x in batch) == list(range(50))
    for a, b in loader:
        np.testing.assert_array_equal(b, -a)


def test_loader_on_custom_and_duck_typed_datasets(make_key):
    loader = DataLoader(Squares(), batch_size=3)
    xs, ys = zip(*loader, strict=True)
    assert xs[0].dtype == np.float32 and ys[0].shape == (3, 2)
    assert np.concatenate(ys)[:, 0].tolist() == [i * i for i in range(7)]

    class Duck:  # no Dataset base class
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return (np.array(i),)

    got = order_of(DataLoader(Duck(), batch_size=3, shuffle=True, key=make_key(0)), lambda b: b[0])
    assert sorted(got.tolist()) == [0, 1, 2, 3]


def test_loader_errors():
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ArrayDataset(np.arange(3)), batch_size=0)
    loader = DataLoader(ArrayDataset(np.arange(3)), batch_size=5, drop_last=True)
    assert len(loader) == 0
    with pytest.raises(ValueError, match="no batch would be produced"):
        iter(loader)


# ------------------------------------------------------------------------------- splits
def test_train_test_split(make_key):
    x = np.arange(40).reshape(20, 2)
    y = np.arange(20)
    x_tr, x_te, y_tr, y_te = train_test_split(make_key(0), x, y, test_size=0.25)
    assert x_tr.shape == (15, 2) and x_te.shape == (5, 2) and y_tr.shape == (15,)
    np.testing.assert_array_equal(x_tr[:, 0] // 2, y_tr)
    np.testing.assert_array_equal(x_te[:, 0] // 2, y_te)
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(20))
    again = train_test_split(make_key(0), x, y, test_size=0.25)
    np.testing.assert_array_equal(again[3], y_te)
    assert len(train_test_split(make_key(0), y, test_size=0.1)[1]) == 2  # ceil(2.0)
    assert len(train_test_split(make_key(0), y, test_size=0.11)[1]) == 3  # ceil(2.2)
    assert len(train_test_split(make_key(0), y, test_size=4)[1]) == 4


@pytest.mark.parametrize("test_size", [0.0, 1.0, 1.5, 0, 20, -1])
def test_train_test_split_rejects_empty_parts(make_key, test_size):
    with pytest.raises(ValueError):
        train_test_split(make_key(0), np.arange(20), test_size=test_size)


def test_train_test_split_mismatched_arrays(make_key):
    with pytest.raises(ValueError, match="array 0 has 4, array 1 has 3"):
        train_test_split(make_key(0), np.zeros(4), np.zeros(3))


def test_random_split(make_key):
    ds = ArrayDataset(np.arange(10))
    parts = random_split(make_key(0), ds, [6, 3, 1])
    assert [len(p) for p in parts] == [6, 3, 1]
    assert all(isinstance(p, Subset) for p in parts)
    items = [int(p[i][0]) for p in parts for i in range(len(p))]
    assert sorted(items) == list(range(10))
    parts = random_split(make_key(0), ds, [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [5, 3, 2]
    assert [len(p) for p in random_split(make_key(0), ArrayDataset(np.arange(11)), [0.5] * 2)] == [
        6,
        5,
    ]
    loader = DataLoader(parts[0], batch_size=10)
    assert sorted(next(iter(loader))[0].tolist()) == sorted(int(parts[0][i][0]) for i in range(5))
    with pytest.raises(ValueError, match="sum to 9"):
        random_split(make_key(0), ds, [6, 3])
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(make_key(0), ds, [0.5, 0.2])
    with pytest.raises(ValueError, match="non-negative"):
        random_split(make_key(0), ds, [11, -1])


# ------------------------------------------------------------------------------- digits
def test_digits():
    pytest.importorskip("sklearn")
    x, y = data.digits()
    assert x.shape == (1797, 64) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    assert y.dtype == np.int64 and y.shape == (1797,) and set(y.tolist()) == set(range(10))


def test_digits_without_sklearn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install funcgrad\[examples\]"):
        data.digits()


# ---------------------------------------------------------------------------- IDX files
def idx_bytes(array):
    """Independent IDX encoder for uint8 arrays (does not use write_idx)."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def test_read_idx_known_bytes(tmp_path):
    (tmp_path / "a").write_bytes(bytes.fromhex("00000801 00000003 010203".replace(" ", "")))
    assert read_idx(tmp_path / "a").tolist() == [1, 2, 3]
    raw = bytes.fromhex("00000c02 00000001 00000002 00000001 fffffffe".replace(" ", ""))
    (tmp_path / "b").write_bytes(raw)
    got = read_idx(tmp_path / "b")
    assert got.dtype == np.int32 and got.dtype.isnative and got.tolist() == [[1, -2]]
    (tmp_path / "c.gz").write_bytes(gzip.compress(raw))
    assert read_idx(tmp_path / "c.gz").tolist() == [[1, -2]]


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["x-idx", "x-idx.gz"])
def test_write_read_idx_round_trip(tmp_path, dtype, name):
    a = (np.arange(24) - 5).reshape(2, 3, 4).astype(dtype)
    write_idx(tmp_path / name, a)
    got = read_idx(tmp_path / name, md5=hashlib.md5(idx_of(tmp_path / name)).hexdigest())
    assert got.dtype == a.dtype and got.shape == a.shape
    np.testing.assert_array_equal(got, a)


def idx_of(path):
    raw = path.read_bytes()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def test_write_idx_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(TypeError, match="int64"):
        write_idx(tmp_path / "x", np.arange(3, dtype=np.int64))


GOOD = idx_bytes(np.arange(12).reshape(3, 4))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not an IDX file"),
        (b"\x00\x00", "not an IDX file"),
        (b"\x01" + GOOD[1:], "magic"),
        (GOOD[:2] + b"\x07" + GOOD[3:], "dtype code 0x07"),
        (GOOD[:10], "truncated IDX header"),
        (GOOD[:-1], "payload is 11 bytes"),
        (GOOD + b"\x00", "payload is 13 bytes"),
        (GOOD[:3] + b"\x01" + GOOD[4:], "payload"),  # wrong number of dimensions
        (gzip.compress(GOOD)[:-5], "gzip"),
        (gzip.compress(GOOD)[:15], "gzip"),
        (gzip.compress(GOOD)[:-8] + b"\xff\xff\xff\xff" + gzip.compress(GOOD)[-4:], "gzip"),
    ],
)
def test_read_idx_rejects_corruption(tmp_path, content, message):
    path = tmp_path / "broken-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_read_idx_md5_mismatch(tmp_path):
    (tmp_path / "f").write_bytes(GOOD)
    with pytest.raises(ValueError, match=r"MD5.*expected 0+"):
        read_idx(tmp_path / "f", md5="0" * 32)
    assert read_idx(tmp_path / "f", md5=hashlib.md5(GOOD).hexdigest()).shape == (3, 4)


# --------------------------------------------------------------------- MNIST-style sets
FILES = {
    "train-images-idx3-ubyte": (5, 28, 28),
    "train-labels-idx1-ubyte": (5,),
    "t10k-images-idx3-ubyte": (3, 28, 28),
    "t10k-labels-idx1-ubyte": (3,),
}


def make_set(seed=0):
    """Small random MNIST-like set: file name -> (uncompressed IDX bytes, array)."""
    rng = np.random.default_rng(seed)
    arrays = {
        name: rng.integers(0, 10 if "labels" in name else 256, shape, dtype=np.uint8)
        for name, shape in FILES.items()
    }
    return {name: (idx_bytes(a), a) for name, a in arrays.items()}


def write_set(directory, files, gz=True):
    directory.mkdir(parents=True, exist_ok=True)
    for name, (raw, _) in files.items():
        if gz:
            (directory / (name + ".gz")).write_bytes(gzip.compress(raw))
        else:
            (directory / name).write_bytes(raw)


def md5s(files):
    return {name: hashlib.md5(raw).hexdigest() for name, (raw, _) in files.items()}


def assert_loaded(result, files):
    (x, y), (xt, yt) = result
    assert x.dtype == np.uint8 and x.shape == (5, 28, 28)
    assert y.dtype == np.int64 and yt.dtype == np.int64
    np.testing.assert_array_equal(x, files["train-images-idx3-ubyte"][1])
    np.testing.assert_array_equal(y, files["train-labels-idx1-ubyte"][1])
    np.testing.assert_array_equal(xt, files["t10k-images-idx3-ubyte"][1])
    np.testing.assert_array_equal(yt, files["t10k-labels-idx1-ubyte"][1])


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_from_directory(tmp_path, gz):
    files = make_set()
    write_set(tmp_path, files, gz=gz)
    assert_loaded(mnist(tmp_path, download=False, checksums=md5s(files)), files)
    assert_loaded(fashion_mnist(str(tmp_path), download=False, verify=False), files)


def test_mnist_verifies_known_checksums_by_default(tmp_path):
    write_set(tmp_path, make_set())
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz: MD5.*6bbc9ace"):
        mnist(tmp_path, download=False)
    with pytest.raises(ValueError, match="f4a8712d"):
        fashion_mnist(tmp_path, download=False)


def test_mnist_wrong_supplied_checksum(tmp_path):
    files = make_set()
    write_set(tmp_path, files)
    sums = {**md5s(files), "t10k-labels-idx1-ubyte": "f" * 32}
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte"):
        mnist(tmp_path, download=False, checksums=sums)


def test_mnist_missing_file_without_download(tmp_path):
    files = make_set()
    del files["t10k-images-idx3-ubyte"]
    write_set(tmp_path, files)
    with pytest.raises(FileNotFoundError, match=r"t10k-images-idx3-ubyte.*download=True"):
        mnist(tmp_path, download=False, verify=False)


def test_mnist_inconsistent_files(tmp_path):
    files = make_set()
    labels = np.zeros(4, np.uint8)
    files["train-labels-idx1-ubyte"] = (idx_bytes(labels), labels)
    write_set(tmp_path, files)
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte"):
        mnist(tmp_path, download=False, verify=False)
    images = np.zeros((5, 28, 27), np.uint8)
    files["train-images-idx3-ubyte"] = (idx_bytes(images), images)
    write_set(tmp_path, files)
    with pytest.raises(ValueError, match=r"\(N, 28, 28\)"):
        mnist(tmp_path, download=False, verify=False)


def test_mnist_truncated_file_named(tmp_path):
    files = make_set()
    write_set(tmp_path, files, gz=False)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.*truncated"):
        mnist(tmp_path, download=False, verify=False)


def test_default_roots(tmp_path, monkeypatch):
    files = make_set()
    monkeypatch.setattr(data, "_DEBIAN_FASHION_MNIST", str(tmp_path / "nowhere"))
    monkeypatch.setenv("FUNCGRAD_DATA", str(tmp_path / "env"))
    write_set(tmp_path / "env" / "mnist", files)
    assert_loaded(mnist(download=False, verify=False), files)
    with pytest.raises(FileNotFoundError, match="fashion-mnist"):
        fashion_mnist(download=False, verify=False)

    monkeypatch.delenv("FUNCGRAD_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    write_set(tmp_path / "home" / ".cache" / "funcgrad" / "fashion-mnist", files)
    assert_loaded(fashion_mnist(download=False, verify=False), files)
    with pytest.raises(FileNotFoundError, match=r"\.cache.*funcgrad.*mnist"):
        mnist(download=False, verify=False)


def test_fashion_mnist_finds_debian_directory(tmp_path, monkeypatch):
    files = make_set()
    monkeypatch.setenv("FUNCGRAD_DATA", str(tmp_path / "empty"))
    monkeypatch.setattr(data, "_DEBIAN_FASHION_MNIST", str(tmp_path / "debian"))
    write_set(tmp_path / "debian", files)
    assert_loaded(fashion_mnist(download=False, checksums=md5s(files)), files)
    with pytest.raises(FileNotFoundError):  # only with the default root
        fashion_mnist(tmp_path / "empty", download=False, verify=False)


# ------------------------------------------------------------------------- downloading
class Handler(http.server.SimpleHTTPRequestHandler):
    """Static files, plus /short/<file> (lies about Content-Length) and /slow/<file>."""

    log: list

    def do_GET(self):
        self.log.append(self.path)
        if self.path.startswith("/slow/"):
            time.sleep(1.5)
        if self.path.startswith("/short/"):
            body = (self.server.root_dir / "good" / self.path[len("/short/") :]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # clients that hang up early (timeouts, errors) are expected here


@pytest.fixture
def server(tmp_path):
    """HTTP server on 127.0.0.1 serving good/, corrupt/, truncated/, badidx/, mismatch/."""
    root = tmp_path / "www"
    files = make_set()
    write_set(root / "good", files)
    write_set(root / "mismatch", make_set(seed=1))  # valid IDX, other content
    (root / "corrupt").mkdir()
    (root / "truncated").mkdir()
    (root / "badidx").mkdir()
    for name, (raw, _) in files.items():
        gz = gzip.compress(raw)
        (root / "corrupt" / (name + ".gz")).write_bytes(gz[:20] + bytes(len(gz) - 20))
        (root / "truncated" / (name + ".gz")).write_bytes(gz[: len(gz) * 2 // 3])
        (root / "badidx" / (name + ".gz")).write_bytes(gzip.compress(raw[:-7]))
    log = []
    handler = type("H", (Handler,), {"log": log})

    def make_handler(*args, **kwargs):
        return handler(*args, directory=str(root), **kwargs)

    httpd = QuietServer(("127.0.0.1", 0), make_handler)
    httpd.root_dir = root
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield types.SimpleNamespace(url=url, files=files, md5=md5s(files), log=log)
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def test_download_good(server, tmp_path):
    dest = tmp_path / "cache"
    got = mnist(dest, mirrors=[server.url + "/good/"], checksums=server.md5)
    assert_loaded(got, server.files)
    assert sorted(os.listdir(dest)) == sorted(name + ".gz" for name in FILES)
    assert len(server.log) == 4
    # Now cached: the (unreachable) default mirrors are never tried.
    assert_loaded(mnist(dest, checksums=server.md5), server.files)
    assert len(server.log) == 4


def test_download_falls_back_to_next_mirror(server, tmp_path):
    mirrors = [server.url + "/missing", server.url + "/good"]  # no trailing slash is fine
    got = fashion_mnist(tmp_path / "c", mirrors=mirrors, checksums=server.md5)
    assert_loaded(got, server.files)
    assert server.log[:2] == [
        "/missing/train-images-idx3-ubyte.gz",
        "/good/train-images-idx3-ubyte.gz",
    ]


def test_download_into_default_root(server, tmp_path, monkeypatch):
    monkeypatch.setenv("FUNCGRAD_DATA", str(tmp_path / "data"))
    assert_loaded(mnist(mirrors=[server.url + "/good/"], checksums=server.md5), server.files)
    assert len(os.listdir(tmp_path / "data" / "mnist")) == 4


@pytest.mark.parametrize(
    ("mirror", "reason"),
    [
        ("missing", "404"),
        ("corrupt", "gzip"),
        ("truncated", "gzip"),
        ("short", "IncompleteRead|incomplete"),
        ("mismatch", "MD5 mismatch"),
        ("badidx", "MD5 mismatch"),
    ],
)
def test_failed_download_leaves_nothing(server, tmp_path, mirror, reason):
    dest = tmp_path / "cache"
    url = f"{server.url}/{mirror}/"
    with pytest.raises(DownloadError, match=reason) as info:
        mnist(dest, mirrors=[url], checksums=server.md5)
    msg = str(info.value)
    assert url + "train-images-idx3-ubyte.gz" in msg
    assert str(dest) in msg and "by hand" in msg
    assert os.listdir(dest) == []
    assert isinstance(info.value, RuntimeError)


def test_download_lists_every_mirror_tried(server, tmp_path):
    mirrors = [f"{server.url}/missing/", f"{server.url}/truncated/", f"{server.url}/corrupt/"]
    with pytest.raises(DownloadError) as info:
        mnist(tmp_path / "c", mirrors=mirrors, checksums=server.md5)
    for m in mirrors:
        assert m + "train-images-idx3-ubyte.gz" in str(info.value)
    assert os.listdir(tmp_path / "c") == []


def test_download_checks_known_checksums(server, tmp_path):
    with pytest.raises(DownloadError, match=r"MD5 mismatch.*6bbc9ace"):
        mnist(tmp_path / "c", mirrors=[server.url + "/good/"])
    assert os.listdir(tmp_path / "c") == []


def test_download_verify_false_still_validates_idx(server, tmp_path):
    with pytest.raises(DownloadError, match="payload"):
        mnist(tmp_path / "c", mirrors=[server.url + "/badidx/"], verify=False)
    assert os.listdir(tmp_path / "c") == []
    assert_loaded(
        mnist(tmp_path / "d", mirrors=[server.url + "/good/"], verify=False), server.files
    )


def test_download_timeout(server, tmp_path):
    start = time.monotonic()
    with pytest.raises(DownloadError, match="timed out"):
        mnist(tmp_path / "c", mirrors=[server.url + "/slow/"], checksums=server.md5, timeout=0.2)
    assert time.monotonic() - start < 1.4
    assert os.listdir(tmp_path / "c") == []


def test_no_download_when_disallowed(server, tmp_path):
    with pytest.raises(FileNotFoundError):
        mnist(tmp_path / "c", download=False, mirrors=[server.url + "/good/"])
    assert server.log == []


def test_default_mirrors_are_tried_in_order(tmp_path, blocked):
    with pytest.raises(
        DownloadError, match=r"(?s)storage\.googleapis\.com.*ossci-datasets"
    ) as info:
        mnist(tmp_path / "c", checksums={})
    assert "blocked" in str(info.value)
    assert [host for host, _ in blocked] == [
        "storage.googleapis.com",
        "ossci-datasets.s3.amazonaws.com",
    ]
    blocked.clear()
    assert os.listdir(tmp_path / "c") == []
