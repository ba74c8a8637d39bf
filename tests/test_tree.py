"""Tests for funcgrad.tree / funcgrad.tree_util (pytree flattening, mapping and paths)."""

from __future__ import annotations

import collections
import copy
import dataclasses
import operator
import timeit
from typing import Any, NamedTuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funcgrad import tree, tree_util
from funcgrad._src.tree_util import flatten_up_to
from funcgrad.tree_util import (
    DictKey,
    FlattenedIndexKey,
    GetAttrKey,
    PyTreeDef,
    SequenceKey,
)

# --------------------------------------------------------------------------------------------
# Test fixtures: types registered once at import time (registration is global).
# --------------------------------------------------------------------------------------------


class Point(NamedTuple):
    x: Any
    y: Any


class OtherPoint(NamedTuple):
    x: Any
    y: Any


@tree.register_dataclass
@dataclasses.dataclass
class Params:
    w: Any
    b: Any


@dataclasses.dataclass
class Layer:
    weight: Any
    name: str
    activation: str = "relu"


tree.register_dataclass(Layer, data_fields=["weight"], meta_fields=["name", "activation"])


@tree.register_dataclass
@dataclasses.dataclass
class WithStatic:
    value: Any
    size: int = dataclasses.field(metadata={"static": True}, default=1)


class Pair:
    def __init__(self, first: Any, second: Any) -> None:
        self.first = first
        self.second = second

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is Pair
            and self.first == other.first  # type: ignore[attr-defined]
            and self.second == other.second  # type: ignore[attr-defined]
        )


tree.register_pytree_node(Pair, lambda p: ([p.first, p.second], "pair"), lambda aux, ch: Pair(*ch))


class PairSubclass(Pair):
    pass


@tree.register_pytree_node_class
class Scaled:
    def __init__(self, value: Any, scale: float) -> None:
        self.value = value
        self.scale = scale

    def tree_flatten(self) -> tuple[tuple[Any], float]:
        return (self.value,), self.scale

    @classmethod
    def tree_unflatten(cls, scale: float, children: tuple[Any, ...]) -> Scaled:
        return cls(children[0], scale)


class Named:
    def __init__(self, **fields: Any) -> None:
        self.fields = fields


tree.register_pytree_with_keys(
    Named,
    lambda n: ([(GetAttrKey(k), v) for k, v in sorted(n.fields.items())], tuple(sorted(n.fields))),
    lambda keys, children: Named(**dict(zip(keys, children))),
)


class MyList(list):
    pass


# --------------------------------------------------------------------------------------------
# Hypothesis strategies and an independent reference implementation
# --------------------------------------------------------------------------------------------

leaf_values = st.one_of(
    st.integers(-5, 5), st.floats(allow_nan=False), st.text(max_size=3), st.booleans()
)
dict_keys = st.text(alphabet="abcdef", min_size=1, max_size=3)

trees = st.recursive(
    st.one_of(leaf_values, st.none()),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(dict_keys, children, max_size=4),
    ),
    max_leaves=20,
)


def ref_leaves(x: Any) -> list:
    """Reference leaf order: depth first, dict values by sorted key, None has no leaves."""
    if x is None:
        return []
    if type(x) in (list, tuple):
        return [leaf for c in x for leaf in ref_leaves(c)]
    if type(x) is dict:
        return [leaf for k in sorted(x) for leaf in ref_leaves(x[k])]
    return [x]


def ref_shape(x: Any) -> Any:
    """Reference structure: a hashable description with leaves replaced by '*'."""
    if x is None:
        return ("None",)
    if type(x) in (list, tuple):
        return (type(x).__name__, tuple(ref_shape(c) for c in x))
    if type(x) is dict:
        return ("dict", tuple((k, ref_shape(x[k])) for k in sorted(x)))
    return "*"


def follow(x: Any, path: tuple) -> Any:
    for key in path:
        if isinstance(key, DictKey):
            x = x[key.key]
        elif isinstance(key, SequenceKey):
            x = x[key.idx]
        elif isinstance(key, GetAttrKey):
            x = getattr(x, key.name)
        else:
            raise TypeError(f"unexpected key {key!r}")
    return x


def same(a: Any, b: Any) -> bool:
    """Structural equality that also distinguishes list from tuple and checks dict key order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def sort_dicts(x: Any) -> Any:
    if type(x) is dict:
        return {k: sort_dicts(x[k]) for k in sorted(x)}
    if type(x) in (list, tuple):
        return type(x)(sort_dicts(c) for c in x)
    return x


# --------------------------------------------------------------------------------------------
# Property tests over random nested dict/list/tuple/None trees
# --------------------------------------------------------------------------------------------


@given(trees)
def test_flatten_unflatten_round_trip(t: Any) -> None:
    leaves, treedef = tree.flatten(t)
    rebuilt = tree.unflatten(treedef, leaves)
    assert same(rebuilt, sort_dicts(t))
    assert leaves == ref_leaves(t)
    assert treedef.num_leaves == len(leaves)


@given(trees)
def test_structure_matches_reference(t: Any) -> None:
    leaves, treedef = tree.flatten(t)
    mapped = tree.map(lambda x: ("wrapped", x), t)
    assert (
        tree.structure(mapped, is_leaf=lambda x: isinstance(x, tuple) and x[:1] == ("wrapped",))
        == treedef
    )
    assert tree.leaves(
        mapped, is_leaf=lambda x: isinstance(x, tuple) and x[:1] == ("wrapped",)
    ) == [("wrapped", x) for x in leaves]


@given(trees, trees)
def test_treedef_equality_and_hash_agree_with_reference(a: Any, b: Any) -> None:
    da, db = tree.structure(a), tree.structure(b)
    assert (da == db) == (ref_shape(a) == ref_shape(b))
    if da == db:
        assert hash(da) == hash(db)
    assert da == tree.structure(a)
    assert hash(da) == hash(tree.structure(a))


@given(trees)
def test_num_nodes_and_children(t: Any) -> None:
    treedef = tree.structure(t)

    def count_nodes(x: Any) -> int:
        if type(x) in (list, tuple):
            return 1 + sum(count_nodes(c) for c in x)
        if type(x) is dict:
            return 1 + sum(count_nodes(c) for c in x.values())
        return 1

    assert treedef.num_nodes == count_nodes(t)
    if type(t) in (list, tuple, dict):
        children = sort_dicts(t).values() if type(t) is dict else t
        assert treedef.children() == [tree.structure(c) for c in children]
    else:
        assert treedef.children() == []


@given(trees)
def test_paths_lead_to_leaves(t: Any) -> None:
    pairs, treedef = tree.flatten_with_path(t)
    assert treedef == tree.structure(t)
    assert [leaf for _, leaf in pairs] == tree.leaves(t)
    for path, leaf in pairs:
        assert same(follow(t, path), leaf)


@given(trees)
def test_map_identity_and_reduce(t: Any) -> None:
    assert same(tree.map(lambda x: x, t), sort_dicts(t))
    assert tree.reduce(lambda acc, x: acc + 1, t, 0) == len(ref_leaves(t))


@settings(max_examples=50)
@given(trees)
def test_tree_as_prefix_of_itself_and_of_doubled(t: Any) -> None:
    treedef = tree.structure(t)
    assert flatten_up_to(treedef, t) == tree.leaves(t)
    doubled = tree.map(lambda x: [x, x], t)
    assert flatten_up_to(treedef, doubled) == [[x, x] for x in tree.leaves(t)]
    assert same(tree.map(lambda x, pair: pair[1], t, doubled), sort_dicts(t))


# --------------------------------------------------------------------------------------------
# Basic containers
# --------------------------------------------------------------------------------------------


def test_repr_examples() -> None:
    assert repr(tree.structure({"a": 1, "b": [2, 3]})) == "PyTreeDef({'a': *, 'b': [*, *]})"
    assert repr(tree.structure((1,))) == "PyTreeDef((*,))"
    assert repr(tree.structure(())) == "PyTreeDef(())"
    assert repr(tree.structure(None)) == "PyTreeDef(None)"
    assert repr(tree.structure(5)) == "PyTreeDef(*)"
    assert repr(tree.structure(Point(1, [2]))) == "PyTreeDef(Point(x=*, y=[*]))"
    assert repr(tree.structure(Pair(1, 2))) == "PyTreeDef(CustomNode(Pair['pair'], [*, *]))"


def test_dict_keys_are_sorted() -> None:
    d = {"c": 3, "a": 1, "b": 2}
    leaves, treedef = tree.flatten(d)
    assert leaves == [1, 2, 3]
    assert list(tree.unflatten(treedef, leaves)) == ["a", "b", "c"]
    assert tree.structure({"b": 0, "a": 0}) == tree.structure({"a": 0, "b": 0})


def test_dict_with_mixed_key_types_is_deterministic() -> None:
    a = tree.leaves({1: "int", "x": "str", 0: "int0"})
    b = tree.leaves({"x": "str", 0: "int0", 1: "int"})
    assert a == b
    assert a == ["int0", "int", "str"]


def test_ordered_dict_keeps_insertion_order() -> None:
    od = collections.OrderedDict([("b", 1), ("a", 2)])
    leaves, treedef = tree.flatten(od)
    assert leaves == [1, 2]
    rebuilt = tree.unflatten(treedef, leaves)
    assert type(rebuilt) is collections.OrderedDict
    assert list(rebuilt) == ["b", "a"]
    assert treedef != tree.structure(collections.OrderedDict([("a", 2), ("b", 1)]))
    assert treedef != tree.structure({"b": 1, "a": 2})


def test_defaultdict_keeps_factory() -> None:
    dd = collections.defaultdict(list, {"b": 1, "a": 2})
    leaves, treedef = tree.flatten(dd)
    assert leaves == [2, 1]
    rebuilt = tree.unflatten(treedef, [10, 20])
    assert type(rebuilt) is collections.defaultdict
    assert rebuilt.default_factory is list
    assert dict(rebuilt) == {"a": 10, "b": 20}
    assert treedef != tree.structure(collections.defaultdict(set, {"b": 1, "a": 2}))


def test_list_vs_tuple_vs_leaf_structures_differ() -> None:
    structures = [
        tree.structure([1, 2]),
        tree.structure((1, 2)),
        tree.structure([[1], 2]),
        tree.structure({"a": 1, "b": 2}),
        tree.structure(Point(1, 2)),
        tree.structure(OtherPoint(1, 2)),
        tree.structure(1),
        tree.structure(None),
        tree.structure(()),
        tree.structure([]),
    ]
    for i, a in enumerate(structures):
        for j, b in enumerate(structures):
            assert (a == b) == (i == j), (a, b)
    assert len(set(structures)) == len(structures)
    # Hashes should spread distinct structures apart (jit uses treedefs as cache keys).
    assert len({hash(s) for s in structures}) == len(structures)


def test_arrays_are_leaves_and_kept_by_identity() -> None:
    a, b = np.arange(3.0), np.ones((2, 2))
    leaves, treedef = tree.flatten({"a": a, "b": [b]})
    assert leaves[0] is a and leaves[1] is b
    assert treedef.num_leaves == 2
    out = tree.map(lambda x: x * 2, {"a": a, "b": [b]})
    np.testing.assert_array_equal(out["b"][0], 2 * b)


def test_subclasses_of_containers_are_leaves() -> None:
    ml = MyList([1, 2])
    assert tree.leaves(ml) == [ml]
    assert tree.leaves(PairSubclass(1, 2))[0].first == 1
    assert tree_util.treedef_is_leaf(tree.structure(ml))


# --------------------------------------------------------------------------------------------
# None and is_leaf
# --------------------------------------------------------------------------------------------


def test_none_is_an_empty_node() -> None:
    leaves, treedef = tree.flatten(None)
    assert leaves == []
    assert treedef.num_leaves == 0 and treedef.num_nodes == 1
    assert tree.map(lambda x: x + 1, None) is None
    assert tree.map(lambda x: x + 1, [None, 1]) == [None, 2]
    assert tree.leaves({"a": None, "b": 3}) == [3]
    assert tree.structure(None) != tree.structure(0)


def test_is_leaf_can_make_none_a_leaf() -> None:
    assert tree.leaves([None, 1], is_leaf=lambda x: x is None) == [None, 1]
    out = tree.map(lambda x: "none" if x is None else x, [None, 1], is_leaf=lambda x: x is None)
    assert out == ["none", 1]


def test_is_leaf_stops_descent() -> None:
    t = {"a": (1, 2), "b": [3, (4, 5)]}
    leaves = tree.leaves(t, is_leaf=lambda x: isinstance(x, tuple))
    assert leaves == [(1, 2), 3, (4, 5)]
    summed = tree.map(
        lambda x: sum(x) if isinstance(x, tuple) else -x, t, is_leaf=lambda x: isinstance(x, tuple)
    )
    assert summed == {"a": 3, "b": [-3, 9]}
    _, treedef = tree.flatten(t, is_leaf=lambda x: isinstance(x, tuple))
    assert treedef == tree.structure({"a": 0, "b": [0, 0]})


def test_none_in_tree_must_match_none_in_rest() -> None:
    assert tree.map(lambda x, y: x + y, [None, 1], [None, 2]) == [None, 3]
    with pytest.raises(ValueError, match="expected None, got int"):
        tree.map(lambda x, y: x, [None, 1], [5, 2])


# --------------------------------------------------------------------------------------------
# Namedtuples, dataclasses and registered classes
# --------------------------------------------------------------------------------------------


def test_namedtuple_rebuilt_with_its_class() -> None:
    p = Point(1, {"z": 2})
    leaves, treedef = tree.flatten(p)
    assert leaves == [1, 2]
    rebuilt = tree.unflatten(treedef, [3, 4])
    assert type(rebuilt) is Point and rebuilt == Point(3, {"z": 4})
    paths = [tree.keystr(p) for p, _ in tree.leaves_with_path(p)]
    assert paths == [".x", ".y['z']"]
    assert tree.structure(Point(1, 2)) != tree.structure((1, 2))


def test_dataclass_all_fields_are_data() -> None:
    p = Params(w=np.ones(2), b=3.0)
    leaves = tree.leaves(p)
    assert len(leaves) == 2 and leaves[1] == 3.0
    out = tree.map(lambda x: x * 2, p)
    assert isinstance(out, Params)
    np.testing.assert_array_equal(out.w, 2 * np.ones(2))
    assert out.b == 6.0
    assert [tree.keystr(k) for k, _ in tree.leaves_with_path(p)] == [".w", ".b"]


def test_dataclass_meta_fields_go_into_treedef() -> None:
    layer = Layer(weight=[1.0, 2.0], name="dense")
    leaves, treedef = tree.flatten(layer)
    assert leaves == [1.0, 2.0]
    rebuilt = tree.unflatten(treedef, [5.0, 6.0])
    assert rebuilt == Layer(weight=[5.0, 6.0], name="dense", activation="relu")
    assert treedef != tree.structure(Layer(weight=[1.0, 2.0], name="other"))
    assert treedef == tree.structure(Layer(weight=[7.0, 8.0], name="dense"))
    assert hash(treedef) == hash(tree.structure(Layer(weight=[7.0, 8.0], name="dense")))
    assert "dense" in repr(treedef)


def test_dataclass_static_metadata_field_is_meta() -> None:
    leaves, treedef = tree.flatten(WithStatic(value=1.5, size=4))
    assert leaves == [1.5]
    assert tree.unflatten(treedef, [2.5]) == WithStatic(value=2.5, size=4)


def test_dataclass_unhashable_meta_field_raises() -> None:
    with pytest.raises(TypeError, match="meta field 'name'.*hashable"):
        tree.flatten(Layer(weight=1.0, name=["not", "hashable"]))  # type: ignore[arg-type]


def test_register_dataclass_validates_fields() -> None:
    @dataclasses.dataclass
    class Incomplete:
        a: int
        b: int

    with pytest.raises(ValueError, match=r"missing \['b'\]"):
        tree.register_dataclass(Incomplete, data_fields=["a"], meta_fields=[])
    with pytest.raises(ValueError, match="more than once"):
        tree.register_dataclass(Incomplete, data_fields=["a", "b"], meta_fields=["a"])

    class NotADataclass:
        pass

    with pytest.raises(TypeError, match="not a dataclass"):
        tree.register_dataclass(NotADataclass)


def test_register_dataclass_decorator_with_arguments() -> None:
    @tree.register_dataclass(data_fields=["x"], meta_fields=["tag"])
    @dataclasses.dataclass
    class Tagged:
        x: Any
        tag: str

    leaves, treedef = tree.flatten(Tagged(x=[1, 2], tag="t"))
    assert leaves == [1, 2]
    assert tree.unflatten(treedef, [3, 4]) == Tagged(x=[3, 4], tag="t")


def test_register_pytree_node() -> None:
    p = Pair(1, [2, 3])
    leaves, treedef = tree.flatten(p)
    assert leaves == [1, 2, 3]
    assert tree.unflatten(treedef, [4, 5, 6]) == Pair(4, [5, 6])
    paths = [tree.keystr(k) for k, _ in tree.leaves_with_path(p)]
    assert paths == ["[<flat index 0>]", "[<flat index 1>][0]", "[<flat index 1>][1]"]


def test_register_pytree_node_class() -> None:
    s = Scaled({"a": 1, "b": 2}, scale=0.5)
    out = tree.map(lambda x: x * 10, s)
    assert isinstance(out, Scaled)
    assert out.value == {"a": 10, "b": 20} and out.scale == 0.5
    assert tree.structure(Scaled(1, 0.5)) != tree.structure(Scaled(1, 2.0))


def test_register_pytree_with_keys() -> None:
    n = Named(beta=[1], alpha=2)
    pairs, treedef = tree.flatten_with_path(n)
    assert [(tree.keystr(p), x) for p, x in pairs] == [(".alpha", 2), (".beta[0]", 1)]
    rebuilt = tree.unflatten(treedef, [20, 10])
    assert rebuilt.fields == {"alpha": 20, "beta": [10]}
    assert tree.leaves(n) == [2, 1]


def test_duplicate_registration_raises() -> None:
    with pytest.raises(ValueError, match="Duplicate"):
        tree.register_pytree_node(Pair, lambda p: ((), None), lambda aux, ch: Pair(1, 2))
    with pytest.raises(ValueError, match="Duplicate"):
        tree.register_pytree_node(dict, lambda d: ((), None), lambda aux, ch: {})


def test_registration_after_use_as_leaf_takes_effect() -> None:
    class Late:
        def __init__(self, v: Any) -> None:
            self.v = v

    late = Late(1)
    assert tree.leaves(late) == [late]
    tree.register_pytree_node(Late, lambda x: ((x.v,), None), lambda aux, ch: Late(*ch))
    assert tree.leaves(late) == [1]


# --------------------------------------------------------------------------------------------
# tree_map with several trees (prefix semantics) and structure errors
# --------------------------------------------------------------------------------------------


def test_map_multiple_trees() -> None:
    out = tree.map(lambda x, y, z: x + y + z, [1, {"a": 2}], [10, {"a": 20}], [100, {"a": 200}])
    assert out == [111, {"a": 222}]


def test_map_rest_may_have_deeper_subtrees() -> None:
    out = tree.map(lambda x, sub: (x, sub), {"a": 1, "b": 2}, {"a": [1, 2], "b": {"c": None}})
    assert out == {"a": (1, [1, 2]), "b": (2, {"c": None})}


def test_map_structure_mismatch_message_shows_both_structures() -> None:
    with pytest.raises(ValueError) as info:
        tree.map(lambda x, y: x, {"a": 1, "b": 2}, {"a": 1, "c": 2})
    msg = str(info.value)
    assert msg.startswith("tree_map: tree structure mismatch: ")
    assert "PyTreeDef({'a': *, 'b': *})" in msg
    assert "PyTreeDef({'a': *, 'c': *})" in msg
    assert "keys differ" in msg


def test_map_mismatch_reports_path_and_kind() -> None:
    with pytest.raises(ValueError, match=r"at \['x'\]\[1\]: expected list, got tuple"):
        tree.map(lambda x, y: x, {"x": [0, [1]]}, {"x": [0, (1,)]})
    with pytest.raises(ValueError, match="tuple length mismatch: expected 2, got 3"):
        tree.map(lambda x, y: x, (1, 2), (1, 2, 3))
    with pytest.raises(ValueError, match=r"rest\[1\]"):
        tree.map(lambda x, y, z: x, [1], [1], [[1], 2])


def test_map_with_path_mismatch_message() -> None:
    with pytest.raises(ValueError, match="tree_map_with_path: tree structure mismatch"):
        tree.map_with_path(lambda p, x, y: x, [1, 2], [1])


def test_unflatten_wrong_leaf_count() -> None:
    treedef = tree.structure([1, 2, 3])
    with pytest.raises(ValueError, match="expected 3 leaves.*got 2"):
        tree.unflatten(treedef, [1, 2])
    with pytest.raises(ValueError, match="expected 3 leaves.*got 4"):
        treedef.unflatten([1, 2, 3, 4])
    with pytest.raises(TypeError, match="PyTreeDef"):
        tree.unflatten([1, 2], treedef)  # type: ignore[arg-type]


def test_unflatten_accepts_any_iterable() -> None:
    treedef = tree.structure((0, [0]))
    assert tree.unflatten(treedef, iter("ab")) == ("a", ["b"])


# --------------------------------------------------------------------------------------------
# flatten_up_to (prefix broadcasting, used by vmap in_axes)
# --------------------------------------------------------------------------------------------


def test_flatten_up_to_prefix() -> None:
    prefix = tree.structure((0, {"a": 0, "b": 0}))
    args = ([1, 2], {"a": (3,), "b": np.zeros(2)})
    subtrees = flatten_up_to(prefix, args)
    assert subtrees[0] == [1, 2] and subtrees[1] == (3,)
    assert subtrees[2] is args[1]["b"]
    assert prefix.flatten_up_to(args)[0] == [1, 2]


def test_flatten_up_to_with_none_as_leaf_in_prefix() -> None:
    in_axes = (0, None, {"w": 1})
    prefix = tree.structure(in_axes, is_leaf=lambda x: x is None)
    axes = tree.leaves(in_axes, is_leaf=lambda x: x is None)
    args = ([1, 2], "static", {"w": (3, 4)})
    assert list(zip(axes, flatten_up_to(prefix, args))) == [
        (0, [1, 2]),
        (None, "static"),
        (1, (3, 4)),
    ]


def test_flatten_up_to_mismatch_names_both_structures() -> None:
    prefix = tree.structure((0, 0))
    with pytest.raises(ValueError) as info:
        flatten_up_to(prefix, [1, 2])
    msg = str(info.value)
    assert "PyTreeDef((*, *))" in msg and "PyTreeDef([*, *])" in msg
    assert "not a prefix" in msg and "at the root" in msg


# --------------------------------------------------------------------------------------------
# reduce / all / transpose
# --------------------------------------------------------------------------------------------


def test_reduce() -> None:
    assert tree.reduce(operator.add, {"a": 1, "b": [2, 3]}) == 6
    assert tree.reduce(operator.add, {"a": 1, "b": [2, 3]}, 10) == 16
    assert tree.reduce(operator.add, [], 7) == 7
    with pytest.raises(TypeError):
        tree.reduce(operator.add, [None])
    assert tree_util.tree_reduce(
        lambda acc, x: acc + [x], [(1, 2)], [], is_leaf=lambda x: isinstance(x, tuple)
    ) == [(1, 2)]


def test_all() -> None:
    assert tree.all({"a": True, "b": [1, "x"]})
    assert not tree.all({"a": True, "b": [0, "x"]})
    assert tree.all([])
    assert tree.all(None)
    assert not tree.all([[]], is_leaf=lambda x: x == [])


def test_transpose() -> None:
    outer = tree.structure([0, 0, 0])
    inner = tree.structure({"m": 0, "v": 0})
    x = [{"m": 1, "v": 2}, {"m": 3, "v": 4}, {"m": 5, "v": 6}]
    assert tree.transpose(outer, inner, x) == {"m": [1, 3, 5], "v": [2, 4, 6]}
    assert tree.transpose(outer, None, x) == {"m": [1, 3, 5], "v": [2, 4, 6]}
    with pytest.raises(TypeError, match="mismatch"):
        tree.transpose(outer, tree.structure((0, 0)), x)


def test_transpose_round_trip() -> None:
    outer = tree.structure((0, 0))
    inner = tree.structure([0, 0, 0])
    x = ([1, 2, 3], [4, 5, 6])
    once = tree.transpose(outer, inner, x)
    assert once == [(1, 4), (2, 5), (3, 6)]
    assert tree.transpose(inner, outer, once) == x


# --------------------------------------------------------------------------------------------
# Key paths
# --------------------------------------------------------------------------------------------


def test_key_classes_str_and_equality() -> None:
    assert str(DictKey("a")) == "['a']"
    assert str(DictKey(1)) == "[1]"
    assert str(SequenceKey(0)) == "[0]"
    assert str(GetAttrKey("name")) == ".name"
    assert str(FlattenedIndexKey(2)) == "[<flat index 2>]"
    assert DictKey("a") == DictKey("a") and DictKey("a") != DictKey("b")
    assert DictKey(0) != SequenceKey(0)
    assert len({DictKey("a"), DictKey("a"), SequenceKey(1)}) == 2


def test_keystr() -> None:
    path = (DictKey("a"), SequenceKey(0), GetAttrKey("w"))
    assert tree.keystr(path) == "['a'][0].w"
    assert tree.keystr(path, simple=True, separator="/") == "a/0/w"
    assert tree.keystr(()) == ""


def test_flatten_with_path_and_map_with_path() -> None:
    t = {"b": (1, None), "a": [Point(2, 3)]}
    pairs, treedef = tree.flatten_with_path(t)
    assert treedef == tree.structure(t)
    assert [(tree.keystr(p), x) for p, x in pairs] == [
        ("['a'][0].x", 2),
        ("['a'][0].y", 3),
        ("['b'][0]", 1),
    ]
    labelled = tree.map_with_path(lambda p, x, y: (tree.keystr(p), x + y), t, t)
    assert labelled == {
        "b": (("['b'][0]", 2), None),
        "a": [Point(("['a'][0].x", 4), ("['a'][0].y", 6))],
    }
    assert tree_util.tree_leaves_with_path(t) == pairs


def test_flatten_with_path_is_leaf() -> None:
    pairs = tree.leaves_with_path({"a": (1, 2)}, is_leaf=lambda x: isinstance(x, tuple))
    assert pairs == [((DictKey("a"),), (1, 2))]


# --------------------------------------------------------------------------------------------
# PyTreeDef object behaviour
# --------------------------------------------------------------------------------------------


def test_treedef_is_immutable_and_hashable() -> None:
    treedef = tree.structure({"a": [1, 2]})
    with pytest.raises(AttributeError):
        treedef._children = ()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        treedef.num_leaves = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        PyTreeDef()
    cache = {treedef: "hit"}
    assert cache[tree.structure({"a": [3, 4]})] == "hit"
    assert tree.structure({"a": [3]}) not in cache
    assert copy.copy(treedef) is treedef and copy.deepcopy(treedef) is treedef
    assert treedef != "PyTreeDef({'a': [*, *]})"


def test_treedef_helpers() -> None:
    treedef = tree.structure({"a": 1, "b": (2, None)})
    assert treedef.num_leaves == 2
    assert treedef.num_nodes == 5
    assert tree_util.treedef_children(treedef) == [tree.structure(0), tree.structure((0, None))]
    assert tree_util.treedef_is_leaf(tree.structure(1.0))
    assert tree_util.treedef_is_leaf(tree.structure(None))
    assert not tree_util.treedef_is_leaf(treedef)
    composed = tree.structure([0, 0]).compose(tree.structure((0, 0)))
    assert composed == tree.structure([(1, 2), (3, 4)])
    assert composed.num_leaves == 4


def test_all_leaves() -> None:
    assert tree_util.all_leaves([1, 2.0, "s", np.zeros(2)])
    assert not tree_util.all_leaves([1, [2]])
    assert not tree_util.all_leaves([None])
    assert tree_util.all_leaves([None, 1], is_leaf=lambda x: x is None)


def test_build_tree() -> None:
    treedef = tree.structure({"a": 0, "b": [0, (0, 0)]})
    assert tree_util.build_tree(treedef, [1, [2, [3, 4]]]) == {"a": 1, "b": [2, (3, 4)]}
    with pytest.raises(ValueError, match="expects 2 children, got 3"):
        tree_util.build_tree(treedef, [1, 2, 3])


# --------------------------------------------------------------------------------------------
# Namespaces and speed
# --------------------------------------------------------------------------------------------


def test_namespaces_export_the_api() -> None:
    for name in tree_util.__all__:
        assert hasattr(tree_util, name), name
    for name in tree.__all__:
        assert hasattr(tree, name), name
    assert tree.PyTreeDef is tree_util.PyTreeDef
    assert tree.register_dataclass is tree_util.register_dataclass
    leaves, treedef = tree_util.tree_flatten([1, (2,)])
    assert tree_util.tree_unflatten(treedef, leaves) == tree.unflatten(treedef, leaves)


def test_flatten_is_fast() -> None:
    arrays = (np.ones(3), np.ones(3), np.ones(3))
    n = 2000
    seconds = min(timeit.repeat(lambda: tree.flatten(arrays), number=n, repeat=5)) / n
    # A few microseconds normally; the bound only catches pathological regressions.
    assert seconds < 50e-6
