"""Data pipelines: mini-batching with explicit PRNG keys, datasets and dataset loaders.

Everything here works on NumPy arrays and is stateless: shuffling always takes an
explicit key and calls ``funcgrad.random.permutation(key, n)``, so the same key
gives the same order.

Dataset loaders:

* :func:`digits` - scikit-learn's bundled 8x8 digits (needs ``scikit-learn``).
* :func:`mnist` / :func:`fashion_mnist` - the standard IDX files, read from a
  directory and optionally downloaded (with MD5 verification) into it.

Example:
    >>> import numpy as np
    >>> x, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    >>> [b[1].tolist() for b in batches(None, (x, y), 2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
"""

from __future__ import annotations

import abc
import contextlib
import functools
import gzip
import hashlib
import http.client
import importlib
import itertools
import math
import os
import shutil
import struct
import tempfile
import urllib.request
import zlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "FASHION_MNIST_MD5",
    "FASHION_MNIST_MIRRORS",
    "MNIST_MD5",
    "MNIST_MIRRORS",
    "ArrayDataset",
    "DataLoader",
    "Dataset",
    "DownloadError",
    "Subset",
    "batches",
    "digits",
    "fashion_mnist",
    "mnist",
    "random_split",
    "read_idx",
    "train_test_split",
    "write_idx",
]


# --------------------------------------------------------------------------- helpers
def _permutation(key: Any, n: int) -> np.ndarray:
    """``funcgrad.random.permutation(key, n)`` as an int64 NumPy array, checked."""
    if key is None:
        raise ValueError("shuffling needs a PRNG key, got key=None (or pass shuffle=False)")
    random = importlib.import_module("funcgrad.random")
    order = np.asarray(random.permutation(key, n))
    if order.shape != (n,):
        raise RuntimeError(f"funcgrad.random.permutation returned shape {order.shape}, not ({n},)")
    return order.astype(np.int64, copy=False)


def _check_batch_size(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"batch_size must be an int, got {type(batch_size).__name__}")
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")


def _keystr(path: tuple) -> str:
    return "".join(f"[{k!r}]" for k in path) or "<root>"


def _flatten(tree: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    """``(key_path, leaf)`` pairs of a nested dict/list/tuple, in order."""
    if isinstance(tree, dict):
        return [p for k in tree for p in _flatten(tree[k], (*path, k))]
    if isinstance(tree, (list, tuple)):
        return [p for i, x in enumerate(tree) for p in _flatten(x, (*path, i))]
    return [(path, tree)]


def _unflatten(tree: Any, leaves: Iterator[Any]) -> Any:
    """Rebuild the structure of ``tree`` with ``leaves`` (consumed in order)."""
    if isinstance(tree, dict):
        return {k: _unflatten(v, leaves) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_unflatten(x, leaves) for x in tree]
    if isinstance(tree, tuple):
        items = [_unflatten(x, leaves) for x in tree]
        return type(tree)(*items) if hasattr(tree, "_fields") else tuple(items)
    return next(leaves)


def _common_length(named: Sequence[tuple[str, Any]]) -> int:
    """Shared leading dimension of named arrays; ValueError naming the sizes if not."""
    if not named:
        raise ValueError("expected at least one array")
    sizes = {}
    for name, a in named:
        if np.ndim(a) == 0:
            raise ValueError(f"{name} is a scalar; every array needs a leading dimension")
        sizes[name] = len(a)
    if len(set(sizes.values())) > 1:
        listing = ", ".join(f"{name} has {n}" for name, n in sizes.items())
        raise ValueError(f"arrays must have the same leading dimension: {listing}")
    return next(iter(sizes.values()))


def _batch_index_slices(n: int, batch_size: int, drop_last: bool) -> list[slice]:
    stop = n - n % batch_size if drop_last else n
    return [slice(i, min(i + batch_size, stop)) for i in range(0, stop, batch_size)]


# --------------------------------------------------------------------------- batches
def batches(
    key: Any,
    arrays: Any,
    batch_size: int,
    shuffle: bool = True,
    drop_last: bool = False,
) -> Iterator[Any]:
    """Iterate over aligned mini-batches of a pytree of arrays.

    All arguments are checked (and the permutation drawn) when ``batches`` is
    called, not at the first ``next()``.

    Args:
        key: PRNG key passed to ``funcgrad.random.permutation``; may be ``None``
            when ``shuffle=False``.
        arrays: an array or a nested tuple/list/dict of arrays, all with the same
            leading dimension ``n``.
        batch_size: number of samples per batch (> 0).
        shuffle: visit samples in the order ``funcgrad.random.permutation(key, n)``.
        drop_last: drop the final batch if it has fewer than ``batch_size`` samples.

    Returns:
        An iterator of batches with the same structure as ``arrays``. Every sample
        appears exactly once per pass (except those dropped by ``drop_last``).

    Raises:
        ValueError: ``batch_size <= 0``; leaves with different leading sizes (the
            message names them); ``drop_last=True`` with ``batch_size > n`` (no
            batch would be produced); ``shuffle=True`` with ``key=None``.

    Example:
        >>> import numpy as np
        >>> data = {"x": np.zeros((5, 3)), "y": np.arange(5)}
        >>> [b["x"].shape for b in batches(None, data, 2, shuffle=False, drop_last=True)]
        [(2, 3), (2, 3)]
        >>> import funcgrad.random as fr
        >>> next(batches(fr.PRNGKey(0), data, 2))["y"]
        array([3, 1])
    """
    _check_batch_size(batch_size)
    flat = _flatten(arrays)
    leaves = [np.asarray(leaf) for _, leaf in flat]
    n = _common_length([(_keystr(p), a) for (p, _), a in zip(flat, leaves, strict=True)])
    if drop_last and batch_size > n:
        raise ValueError(
            f"batch_size={batch_size} is larger than the number of samples ({n}) "
            "with drop_last=True: no batch would be produced"
        )
    order = _permutation(key, n) if shuffle else None
    return _iter_batches(arrays, leaves, order, n, batch_size, drop_last)


def _iter_batches(tree, leaves, order, n, batch_size, drop_last) -> Iterator[Any]:
    for s in _batch_index_slices(n, batch_size, drop_last):
        index = s if order is None else order[s]
        yield _unflatten(tree, iter([a[index] for a in leaves]))


# --------------------------------------------------------------------------- datasets
class Dataset(abc.ABC):
    """Abstract map-style dataset: ``len(ds)`` samples, ``ds[i]`` a tuple of arrays.

    Subclasses implement ``__len__`` and ``__getitem__``. They may override
    :meth:`get_batch` for fast batched access.

    Example:
        >>> import numpy as np
        >>> class Squares(Dataset):
        ...     def __len__(self):
        ...         return 4
        ...     def __getitem__(self, i):
        ...         return np.float32(i), np.int64(i * i)
        >>> Squares().get_batch(np.array([1, 3]))[1]
        array([1, 9])
    """

    @abc.abstractmethod
    def __len__(self) -> int:
        """Number of samples."""

    @abc.abstractmethod
    def __getitem__(self, index: int) -> tuple[np.ndarray, ...]:
        """Sample ``index`` as a tuple of arrays."""

    def get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, ...]:
        """Stack the samples at ``indices`` into a tuple of batched arrays.

        Args:
            indices: 1-D integer array of sample indices.

        Returns:
            A tuple with one array per field, each with leading dimension
            ``len(indices)``.

        Raises:
            ValueError: ``indices`` is empty or samples have inconsistent fields.
        """
        samples = [self[int(i)] for i in indices]
        if not samples:
            raise ValueError("cannot build an empty batch")
        if not isinstance(samples[0], tuple):
            return (np.stack(samples),)
        return tuple(np.stack(column) for column in zip(*samples, strict=True))


class ArrayDataset(Dataset):
    """Dataset of aligned arrays: sample ``i`` is ``tuple(a[i] for a in arrays)``.

    Args:
        *arrays: one or more arrays with the same leading dimension.

    Raises:
        ValueError: no arrays, or different leading dimensions (sizes named).

    Example:
        >>> import numpy as np
        >>> ds = ArrayDataset(np.zeros((3, 2)), np.arange(3))
        >>> len(ds), ds[2][1]
        (3, np.int64(2))
    """

    def __init__(self, *arrays: Any) -> None:
        self.arrays = tuple(np.asarray(a) for a in arrays)
        self._n = _common_length([(f"array {i}", a) for i, a in enumerate(self.arrays)])

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index: Any) -> tuple[np.ndarray, ...]:
        return tuple(a[index] for a in self.arrays)

    def get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, ...]:
        """Batched fancy indexing: ``tuple(a[indices] for a in arrays)``."""
        return self[np.asarray(indices)]


class Subset(Dataset):
    """The samples ``indices`` of ``dataset``, in that order.

    Args:
        dataset: the underlying dataset.
        indices: sample indices into ``dataset``.

    Example:
        >>> import numpy as np
        >>> sub = Subset(ArrayDataset(np.arange(10)), [7, 2])
        >>> len(sub), sub[0][0]
        (2, np.int64(7))
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> tuple[np.ndarray, ...]:
        return self.dataset[int(self.indices[index])]

    def get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, ...]:
        """Delegate to the underlying dataset's ``get_batch``."""
        return self.dataset.get_batch(self.indices[np.asarray(indices)])


class DataLoader:
    """PyTorch-style batch iterator over a :class:`Dataset`, stateless underneath.

    ``loader.epoch(key)`` iterates one pass in the order given by ``key``; iterating
    the loader itself uses the ``key`` given at construction, so with a fixed key
    every ``iter(loader)`` gives the same order. Pass a fresh key per epoch (e.g.
    from ``funcgrad.random.split``) to ``epoch`` to reshuffle.

    Args:
        dataset: a :class:`Dataset` (anything with ``__len__`` and ``__getitem__``
            returning a tuple of arrays).
        batch_size: samples per batch (> 0).
        shuffle: shuffle samples with ``funcgrad.random.permutation``.
        drop_last: drop the final incomplete batch.
        key: default PRNG key used by ``iter(loader)``.

    Raises:
        ValueError: ``batch_size <= 0``.

    ``len(loader)`` is the number of batches per epoch (0 when ``drop_last=True`` and
    the dataset is smaller than ``batch_size``; iterating then raises ValueError).

    Example:
        >>> import numpy as np
        >>> loader = DataLoader(ArrayDataset(np.arange(5), np.arange(5) * 2), batch_size=2)
        >>> len(loader), [y.tolist() for x, y in loader]
        (3, [[0, 2], [4, 6], [8]])
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        key: Any = None,
    ) -> None:
        _check_batch_size(batch_size)
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.key = key

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, ...]]:
        return self.epoch(self.key)

    def epoch(self, key: Any = None) -> Iterator[tuple[np.ndarray, ...]]:
        """Iterate over one pass of the dataset.

        Args:
            key: PRNG key for the order (required when ``shuffle=True``; ignored
                otherwise).

        Returns:
            An iterator of batches, each a tuple of arrays.

        Raises:
            ValueError: ``shuffle=True`` and no key; ``drop_last=True`` and the
                dataset is smaller than ``batch_size``.
        """
        n = len(self.dataset)
        if self.shuffle and key is None:
            raise ValueError(
                "this DataLoader shuffles, so it needs a PRNG key: pass `key=` to "
                "DataLoader(...) or call `loader.epoch(key)`"
            )
        if self.drop_last and self.batch_size > n:
            raise ValueError(
                f"batch_size={self.batch_size} is larger than the dataset ({n} samples) "
                "with drop_last=True: no batch would be produced"
            )
        order = _permutation(key, n) if self.shuffle else np.arange(n)
        slices = _batch_index_slices(n, self.batch_size, self.drop_last)
        get_batch = getattr(self.dataset, "get_batch", None)
        if get_batch is None:  # duck-typed dataset without the Dataset base class
            get_batch = functools.partial(Dataset.get_batch, self.dataset)
        return (get_batch(order[s]) for s in slices)


def train_test_split(key: Any, *arrays: Any, test_size: float = 0.25) -> list[np.ndarray]:
    """Randomly split aligned arrays into train and test parts.

    Args:
        key: PRNG key for ``funcgrad.random.permutation``.
        *arrays: arrays with the same leading dimension ``n``.
        test_size: fraction of samples in the test part (``0 < test_size < 1``,
            rounded up as in scikit-learn) or an absolute number of test samples.

    Returns:
        ``[train_a, test_a, train_b, test_b, ...]`` (scikit-learn's order).

    Raises:
        ValueError: no arrays, different leading dimensions, ``key=None``, or a
            ``test_size`` that leaves the train or test part empty.

    Example:
        >>> import numpy as np
        >>> x, y = np.zeros((8, 2)), np.arange(8)
        >>> import funcgrad.random as fr
        >>> x_tr, x_te, y_tr, y_te = train_test_split(fr.PRNGKey(0), x, y)
        >>> x_tr.shape, x_te.shape
        ((6, 2), (2, 2))
    """
    arrays_ = [np.asarray(a) for a in arrays]
    n = _common_length([(f"array {i}", a) for i, a in enumerate(arrays_)])
    if isinstance(test_size, float):
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"test_size must be in (0, 1) as a fraction, got {test_size}")
        n_test = math.ceil(test_size * n)
    elif isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool):
        n_test = int(test_size)
    else:
        raise TypeError(f"test_size must be a float or an int, got {type(test_size).__name__}")
    if not 0 < n_test < n:
        raise ValueError(
            f"test_size={test_size} with {n} samples gives {n_test} test and "
            f"{n - n_test} train samples; both must be non-empty"
        )
    order = _permutation(key, n)
    test, train = order[:n_test], order[n_test:]
    return [part for a in arrays_ for part in (a[train], a[test])]


def random_split(key: Any, dataset: Dataset, lengths: Sequence[float]) -> list[Subset]:
    """Randomly split a dataset into non-overlapping :class:`Subset` objects.

    Args:
        key: PRNG key for ``funcgrad.random.permutation``.
        dataset: the dataset to split.
        lengths: subset sizes summing to ``len(dataset)``, or fractions summing to 1
            (sizes are floored and the remainder given round-robin, like PyTorch).

    Returns:
        One :class:`Subset` per entry of ``lengths``.

    Raises:
        ValueError: negative lengths, or lengths that do not add up.

    Example:
        >>> import numpy as np
        >>> dataset = ArrayDataset(np.arange(10))
        >>> import funcgrad.random as fr
        >>> train, val = random_split(fr.PRNGKey(0), dataset, [0.8, 0.2])
        >>> len(train), len(val)
        (8, 2)
    """
    n = len(dataset)
    if any(x < 0 for x in lengths):
        raise ValueError(f"lengths must be non-negative, got {list(lengths)}")
    if all(isinstance(x, (int, np.integer)) for x in lengths):
        sizes = [int(x) for x in lengths]
        if sum(sizes) != n:
            raise ValueError(f"lengths {sizes} sum to {sum(sizes)}, not len(dataset)={n}")
    else:
        if not math.isclose(sum(lengths), 1.0, abs_tol=1e-6):
            raise ValueError(f"fractions {list(lengths)} must sum to 1 (or give int lengths)")
        sizes = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
    order = _permutation(key, n)
    offsets = np.cumsum([0, *sizes])
    return [Subset(dataset, order[a:b]) for a, b in itertools.pairwise(offsets)]


# --------------------------------------------------------------------------- digits
def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 handwritten digits (no download needed).

    Returns:
        ``(x, y)``: ``x`` float32 of shape (1797, 64) scaled to [0, 1]; ``y`` int64
        labels 0-9 of shape (1797,).

    Raises:
        ImportError: scikit-learn is not installed.

    Example:
        >>> x, y = digits()
        >>> x.shape, x.dtype, y[:3]
        ((1797, 64), dtype('float32'), array([0, 1, 2]))
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise ImportError(
            "funcgrad_nn.data.digits() needs scikit-learn: pip install funcgrad[examples] "
            "(or pip install scikit-learn)"
        ) from e
    bunch = load_digits()
    x = (np.asarray(bunch.data, dtype=np.float32) / np.float32(16.0)).astype(np.float32)
    return x, np.asarray(bunch.target, dtype=np.int64)


# --------------------------------------------------------------------------- IDX files
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _decompress(data: bytes, source: str) -> bytes:
    """Gunzip ``data`` if it is a gzip stream; ValueError naming ``source`` if corrupt."""
    if not data.startswith(_GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(f"{source}: corrupt or truncated gzip stream ({e})") from e


def _parse_idx(data: bytes, source: str) -> np.ndarray:
    """Parse uncompressed IDX bytes, checking magic, dtype, dims and payload length."""
    if len(data) < 4:
        raise ValueError(f"{source}: not an IDX file (only {len(data)} bytes)")
    if data[:2] != b"\0\0":
        raise ValueError(f"{source}: bad IDX magic number {data[:4].hex()}")
    code, ndim = data[2], data[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{source}: unknown IDX dtype code 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{source}: truncated IDX header ({len(data)} < {header} bytes)")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = _IDX_DTYPES[code]
    expected = math.prod(shape) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(
            f"{source}: IDX payload is {len(data) - header} bytes but shape {shape} of "
            f"{dtype.name} needs {expected} (truncated or corrupt file)"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # native byte order, writable copy


def read_idx(path: str | os.PathLike, md5: str | None = None) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed) into a NumPy array.

    Args:
        path: the file; gzip content is detected by its magic bytes.
        md5: if given, the expected MD5 hex digest of the uncompressed content.

    Returns:
        The array, in native byte order.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: corrupt or truncated gzip stream or IDX data, or MD5 mismatch;
            the message names the file.

    Example:
        >>> import os, tempfile
        >>> import numpy as np
        >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte.gz")
        >>> write_idx(path, np.array([3, 1, 4], np.uint8))
        >>> read_idx(path)
        array([3, 1, 4], dtype=uint8)
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = _decompress(f.read(), path)
    if md5 is not None:
        digest = hashlib.md5(data).hexdigest()
        if digest != md5.lower():
            raise ValueError(
                f"{path}: MD5 of the uncompressed content is {digest}, expected {md5} "
                "(corrupt or wrong file)"
            )
    return _parse_idx(data, path)


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write an array as an IDX file, gzip-compressed if ``path`` ends with ``.gz``.

    Args:
        path: destination file.
        array: array of dtype uint8, int8, int16, int32, float32 or float64.

    Returns:
        None.

    Raises:
        TypeError: the dtype has no IDX code.

    Example:
        >>> import os, tempfile
        >>> import numpy as np
        >>> path = os.path.join(tempfile.mkdtemp(), "x-idx3-ubyte")
        >>> write_idx(path, np.zeros((2, 28, 28), np.uint8))
        >>> os.path.getsize(path)
        1584
    """
    array = np.asarray(array)
    codes = {dt.newbyteorder("="): code for code, dt in _IDX_DTYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(f"dtype {array.dtype} cannot be stored in an IDX file")
    big = array.astype(_IDX_DTYPES[code], copy=False)
    data = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data += np.ascontiguousarray(big).tobytes()
    path = os.fspath(path)
    with open(path, "wb") as f:
        f.write(gzip.compress(data, mtime=0) if path.endswith(".gz") else data)


# --------------------------------------------------------------------------- MNIST
MNIST_MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)
FASHION_MNIST_MIRRORS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)

MNIST_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
FASHION_MNIST_MD5 = {
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}
_DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
_DOWNLOAD_TIMEOUT = 60.0


class DownloadError(RuntimeError):
    """A dataset file could not be downloaded from any mirror."""


def _default_root(name: str) -> str:
    base = os.environ.get("FUNCGRAD_DATA")
    if base:
        return os.path.join(base, name)
    return os.path.join(os.path.expanduser("~"), ".cache", "funcgrad", name)


def _find(filename: str, dirs: Sequence[str]) -> str | None:
    for d in dirs:
        for candidate in (filename, filename + ".gz"):
            path = os.path.join(d, candidate)
            if os.path.isfile(path):
                return path
    return None


def _fetch(url: str, tmp_file: Any, timeout: float) -> None:
    """Stream ``url`` into the open file ``tmp_file``; error if the body is short."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        expected = response.headers.get("Content-Length")
        shutil.copyfileobj(response, tmp_file, 1 << 20)
    written = tmp_file.tell()
    if expected is not None and written != int(expected):
        raise OSError(f"incomplete download: got {written} of {expected} bytes")


def _download(
    filename: str, root: str, mirrors: Sequence[str], md5: str | None, timeout: float
) -> str:
    """Download ``filename`` (``.gz``) into ``root``; verify before moving into place."""
    os.makedirs(root, exist_ok=True)
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + filename + ".gz"
        fd, tmp = tempfile.mkstemp(dir=root, prefix=f".{filename}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                _fetch(url, f, timeout)
                f.flush()
                os.fsync(f.fileno())
            with open(tmp, "rb") as f:
                raw = f.read()
            data = _decompress(raw, url)
            digest = hashlib.md5(data).hexdigest()
            if md5 is not None and digest != md5.lower():
                raise ValueError(f"MD5 mismatch: got {digest}, expected {md5}")
            _parse_idx(data, url)
            dest = os.path.join(root, filename + (".gz" if raw.startswith(_GZIP_MAGIC) else ""))
            os.replace(tmp, dest)
            return dest
        except (OSError, ValueError, http.client.HTTPException) as e:
            failures.append(f"  {url}: {type(e).__name__}: {e}")
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    tried = "\n".join(failures) or "  (no mirrors given)"
    raise DownloadError(
        f"could not download {filename!r}; tried:\n{tried}\n"
        f"Download it by hand and put it in {root!r} as {filename}.gz (or uncompressed "
        f"as {filename}), or pass root= / set FUNCGRAD_DATA to a directory that has it."
    )


def _load_idx_set(
    name: str,
    root: str | os.PathLike | None,
    download: bool,
    mirrors: Sequence[str],
    verify: bool,
    known_md5: Mapping[str, str],
    checksums: Mapping[str, str] | None,
    timeout: float,
    extra_dirs: Sequence[str] = (),
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    if root is None:
        target = _default_root(name)
        dirs = [target, *extra_dirs]
    else:
        target = os.fspath(root)
        dirs = [target]
    md5s = {**known_md5, **(checksums or {})} if verify else {}

    def get(filename: str) -> np.ndarray:
        path = _find(filename, dirs)
        if path is None:
            if not download:
                raise FileNotFoundError(
                    f"{name}: {filename}[.gz] not found in {dirs}; pass download=True or put "
                    f"the file there by hand"
                )
            path = _download(filename, target, mirrors, md5s.get(filename), timeout)
        return read_idx(path, md5s.get(filename))

    splits = []
    for prefix in ("train", "t10k"):
        images_file, labels_file = f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"
        x, y = get(images_file), get(labels_file)
        if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (28, 28):
            raise ValueError(
                f"{name}: {images_file} holds {x.dtype} {x.shape}, expected uint8 (N, 28, 28)"
            )
        if y.dtype != np.uint8 or y.ndim != 1 or len(y) != len(x):
            raise ValueError(
                f"{name}: {labels_file} holds {y.dtype} {y.shape}, "
                f"expected uint8 ({len(x)},) to match {images_file}"
            )
        splits.append((x, y.astype(np.int64)))
    return splits[0], splits[1]


def mnist(
    root: str | os.PathLike | None = None,
    download: bool = True,
    *,
    mirrors: Sequence[str] | None = None,
    verify: bool = True,
    checksums: Mapping[str, str] | None = None,
    timeout: float = _DOWNLOAD_TIMEOUT,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST from the standard IDX files, downloading missing files if allowed.

    Files are looked up as ``<root>/train-images-idx3-ubyte`` (or with ``.gz``),
    ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
    ``t10k-labels-idx1-ubyte``. The default ``root`` is ``$FUNCGRAD_DATA/mnist`` if
    ``FUNCGRAD_DATA`` is set, else ``~/.cache/funcgrad/mnist``. Downloads go to a
    temporary file in ``root`` and are moved into place only once the MD5 of the
    uncompressed content and the IDX structure check out. A file that is present but
    corrupt raises; it is not re-downloaded.

    Args:
        root: directory holding (or to receive) the files.
        download: download missing files from ``mirrors``.
        mirrors: base URLs tried in order (default :data:`MNIST_MIRRORS`).
        verify: check the MD5 of the uncompressed content (:data:`MNIST_MD5`,
            updated with ``checksums``).
        checksums: per-file MD5 overrides, keyed by file name without ``.gz``.
        timeout: socket timeout in seconds for each download.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: images uint8 of shape
        (N, 28, 28) (60000 train, 10000 test), labels int64 of shape (N,).

    Raises:
        FileNotFoundError: a file is missing and ``download=False``.
        DownloadError: (a ``RuntimeError``) no mirror gave a valid file; the message
            lists the URLs tried and where to put the files by hand.
        ValueError: a file is truncated or corrupt or fails its checksum (the
            message names it).

    Example:
        >>> import os, tempfile
        >>> import numpy as np
        >>> root = tempfile.mkdtemp()
        >>> for p, n in (("train", 3), ("t10k", 2)):
        ...     x = np.zeros((n, 28, 28), np.uint8)
        ...     write_idx(os.path.join(root, f"{p}-images-idx3-ubyte.gz"), x)
        ...     y = np.arange(n, dtype=np.uint8)
        ...     write_idx(os.path.join(root, f"{p}-labels-idx1-ubyte.gz"), y)
        >>> (x, y), (xt, yt) = mnist(root, download=False, verify=False)
        >>> x.shape, y.dtype, xt.shape
        ((3, 28, 28), dtype('int64'), (2, 28, 28))
    """
    return _load_idx_set(
        "mnist",
        root,
        download,
        MNIST_MIRRORS if mirrors is None else mirrors,
        verify,
        MNIST_MD5,
        checksums,
        timeout,
    )


def fashion_mnist(
    root: str | os.PathLike | None = None,
    download: bool = True,
    *,
    mirrors: Sequence[str] | None = None,
    verify: bool = True,
    checksums: Mapping[str, str] | None = None,
    timeout: float = _DOWNLOAD_TIMEOUT,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Fashion-MNIST from the standard IDX files, downloading if allowed.

    Same API and file names as :func:`mnist`. The default ``root`` is
    ``$FUNCGRAD_DATA/fashion-mnist`` or ``~/.cache/funcgrad/fashion-mnist``; with
    ``root=None`` the files installed by Debian's ``dataset-fashion-mnist`` package
    (``/usr/share/datasets/fashion-mnist``) are found too. Checksums are
    :data:`FASHION_MNIST_MD5`, mirrors :data:`FASHION_MNIST_MIRRORS`.

    Args:
        root: directory holding (or to receive) the files.
        download: download missing files from ``mirrors``.
        mirrors: base URLs tried in order.
        verify: check the MD5 of the uncompressed content.
        checksums: per-file MD5 overrides, keyed by file name without ``.gz``.
        timeout: socket timeout in seconds for each download.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: images uint8 (N, 28, 28),
        labels int64 (N,).

    Raises:
        FileNotFoundError: a file is missing and ``download=False``.
        DownloadError: no mirror gave a valid file.
        ValueError: a file is truncated, corrupt or fails its checksum.

    Example:
        >>> (x, y), (x_test, y_test) = fashion_mnist()  # doctest: +SKIP
        >>> x.shape, y[:3]  # doctest: +SKIP
        ((60000, 28, 28), array([9, 0, 0]))
    """
    return _load_idx_set(
        "fashion-mnist",
        root,
        download,
        FASHION_MNIST_MIRRORS if mirrors is None else mirrors,
        verify,
        FASHION_MNIST_MD5,
        checksums,
        timeout,
        extra_dirs=(_DEBIAN_FASHION_MNIST,),
    )
