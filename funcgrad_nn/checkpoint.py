"""Save and load pytrees of arrays as a single ``.npz`` file, without pickle.

A checkpoint is an ordinary NumPy ``.npz`` archive. The leaves are stored as
``leaf_0``, ``leaf_1``, ... and the tree structure as UTF-8 JSON in a ``uint8``
entry named ``__tree__``. Files are loaded with ``allow_pickle=False``, so loading
an untrusted checkpoint can never execute code.

Supported trees: nested ``dict`` (``str`` keys), ``list``, ``tuple``, ``None``
and leaves that are NumPy arrays, NumPy scalars, Python ``bool``/``int``/
``float``/``complex``/``str``/``bytes`` or any object convertible with ``np.asarray`` to a
non-object dtype. Python scalars and NumPy scalars come back as the same kind of
scalar; everything else comes back as a NumPy array. ``dict``/``list``/``tuple``
subclasses (``OrderedDict``, named tuples) come back as the plain type.

Example:
    >>> import os, tempfile
    >>> import numpy as np
    >>> from funcgrad_nn import checkpoint
    >>> path = os.path.join(tempfile.mkdtemp(), "params.npz")
    >>> params = {"w": np.ones((2, 3), np.float32), "step": 7}
    >>> checkpoint.save(path, params)
    >>> restored = checkpoint.load(path, like=params)
    >>> restored["w"].shape, restored["step"]
    ((2, 3), 7)
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from typing import Any

import numpy as np

__all__ = ["load", "save"]

_FORMAT = "funcgrad_nn.checkpoint"
_VERSION = 1
_TREE_KEY = "__tree__"
_PY_SCALARS = {
    "bool": bool,
    "int": int,
    "float": float,
    "complex": complex,
    "str": str,
    "bytes": bytes,
}


def _keystr(path: tuple) -> str:
    """Format a key path like ``['layer'][0]``; the root is ``<root>``."""
    return "".join(f"[{k!r}]" for k in path) or "<root>"


# --------------------------------------------------------------------------- encoding
def _encode(tree: Any, path: tuple, leaves: list[np.ndarray]) -> dict:
    """Return the JSON structure node of ``tree``; append its leaves to ``leaves``."""
    if tree is None:
        return {"t": "none"}
    if isinstance(tree, dict):
        keys = list(tree)
        for k in keys:
            if not isinstance(k, str):
                raise TypeError(
                    f"checkpoint dict keys must be str; got {k!r} ({type(k).__name__}) "
                    f"at {_keystr(path)}"
                )
        children = [_encode(tree[k], (*path, k), leaves) for k in keys]
        return {"t": "dict", "k": keys, "c": children}
    if isinstance(tree, (list, tuple)):
        children = [_encode(x, (*path, i), leaves) for i, x in enumerate(tree)]
        return {"t": "list" if isinstance(tree, list) else "tuple", "c": children}
    node: dict[str, Any] = {"t": "leaf", "i": len(leaves)}
    if isinstance(tree, np.generic):  # before Python types: np.float64 subclasses float
        node["py"] = "numpy"
    else:  # exact type first (bool subclasses int), then subclasses such as IntEnum
        py = next((name for name, t in _PY_SCALARS.items() if type(tree) is t), None)
        py = py or next((name for name, t in _PY_SCALARS.items() if isinstance(tree, t)), None)
        if py is not None:
            node["py"] = py
    try:
        arr = np.asarray(tree)
    except Exception as e:
        raise TypeError(f"cannot store leaf at {_keystr(path)}: {e}") from e
    if arr.dtype.hasobject:
        raise TypeError(
            f"cannot store leaf at {_keystr(path)}: object dtype is not supported "
            f"(got {type(tree).__name__} -> dtype {arr.dtype}); checkpoints never pickle"
        )
    leaves.append(arr)
    return node


def _write_npz(f: Any, entries: dict[str, np.ndarray]) -> None:
    """Write ``entries`` to the open binary file ``f`` (separate for crash tests)."""
    np.savez(f, **entries)


def _fsync_dir(directory: str) -> None:
    """Best-effort fsync of a directory so that a rename is durable (POSIX only)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(directory, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save(path: str | os.PathLike, tree: Any) -> None:
    """Atomically write a pytree of arrays to ``path`` as an ``.npz`` file.

    The data is written to a temporary file in the same directory, flushed and
    fsynced, then renamed onto ``path`` with ``os.replace``. If anything fails, the
    temporary file is removed and an existing checkpoint at ``path`` is untouched.
    The file is written exactly at ``path``: unlike ``np.savez``, no ``.npz``
    suffix is appended.

    Args:
        path: destination file name (``str`` or ``os.PathLike``).
        tree: nested ``dict`` (``str`` keys) / ``list`` / ``tuple`` / ``None`` with
            array or scalar leaves.

    Returns:
        None.

    Raises:
        TypeError: a dict key is not a ``str``, or a leaf cannot be stored without
            pickle (e.g. object dtype); the message names the key path.
        OSError: the file could not be written (the old checkpoint is kept).

    Example:
        >>> import os, tempfile
        >>> import numpy as np
        >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
        >>> save(path, {"layer": [np.zeros(3), None], "lr": 0.1})
        >>> load(path)["lr"]
        0.1
    """
    path = os.fspath(path)
    leaves: list[np.ndarray] = []
    structure = _encode(tree, (), leaves)
    header = json.dumps({"format": _FORMAT, "version": _VERSION, "tree": structure})
    entries = {_TREE_KEY: np.frombuffer(header.encode("utf-8"), dtype=np.uint8)}
    entries.update((f"leaf_{i}", leaf) for i, leaf in enumerate(leaves))

    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{base}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            _write_npz(f, entries)
            f.flush()
            os.fsync(f.fileno())
        try:
            mode = os.stat(path).st_mode & 0o777
        except FileNotFoundError:
            mode = 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


# --------------------------------------------------------------------------- decoding
def _decode(node: Any, arrays: dict[str, np.ndarray], used: set) -> Any:
    """Rebuild a tree from its JSON structure node and the stored leaves."""
    kind = node["t"]
    if kind == "none":
        return None
    if kind == "dict":
        keys, children = node["k"], node["c"]
        if len(keys) != len(children) or not all(isinstance(k, str) for k in keys):
            raise ValueError("malformed dict node")
        return {k: _decode(c, arrays, used) for k, c in zip(keys, children, strict=True)}
    if kind in ("list", "tuple"):
        children = [_decode(c, arrays, used) for c in node["c"]]
        return children if kind == "list" else tuple(children)
    if kind == "leaf":
        index = node["i"]
        if not isinstance(index, int) or index in used:
            raise ValueError(f"malformed leaf index {index!r}")
        used.add(index)
        arr = arrays[f"leaf_{index}"]
        py = node.get("py")
        if py is None:
            return arr
        if arr.shape != ():
            raise ValueError(f"scalar leaf {index} has shape {arr.shape}")
        if py == "numpy":
            return arr[()]
        return _PY_SCALARS[py](arr.item())
    raise ValueError(f"unknown node kind {kind!r}")


def _read(path: str) -> Any:
    """Read and decode a checkpoint file, raising ValueError on any corruption.

    Corrupt bytes can surface as almost any exception from ``zipfile`` (BadZipFile,
    NotImplementedError for a garbled compression method, RuntimeError, ...),
    ``zlib``, ``numpy`` or ``json``, so every ``Exception`` other than "the file
    cannot be opened" (FileNotFoundError, IsADirectoryError, PermissionError) is
    reported as a corrupt checkpoint.
    """
    # Open the file ourselves: np.load leaks its own handle when the zip is corrupt.
    with open(path, "rb") as f:
        try:
            npz = np.load(f, allow_pickle=False)
        except Exception as e:
            raise ValueError(f"checkpoint {path!r} is corrupt or not a checkpoint: {e}") from e
        if not isinstance(npz, np.lib.npyio.NpzFile):  # e.g. a bare .npy file
            raise ValueError(f"checkpoint {path!r} is not an .npz archive")
        with npz:
            try:
                return _decode_npz(npz)
            except Exception as e:  # zipfile/zlib/numpy/json errors, KeyError, ...
                raise ValueError(
                    f"checkpoint {path!r} is corrupt or not a checkpoint: {type(e).__name__}: {e}"
                ) from e


def _decode_npz(npz: Any) -> Any:
    header = json.loads(npz[_TREE_KEY].tobytes().decode("utf-8"))
    if header.get("format") != _FORMAT:
        raise ValueError(f"unknown format {header.get('format')!r}")
    if header.get("version") != _VERSION:
        raise ValueError(f"unsupported version {header.get('version')!r}")
    arrays = {name: npz[name] for name in npz.files if name.startswith("leaf_")}
    return _decode(header["tree"], arrays, set())


def _spec(leaf: Any) -> tuple[tuple, np.dtype]:
    """Shape and dtype of a leaf of ``like`` (arrays, scalars or shape/dtype structs)."""
    if hasattr(leaf, "shape") and hasattr(leaf, "dtype"):
        return tuple(leaf.shape), np.dtype(leaf.dtype)
    arr = np.asarray(leaf)
    return arr.shape, arr.dtype


def _kind(x: Any) -> str:
    if x is None:
        return "None"
    if isinstance(x, dict):
        return "dict"
    if isinstance(x, list):
        return "list"
    if isinstance(x, tuple):
        return "tuple"
    return "leaf"


def _compare(got: Any, like: Any, path: tuple, errors: list[str]) -> None:
    """Append one message per structure/shape/dtype mismatch between two trees."""
    where = _keystr(path)
    got_kind, like_kind = _kind(got), _kind(like)
    if got_kind != like_kind:
        errors.append(f"{where}: found {got_kind} != expected {like_kind}")
        return
    if like_kind == "dict":
        for k in like:
            if k not in got:
                errors.append(f"{where}: missing key {k!r}")
            else:
                _compare(got[k], like[k], (*path, k), errors)
        errors.extend(f"{where}: unexpected key {k!r}" for k in got if k not in like)
    elif like_kind in ("list", "tuple"):
        if len(got) != len(like):
            errors.append(f"{where}: length {len(got)} != expected {len(like)}")
            return
        for i, (g, lk) in enumerate(zip(got, like, strict=True)):
            _compare(g, lk, (*path, i), errors)
    elif like_kind == "leaf":
        (got_shape, got_dtype), (shape, dtype) = _spec(got), _spec(like)
        if got_shape != shape:
            errors.append(f"{where}: shape {got_shape} != expected {shape}")
        if got_dtype != dtype:
            errors.append(f"{where}: dtype {got_dtype} != expected {dtype}")


def load(path: str | os.PathLike, like: Any = None) -> Any:
    """Load a pytree saved with :func:`save`.

    Args:
        path: checkpoint file (``str`` or ``os.PathLike``).
        like: optional reference tree (arrays, scalars, or objects with ``shape`` and
            ``dtype``). If given, the loaded tree must have the same structure and
            the same leaf shapes and dtypes.

    Returns:
        The stored tree: dicts, lists, tuples and ``None`` as saved; NumPy arrays,
        NumPy scalars and Python scalars as saved.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is truncated, corrupt, not a checkpoint, or holds
            pickled/object data (the message names the file); or it does not match
            ``like`` (the message lists every mismatch by key path).

    Example:
        >>> import os, tempfile
        >>> import numpy as np
        >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
        >>> save(path, {"w": np.zeros((3, 4))})
        >>> try:
        ...     load(path, like={"w": np.zeros((4, 3)), "b": np.zeros(3)})
        ... except ValueError as e:
        ...     print(str(e).split(": ", 1)[1])
        ['w']: shape (3, 4) != expected (4, 3); <root>: missing key 'b'
    """
    path = os.fspath(path)
    tree = _read(path)
    if like is not None:
        errors: list[str] = []
        _compare(tree, like, (), errors)
        if errors:
            raise ValueError(f"checkpoint {path!r} does not match `like`: " + "; ".join(errors))
    return tree
