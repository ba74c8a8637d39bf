"""Tests for funcgrad_nn.checkpoint: round trips, atomic writes, validation, no pickle."""

import json
import os
import pathlib
import types
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funcgrad_nn import checkpoint
from funcgrad_nn.checkpoint import load, save


def assert_tree_identical(got, expected, path="<root>"):
    """Same structure, same container/scalar types, same dtypes, shapes and values."""
    assert type(got) is type(expected), f"{path}: {type(got)} != {type(expected)}"
    if isinstance(expected, dict):
        assert list(got) == list(expected), path
        for k in expected:
            assert_tree_identical(got[k], expected[k], f"{path}[{k!r}]")
    elif isinstance(expected, (list, tuple)):
        assert len(got) == len(expected), path
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            assert_tree_identical(g, e, f"{path}[{i}]")
    elif isinstance(expected, (np.ndarray, np.generic)):
        assert got.dtype == expected.dtype, path
        assert got.shape == expected.shape, path
        np.testing.assert_array_equal(got, expected, err_msg=path)
    else:
        assert got == expected, path


def mixed_tree():
    rng = np.random.default_rng(0)
    return {
        "layer": {
            "weight": rng.standard_normal((3, 4)).astype(np.float32),
            "bias": np.zeros(4, np.float16),
            "mask": rng.random((2, 2)) > 0.5,
        },
        "ints": [np.arange(5, dtype=np.int8), np.arange(3, dtype=np.uint64), np.int32(-7)],
        "tuple": (np.float64(2.5), np.complex64(1 + 2j), (None, [])),
        "empty": {"a": np.zeros((0, 3)), "d": {}, "t": ()},
        "scalars": {"i": 3, "f": -0.5, "b": True, "c": 1 - 1j, "s": "adam", "by": b"\x00x"},
        "zero_d": np.array(4.0),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "big_endian": np.arange(4, dtype=">i4"),
        "strings": np.array(["a", "bcd"]),
        "nan": np.array([np.nan, np.inf, -np.inf]),
        "weird keys": {"": 1, "leaf_0": 2, "__tree__": 3, "ключ'\"": 4, "a.b/c": 5},
        "none": None,
    }


def test_round_trip_mixed_tree(tmp_path):
    tree = mixed_tree()
    path = tmp_path / "ckpt.npz"
    save(path, tree)
    assert_tree_identical(load(path), tree)


def test_round_trip_preserves_scalar_kinds(tmp_path):
    path = tmp_path / "s.npz"
    save(path, [1, 1.0, True, np.float32(1), np.bool_(True), np.int64(1), np.array(1)])
    got = load(path)
    assert [type(x) for x in got] == [int, float, bool, np.float32, np.bool_, np.int64, np.ndarray]
    assert got[6].shape == ()


def test_round_trip_root_leaf_and_none(tmp_path):
    save(tmp_path / "a.npz", np.arange(3))
    np.testing.assert_array_equal(load(tmp_path / "a.npz"), np.arange(3))
    save(tmp_path / "b.npz", None)
    assert load(tmp_path / "b.npz") is None


def test_subclasses_load_as_plain_containers(tmp_path):
    point = __import__("collections").namedtuple("Point", "x y")
    save(tmp_path / "c.npz", {"p": point(1, 2)})
    got = load(tmp_path / "c.npz")
    assert type(got["p"]) is tuple and got["p"] == (1, 2)


scalars = st.one_of(
    st.integers(-(2**62), 2**62),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.builds(
        lambda n, s: (np.arange(n) % 2).astype(s), st.integers(0, 4), st.sampled_from("bhilfdF?")
    ),
)
trees = st.recursive(
    scalars,
    lambda kids: st.one_of(
        st.lists(kids, max_size=3),
        st.lists(kids, max_size=3).map(tuple),
        st.dictionaries(st.text(max_size=5), kids, max_size=3),
    ),
    max_leaves=12,
)


@settings(max_examples=50, deadline=None)
@given(tree=trees)
def test_round_trip_property(tmp_path_factory, tree):
    path = tmp_path_factory.mktemp("prop") / "t.npz"
    save(path, tree)
    assert_tree_identical(load(path), tree)


def test_file_format_is_plain_npz(tmp_path):
    path = tmp_path / "ckpt.npz"
    save(path, {"w": np.ones(2), "b": [np.zeros(3)]})
    with np.load(path, allow_pickle=False) as z:
        assert sorted(z.files) == ["__tree__", "leaf_0", "leaf_1"]
        assert z["__tree__"].dtype == np.uint8
        header = json.loads(z["__tree__"].tobytes())
        np.testing.assert_array_equal(z["leaf_1"], np.zeros(3))
    assert header["tree"]["k"] == ["w", "b"]


def test_save_writes_exactly_to_path_and_accepts_str(tmp_path):
    target = str(tmp_path / "weights.ckpt")
    save(target, {"a": 1})
    assert sorted(os.listdir(tmp_path)) == ["weights.ckpt"]
    assert load(target) == {"a": 1}


def test_save_overwrites_previous(tmp_path):
    path = tmp_path / "ckpt.npz"
    save(path, {"step": 1})
    save(path, {"step": 2})
    assert load(path) == {"step": 2}
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_overwrite_keeps_file_mode(tmp_path):
    path = tmp_path / "ckpt.npz"
    save(path, 1)
    os.chmod(path, 0o640)
    save(path, 2)
    assert os.stat(path).st_mode & 0o777 == 0o640


# ----------------------------------------------------------------------------- atomicity
class Crash(Exception):
    pass


def test_crash_in_replace_keeps_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save(path, {"step": 1, "w": np.arange(3.0)})
    before = path.read_bytes()

    def boom(src, dst):
        raise OSError("disk on fire")

    monkeypatch.setattr(checkpoint.os, "replace", boom)
    with pytest.raises(OSError, match="disk on fire"):
        save(path, {"step": 2, "w": np.zeros(1000)})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    assert load(path)["step"] == 1


def test_crash_mid_write_keeps_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save(path, {"step": 1})
    before = path.read_bytes()

    def partial_writer(f, entries):
        f.write(b"PK\x03\x04 half a zip")
        raise Crash

    monkeypatch.setattr(checkpoint, "_write_npz", partial_writer)
    with pytest.raises(Crash):
        save(path, {"step": 2})
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_crash_on_first_save_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint.os, "fsync", lambda fd: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        save(tmp_path / "new.npz", {"a": np.ones(3)})
    assert os.listdir(tmp_path) == []


def test_temp_file_is_in_target_directory(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append((os.path.dirname(src), os.fspath(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(checkpoint.os, "replace", spy)
    save(tmp_path / "x.npz", 1)
    assert seen == [(str(tmp_path), str(tmp_path / "x.npz"))]


# ------------------------------------------------------------------------ bad input trees
def test_object_leaf_rejected_with_key_path(tmp_path):
    path = tmp_path / "ckpt.npz"
    save(path, {"ok": 1})
    bad = {"layer": [np.zeros(2), np.array([object()], dtype=object)]}
    with pytest.raises(TypeError, match=r"\['layer'\]\[1\].*object dtype"):
        save(path, bad)
    assert load(path) == {"ok": 1}
    assert os.listdir(tmp_path) == ["ckpt.npz"]


@pytest.mark.parametrize(
    ("tree", "where"),
    [
        ({"a": {"b": object()}}, r"\['a'\]\['b'\]"),
        ({"big": 2**100}, r"\['big'\]"),
        ([1, {"x": types.SimpleNamespace()}], r"\[1\]\['x'\]"),
    ],
)
def test_unstorable_leaves_rejected(tmp_path, tree, where):
    with pytest.raises(TypeError, match=where):
        save(tmp_path / "c.npz", tree)
    assert os.listdir(tmp_path) == []


def test_non_str_dict_key_rejected(tmp_path):
    with pytest.raises(TypeError, match=r"keys must be str.*\['opt'\]"):
        save(tmp_path / "c.npz", {"opt": {1: np.zeros(1)}})


# --------------------------------------------------------------------------------- like
def test_like_matching_tree_loads(tmp_path):
    tree = mixed_tree()
    save(tmp_path / "c.npz", tree)
    assert_tree_identical(load(tmp_path / "c.npz", like=tree), tree)


def test_like_mismatch_message_lists_everything(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    save("ckpt.npz", {"layer": {"weight": np.zeros((3, 4), np.float32)}, "opt": {}})
    like = {"layer": {"weight": np.zeros((4, 3), np.float32)}, "opt": {"mu": np.zeros(1)}}
    with pytest.raises(ValueError) as info:
        load("ckpt.npz", like=like)
    assert str(info.value) == (
        "checkpoint 'ckpt.npz' does not match `like`: "
        "['layer']['weight']: shape (3, 4) != expected (4, 3); ['opt']: missing key 'mu'"
    )


def test_like_reports_dtype_kind_length_and_extra_keys(tmp_path):
    path = tmp_path / "c.npz"
    save(path, {"a": np.zeros(2, np.float64), "b": [1, 2], "c": (None,), "d": 5, "extra": 0})
    like = {
        "a": np.zeros(3, np.float32),
        "b": [1, 2, 3],
        "c": [None],
        "d": np.zeros(2),
    }
    with pytest.raises(ValueError) as info:
        load(path, like=like)
    msg = str(info.value)
    assert str(path) in msg
    for part in [
        "['a']: shape (2,) != expected (3,)",
        "['a']: dtype float64 != expected float32",
        "['b']: length 2 != expected 3",
        "['c']: found tuple != expected list",
        "['d']: shape () != expected (2,)",
        "['d']: dtype int64 != expected float64",
        "<root>: unexpected key 'extra'",
    ]:
        assert part in msg


def test_like_accepts_shape_dtype_structs(tmp_path):
    save(tmp_path / "c.npz", {"w": np.zeros((2, 3), np.float32)})
    spec = types.SimpleNamespace(shape=(2, 3), dtype=np.float32)
    assert load(tmp_path / "c.npz", like={"w": spec})["w"].shape == (2, 3)
    bad = types.SimpleNamespace(shape=(2, 3), dtype=np.int32)
    with pytest.raises(ValueError, match=r"\['w'\]: dtype float32 != expected int32"):
        load(tmp_path / "c.npz", like={"w": bad})


def test_like_none_leaf_vs_array(tmp_path):
    save(tmp_path / "c.npz", {"a": None})
    with pytest.raises(ValueError, match=r"\['a'\]: found None != expected leaf"):
        load(tmp_path / "c.npz", like={"a": np.zeros(1)})


# ------------------------------------------------------------------- corrupt / truncated
@pytest.fixture
def small_ckpt(tmp_path):
    path = tmp_path / "ckpt.npz"
    tree = {"w": np.arange(12.0).reshape(3, 4), "meta": [1, "x", None]}
    save(path, tree)
    return path, tree


def test_every_truncation_raises_value_error_naming_file(small_ckpt):
    path, _ = small_ckpt
    data = path.read_bytes()
    for n in range(len(data)):
        path.write_bytes(data[:n])
        with pytest.raises(ValueError, match=r"ckpt\.npz"):
            load(path)


def test_flipped_bytes_raise_or_load_identical(small_ckpt):
    path, tree = small_ckpt
    data = path.read_bytes()
    detected = 0
    for i in range(len(data)):
        path.write_bytes(data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :])
        try:
            got = load(path)
        except ValueError as e:
            assert "ckpt.npz" in str(e)
            detected += 1
        else:  # only zip metadata (timestamps, ...) may change without detection
            assert_tree_identical(got, tree)
    assert detected > len(data) // 2


@pytest.mark.parametrize(
    "content",
    [b"", b"not a zip file at all", b"\x93NUMPY garbage", b"\x80\x04\x95pickle"],
)
def test_garbage_files_raise_value_error(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"bad\.npz"):
        load(path)


def test_npy_and_foreign_npz_rejected(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(3))
    with pytest.raises(ValueError, match=r"a\.npy.*not an \.npz"):
        load(tmp_path / "a.npy")
    np.savez(tmp_path / "b.npz", x=np.arange(3))
    with pytest.raises(ValueError, match=r"b\.npz.*KeyError"):
        load(tmp_path / "b.npz")


def header_bytes(tree):
    text = json.dumps({"format": "funcgrad_nn.checkpoint", "version": 1, "tree": tree})
    return np.frombuffer(text.encode(), np.uint8)


@pytest.mark.parametrize(
    "tree",
    [
        {"t": "leaf", "i": 5},  # missing leaf
        {"t": "bogus"},
        {"t": "dict", "k": ["a", "b"], "c": [{"t": "none"}]},
        {"t": "list", "c": [{"t": "leaf", "i": 0}, {"t": "leaf", "i": 0}]},  # leaf reused
        {"t": "leaf", "i": 0, "py": "int"},  # scalar kind on a non-scalar array
        [],
    ],
)
def test_malformed_structure_raises_value_error(tmp_path, tree):
    path = tmp_path / "m.npz"
    np.savez(path, __tree__=header_bytes(tree), leaf_0=np.arange(3))
    with pytest.raises(ValueError, match=r"m\.npz"):
        load(path)


def test_bad_header_json_and_version(tmp_path):
    np.savez(tmp_path / "j.npz", __tree__=np.frombuffer(b"{not json", np.uint8))
    with pytest.raises(ValueError, match=r"j\.npz"):
        load(tmp_path / "j.npz")
    text = json.dumps({"format": "funcgrad_nn.checkpoint", "version": 99, "tree": {"t": "none"}})
    np.savez(tmp_path / "v.npz", __tree__=np.frombuffer(text.encode(), np.uint8))
    with pytest.raises(ValueError, match="unsupported version 99"):
        load(tmp_path / "v.npz")


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.npz")


# ----------------------------------------------------------------------------- no pickle
class Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_pickled_object_array_is_never_unpickled(tmp_path):
    marker = str(tmp_path / "pwned")
    path = tmp_path / "evil.npz"
    evil = np.empty(1, dtype=object)
    evil[0] = Evil(marker)
    np.savez(path, __tree__=header_bytes({"t": "leaf", "i": 0}), leaf_0=evil)
    with zipfile.ZipFile(path) as z:  # the crafted file really holds a pickle
        assert b"mkdir" in z.read("leaf_0.npy")
    with pytest.raises(ValueError, match=r"evil\.npz"):
        load(path)
    assert not os.path.exists(marker)


def test_pathlike_objects_accepted(tmp_path):
    class P(os.PathLike):
        def __fspath__(self):
            return str(tmp_path / "p.npz")

    save(P(), [1, 2])
    assert load(P()) == [1, 2]
    assert pathlib.Path(tmp_path / "p.npz").is_file()
