"""Pytrees: nested containers of arrays, and the machinery to flatten and rebuild them.

A *pytree* is any nesting of registered container types (tuples, lists, dicts, namedtuples,
``None``, ``OrderedDict``, ``defaultdict``, dataclasses and classes registered by the user)
whose non-container parts are *leaves*. Every transform in funcgrad (``grad``, ``jit``,
``vmap``, ...) flattens its arguments into a flat list of leaves plus a :class:`PyTreeDef`
describing the containers, works on the leaves, and rebuilds outputs with the treedef.

The semantics follow ``jax.tree_util``:

* Container types are matched by *exact* type. A subclass of ``list`` or ``dict`` is a leaf
  unless it is registered itself; a ``tuple`` subclass with ``_fields`` is a namedtuple.
* Dict keys are sorted when flattening, so rebuilt dicts have their keys in sorted order.
  ``OrderedDict`` keeps its insertion order.
* ``None`` is a container with no children: it contributes no leaves.

Implementation notes: a :class:`PyTreeDef` is a small immutable tree of nodes whose hash is
computed lazily and cached, since ``jit`` uses treedefs as cache keys. Type dispatch is a
single dict lookup on ``type(x)`` through a cache that also remembers leaf types.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import operator
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar

__all__ = [
    "DictKey",
    "FlattenedIndexKey",
    "GetAttrKey",
    "KeyEntry",
    "KeyPath",
    "PyTree",
    "PyTreeDef",
    "SequenceKey",
    "all_leaves",
    "build_tree",
    "flatten_up_to",
    "keystr",
    "register_dataclass",
    "register_pytree_node",
    "register_pytree_node_class",
    "register_pytree_with_keys",
    "tree_all",
    "tree_flatten",
    "tree_flatten_with_path",
    "tree_leaves",
    "tree_leaves_with_path",
    "tree_map",
    "tree_map_with_path",
    "tree_reduce",
    "tree_structure",
    "tree_transpose",
    "tree_unflatten",
    "treedef_children",
    "treedef_is_leaf",
]

PyTree = Any
KeyEntry = Hashable
KeyPath = tuple[KeyEntry, ...]
T = TypeVar("T")
IsLeaf = Callable[[Any], bool] | None


# --------------------------------------------------------------------------------------------
# Key path entries
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class DictKey:
    """Path entry for a dict value; prints as ``['a']``."""

    key: Hashable

    def __str__(self) -> str:
        return f"[{self.key!r}]"


@dataclasses.dataclass(frozen=True, slots=True)
class SequenceKey:
    """Path entry for a tuple or list element; prints as ``[0]``."""

    idx: int

    def __str__(self) -> str:
        return f"[{self.idx!r}]"


@dataclasses.dataclass(frozen=True, slots=True)
class GetAttrKey:
    """Path entry for an attribute (namedtuple or dataclass field); prints as ``.name``."""

    name: str

    def __str__(self) -> str:
        return f".{self.name}"


@dataclasses.dataclass(frozen=True, slots=True)
class FlattenedIndexKey:
    """Path entry for the i-th child of a custom node registered without keys."""

    key: int

    def __str__(self) -> str:
        return f"[<flat index {self.key}>]"


def _simple_key_str(key: Any) -> str:
    if isinstance(key, DictKey):
        return str(key.key)
    if isinstance(key, SequenceKey):
        return str(key.idx)
    if isinstance(key, GetAttrKey):
        return key.name
    if isinstance(key, FlattenedIndexKey):
        return str(key.key)
    return str(key)


def keystr(keys: KeyPath, *, simple: bool = False, separator: str = "") -> str:
    """Render a key path (as produced by :func:`tree_flatten_with_path`) as a string.

    Args:
      keys: a sequence of path entries such as :class:`DictKey` or :class:`SequenceKey`.
      simple: if true, render each entry bare (``a``, ``0``, ``name``) instead of in its
        Python-accessor form (``['a']``, ``[0]``, ``.name``).
      separator: string placed between entries.

    Returns:
      The path as a string; ``""`` for the empty path.

    Example:
      >>> from funcgrad import tree
      >>> [(path, _)] = tree.flatten_with_path({"a": [1]})[0]
      >>> tree.keystr(path)
      "['a'][0]"
      >>> tree.keystr(path, simple=True, separator="/")
      'a/0'
    """
    render = _simple_key_str if simple else str
    return separator.join(render(k) for k in keys)


# --------------------------------------------------------------------------------------------
# Node types and the registry
# --------------------------------------------------------------------------------------------


class _NodeType:
    """How to take apart and rebuild one kind of container.

    ``flatten(x) -> (children: Sequence, aux)``; ``unflatten(aux, children: list) -> x``;
    ``flatten_with_keys(x) -> (list of (key, child), aux)``; ``to_str(aux, child_strs)``.
    """

    __slots__ = ("aux_label", "flatten", "flatten_with_keys", "name", "to_str", "type", "unflatten")

    def __init__(
        self,
        type_: type,
        name: str,
        flatten: Callable[[Any], tuple[Sequence[Any], Any]],
        unflatten: Callable[[Any, list[Any]], Any],
        flatten_with_keys: Callable[[Any], tuple[list[tuple[Any, Any]], Any]],
        to_str: Callable[[Any, list[str]], str],
        aux_label: str = "auxiliary data",
    ) -> None:
        self.type = type_
        self.name = name
        self.flatten = flatten
        self.unflatten = unflatten
        self.flatten_with_keys = flatten_with_keys
        self.to_str = to_str
        self.aux_label = aux_label

    def __repr__(self) -> str:
        return f"<pytree node type {self.name}>"


def _sorted_keys(d: dict) -> list:
    """Dict keys in sorted order; mixed key types are grouped by type name first."""
    try:
        return sorted(d)
    except TypeError:
        try:
            return sorted(d, key=lambda k: (type(k).__qualname__, k))
        except TypeError:
            raise TypeError(
                f"pytree dict keys must be sortable, got {list(d)!r}; "
                "use an OrderedDict to keep a fixed key order"
            ) from None


def _dict_body(keys: Sequence, child_strs: list[str]) -> str:
    return "{" + ", ".join(f"{k!r}: {c}" for k, c in zip(keys, child_strs)) + "}"


# -- tuple -----------------------------------------------------------------------------------


def _tuple_to_str(aux: None, cs: list[str]) -> str:
    return "(" + ", ".join(cs) + ("," if len(cs) == 1 else "") + ")"


_TUPLE = _NodeType(
    tuple,
    "tuple",
    flatten=lambda x: (x, None),
    unflatten=lambda aux, cs: tuple(cs),
    flatten_with_keys=lambda x: ([(SequenceKey(i), c) for i, c in enumerate(x)], None),
    to_str=_tuple_to_str,
)

# -- list ------------------------------------------------------------------------------------

_LIST = _NodeType(
    list,
    "list",
    flatten=lambda x: (x, None),
    unflatten=lambda aux, cs: cs,
    flatten_with_keys=lambda x: ([(SequenceKey(i), c) for i, c in enumerate(x)], None),
    to_str=lambda aux, cs: "[" + ", ".join(cs) + "]",
)

# -- dict (keys sorted) ------------------------------------------------------------------------


def _dict_flatten(x: dict) -> tuple[list, tuple]:
    keys = _sorted_keys(x)
    return [x[k] for k in keys], tuple(keys)


def _dict_flatten_with_keys(x: dict) -> tuple[list, tuple]:
    keys = _sorted_keys(x)
    return [(DictKey(k), x[k]) for k in keys], tuple(keys)


_DICT = _NodeType(
    dict,
    "dict",
    flatten=_dict_flatten,
    unflatten=lambda keys, cs: dict(zip(keys, cs)),
    flatten_with_keys=_dict_flatten_with_keys,
    to_str=_dict_body,
    aux_label="keys",
)

# -- None (a node without children) ----------------------------------------------------------

_NONE = _NodeType(
    type(None),
    "None",
    flatten=lambda x: ((), None),
    unflatten=lambda aux, cs: None,
    flatten_with_keys=lambda x: ([], None),
    to_str=lambda aux, cs: "None",
)

# -- OrderedDict (insertion order kept) ------------------------------------------------------


def _odict_flatten(x: collections.OrderedDict) -> tuple[list, tuple]:
    return list(x.values()), tuple(x)


_ORDERED_DICT = _NodeType(
    collections.OrderedDict,
    "OrderedDict",
    flatten=_odict_flatten,
    unflatten=lambda keys, cs: collections.OrderedDict(zip(keys, cs)),
    flatten_with_keys=lambda x: ([(DictKey(k), v) for k, v in x.items()], tuple(x)),
    to_str=lambda keys, cs: f"OrderedDict({_dict_body(keys, cs)})",
    aux_label="keys",
)

# -- defaultdict (keys sorted; aux is (default_factory, keys)) -------------------------------


def _ddict_flatten(x: collections.defaultdict) -> tuple[list, tuple]:
    children, keys = _dict_flatten(x)
    return children, (x.default_factory, keys)


def _ddict_flatten_with_keys(x: collections.defaultdict) -> tuple[list, tuple]:
    keyed, keys = _dict_flatten_with_keys(x)
    return keyed, (x.default_factory, keys)


_DEFAULT_DICT = _NodeType(
    collections.defaultdict,
    "defaultdict",
    flatten=_ddict_flatten,
    unflatten=lambda aux, cs: collections.defaultdict(aux[0], zip(aux[1], cs)),
    flatten_with_keys=_ddict_flatten_with_keys,
    to_str=lambda aux, cs: f"defaultdict({aux[0]!r}, {_dict_body(aux[1], cs)})",
    aux_label="default factory and keys",
)

_BUILTIN_NODE_TYPES = (_TUPLE, _LIST, _DICT, _NONE, _ORDERED_DICT, _DEFAULT_DICT)

# User registrations, by exact type.
_registry: dict[type, _NodeType] = {nt.type: nt for nt in _BUILTIN_NODE_TYPES}
# Namedtuple node types, created on first sight and kept so that treedefs stay comparable.
_namedtuple_node_types: dict[type, _NodeType] = {}
# type -> node type, or None for leaf types. Filled lazily; an entry is dropped when its type
# is registered.
_type_cache: dict[type, _NodeType | None] = dict(_registry)
_MISSING = object()


def _namedtuple_node_type(cls: type) -> _NodeType:
    fields = cls._fields  # type: ignore[attr-defined]

    def to_str(aux: None, cs: list[str]) -> str:
        return f"{cls.__name__}(" + ", ".join(f"{f}={c}" for f, c in zip(fields, cs)) + ")"

    return _NodeType(
        cls,
        cls.__name__,
        flatten=lambda x: (x, None),
        unflatten=lambda aux, cs: cls(*cs),
        flatten_with_keys=lambda x: ([(GetAttrKey(f), c) for f, c in zip(fields, x)], None),
        to_str=to_str,
    )


def _resolve_node_type(t: type) -> _NodeType | None:
    """Slow path of :func:`_node_type_of`: look ``t`` up and fill the cache."""
    nt = _registry.get(t)
    if nt is None and issubclass(t, tuple) and hasattr(t, "_fields"):
        nt = _namedtuple_node_types.get(t)
        if nt is None:
            nt = _namedtuple_node_types[t] = _namedtuple_node_type(t)
    _type_cache[t] = nt
    return nt


def _node_type_of(x: Any) -> _NodeType | None:
    """The node type of ``x``, or None if ``x`` is a leaf."""
    nt = _type_cache.get(type(x), _MISSING)
    if nt is _MISSING:
        return _resolve_node_type(type(x))
    return nt  # type: ignore[return-value]


def _add_node_type(nt: _NodeType) -> None:
    t = nt.type
    if not isinstance(t, type):
        raise TypeError(f"Expected a type to register as a pytree node, got {t!r}")
    if t in _registry:
        raise ValueError(f"Duplicate pytree node registration for type {t.__qualname__}")
    _registry[t] = nt
    _type_cache.pop(t, None)


def _custom_to_str(name: str) -> Callable[[Any, list[str]], str]:
    return lambda aux, cs: f"CustomNode({name}[{aux!r}], [{', '.join(cs)}])"


def register_pytree_node(
    nodetype: type[T],
    flatten_func: Callable[[T], tuple[Iterable[Any], Hashable]],
    unflatten_func: Callable[[Hashable, Iterable[Any]], T],
    flatten_with_keys_func: Callable[[T], tuple[Iterable[tuple[KeyEntry, Any]], Hashable]]
    | None = None,
) -> None:
    """Register a type as a pytree container.

    Args:
      nodetype: the class to register (matched exactly; subclasses are not included).
      flatten_func: ``x -> (children, aux_data)``; ``children`` is an iterable of subtrees and
        ``aux_data`` is hashable static data kept in the treedef.
      unflatten_func: ``(aux_data, children) -> x``; receives ``children`` as a tuple.
      flatten_with_keys_func: optional ``x -> ((key, child), ...), aux_data`` used for key
        paths; by default children are keyed with :class:`FlattenedIndexKey`.

    Returns:
      None.

    Example:
      >>> from funcgrad import tree
      >>> class Pair:
      ...     def __init__(self, a, b):
      ...         self.a, self.b = a, b
      >>> tree.register_pytree_node(
      ...     Pair, lambda p: ((p.a, p.b), None), lambda aux, ch: Pair(*ch))
      >>> tree.leaves(Pair(1, [2, 3]))
      [1, 2, 3]
    """

    def flatten(x: Any) -> tuple[tuple, Any]:
        children, aux = flatten_func(x)
        return tuple(children), aux

    def unflatten(aux: Any, children: list) -> Any:
        return unflatten_func(aux, tuple(children))

    if flatten_with_keys_func is None:

        def flatten_with_keys(x: Any) -> tuple[list, Any]:
            children, aux = flatten_func(x)
            return [(FlattenedIndexKey(i), c) for i, c in enumerate(children)], aux

    else:

        def flatten_with_keys(x: Any) -> tuple[list, Any]:
            keyed, aux = flatten_with_keys_func(x)
            return list(keyed), aux

    name = nodetype.__name__
    _add_node_type(
        _NodeType(nodetype, name, flatten, unflatten, flatten_with_keys, _custom_to_str(name))
    )


def register_pytree_with_keys(
    nodetype: type[T],
    flatten_with_keys: Callable[[T], tuple[Iterable[tuple[KeyEntry, Any]], Hashable]],
    unflatten_func: Callable[[Hashable, Iterable[Any]], T],
    flatten_func: Callable[[T], tuple[Iterable[Any], Hashable]] | None = None,
) -> None:
    """Register a pytree container whose children carry meaningful path keys.

    Args:
      nodetype: the class to register.
      flatten_with_keys: ``x -> (((key, child), ...), aux_data)``.
      unflatten_func: ``(aux_data, children) -> x``.
      flatten_func: optional faster ``x -> (children, aux_data)`` used when keys are not
        needed; derived from ``flatten_with_keys`` if omitted.

    Returns:
      None.

    Example:
      >>> from funcgrad import tree, tree_util
      >>> class Box:
      ...     def __init__(self, v):
      ...         self.v = v
      >>> tree.register_pytree_with_keys(
      ...     Box, lambda b: (((tree_util.GetAttrKey("v"), b.v),), None),
      ...     lambda aux, ch: Box(*ch))
      >>> [tree.keystr(p) for p, _ in tree.leaves_with_path(Box([1, 2]))]
      ['.v[0]', '.v[1]']
    """
    if flatten_func is None:

        def flatten_func(x: Any) -> tuple[list, Any]:
            keyed, aux = flatten_with_keys(x)
            return [c for _, c in keyed], aux

    register_pytree_node(nodetype, flatten_func, unflatten_func, flatten_with_keys)


def register_pytree_node_class(cls: type[T]) -> type[T]:
    """Class decorator registering a class with ``tree_flatten``/``tree_unflatten`` methods.

    Args:
      cls: a class with a method ``tree_flatten(self) -> (children, aux_data)`` and a
        classmethod ``tree_unflatten(cls, aux_data, children)``.

    Returns:
      ``cls`` itself, now registered.

    Example:
      >>> from funcgrad import tree
      >>> @tree.register_pytree_node_class
      ... class Scaled:
      ...     def __init__(self, x, scale):
      ...         self.x, self.scale = x, scale
      ...     def tree_flatten(self):
      ...         return (self.x,), self.scale
      ...     @classmethod
      ...     def tree_unflatten(cls, scale, children):
      ...         return cls(*children, scale)
      >>> tree.map(lambda v: v + 1, Scaled(1, "s")).x
      2
    """
    register_pytree_node(cls, operator.methodcaller("tree_flatten"), cls.tree_unflatten)
    return cls


def register_dataclass(
    nodetype: type[T] | None = None,
    data_fields: Sequence[str] | None = None,
    meta_fields: Sequence[str] | None = None,
    drop_fields: Sequence[str] = (),
) -> Any:
    """Register a dataclass (or any class built from keyword arguments) as a pytree node.

    Data fields become children; meta fields are static and go into the treedef's aux data,
    so they must be hashable. When both ``data_fields`` and ``meta_fields`` are None, the
    dataclass's fields are used: those declared with ``field(metadata={"static": True})`` are
    meta fields and all others are data fields. Usable as a plain decorator.

    Args:
      nodetype: the class to register; if None, a decorator taking the class is returned.
      data_fields: names of the fields holding subtrees.
      meta_fields: names of the static, hashable fields.
      drop_fields: ``__init__`` fields that are neither, and are left to their defaults.

    Returns:
      ``nodetype`` (so it can be used as a decorator), or a decorator if ``nodetype`` is None.

    Example:
      >>> import dataclasses
      >>> from funcgrad import tree
      >>> @tree.register_dataclass
      ... @dataclasses.dataclass
      ... class Params:
      ...     w: float
      ...     b: float
      >>> tree.map(lambda x: 2 * x, Params(w=1.0, b=3.0))
      Params(w=2.0, b=6.0)
      >>> tree.structure(Params(w=1.0, b=3.0))
      PyTreeDef(CustomNode(Params[()], [*, *]))
    """
    if nodetype is None:
        return functools.partial(
            register_dataclass,
            data_fields=data_fields,
            meta_fields=meta_fields,
            drop_fields=drop_fields,
        )
    if data_fields is None and meta_fields is None:
        if not dataclasses.is_dataclass(nodetype):
            raise TypeError(
                f"register_dataclass: {nodetype.__qualname__} is not a dataclass; "
                "pass data_fields and meta_fields explicitly"
            )
        init_fields = [f for f in dataclasses.fields(nodetype) if f.init]
        meta = tuple(f.name for f in init_fields if f.metadata.get("static", False))
        data = tuple(
            f.name for f in init_fields if f.name not in meta and f.name not in drop_fields
        )
    else:
        data = tuple(data_fields or ())
        meta = tuple(meta_fields or ())
    _check_dataclass_fields(nodetype, data, meta, tuple(drop_fields))

    def flatten(x: Any) -> tuple[tuple, tuple]:
        aux = tuple(getattr(x, name) for name in meta)
        if meta:
            _check_hashable(nodetype, meta, aux)
        return tuple(getattr(x, name) for name in data), aux

    def flatten_with_keys(x: Any) -> tuple[list, tuple]:
        children, aux = flatten(x)
        return [(GetAttrKey(name), c) for name, c in zip(data, children)], aux

    def unflatten(aux: tuple, children: Iterable[Any]) -> Any:
        return nodetype(**dict(zip(data, children)), **dict(zip(meta, aux)))

    name = nodetype.__name__
    _add_node_type(
        _NodeType(nodetype, name, flatten, unflatten, flatten_with_keys, _custom_to_str(name))
    )
    return nodetype


def _check_dataclass_fields(
    nodetype: type, data: tuple[str, ...], meta: tuple[str, ...], drop: tuple[str, ...]
) -> None:
    named = data + meta + drop
    duplicates = sorted({n for n in named if named.count(n) > 1})
    if duplicates:
        raise ValueError(f"register_dataclass: fields listed more than once: {duplicates}")
    if dataclasses.is_dataclass(nodetype):
        init_names = {f.name for f in dataclasses.fields(nodetype) if f.init}
        missing = sorted(init_names - set(named))
        unknown = sorted(set(named) - init_names)
        if missing or unknown:
            raise ValueError(
                f"register_dataclass: data_fields + meta_fields + drop_fields must be the "
                f"__init__ fields of {nodetype.__qualname__}; missing {missing}, unknown {unknown}"
            )


def _check_hashable(nodetype: type, meta: tuple[str, ...], values: tuple) -> None:
    for name, value in zip(meta, values):
        try:
            hash(value)
        except TypeError:
            raise TypeError(
                f"meta field {name!r} of {nodetype.__qualname__} must be hashable, "
                f"got {type(value).__name__}"
            ) from None


# --------------------------------------------------------------------------------------------
# PyTreeDef
# --------------------------------------------------------------------------------------------

_setattr = object.__setattr__


class PyTreeDef:
    """The structure of a pytree: its containers, with the leaves left out.

    Immutable and hashable (so it can be used as a cache key). Obtain one from
    :func:`tree_flatten` or :func:`tree_structure`; it cannot be built directly.

    Example:
      >>> from funcgrad import tree
      >>> td = tree.structure({"a": 1, "b": [2, 3]})
      >>> td
      PyTreeDef({'a': *, 'b': [*, *]})
      >>> td.num_leaves, td.num_nodes
      (3, 5)
      >>> td.unflatten([10, 20, 30])
      {'a': 10, 'b': [20, 30]}
    """

    __slots__ = ("_aux", "_children", "_hash", "_node_type", "_num_leaves", "_num_nodes")

    _node_type: _NodeType | None
    _aux: Any
    _children: tuple[PyTreeDef, ...]
    _num_leaves: int
    _num_nodes: int | None
    _hash: int | None

    def __init__(self) -> None:
        raise TypeError("PyTreeDef cannot be built directly; use tree_structure or tree_flatten")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("PyTreeDef is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("PyTreeDef is immutable")

    def __copy__(self) -> PyTreeDef:
        return self

    def __deepcopy__(self, memo: dict) -> PyTreeDef:
        return self

    @property
    def num_leaves(self) -> int:
        """Number of leaves in trees of this structure."""
        return self._num_leaves

    @property
    def num_nodes(self) -> int:
        """Number of nodes (containers, ``None`` and leaves) in trees of this structure."""
        n = self._num_nodes
        if n is None:
            n = 1 + sum(c.num_nodes for c in self._children)
            _setattr(self, "_num_nodes", n)
        return n

    def children(self) -> list[PyTreeDef]:
        """The treedefs of the root's direct children (empty for a leaf or ``None``).

        Returns:
          A list of PyTreeDefs, one per child.

        Example:
          >>> from funcgrad import tree
          >>> tree.structure((1, [2, 3])).children()
          [PyTreeDef(*), PyTreeDef([*, *])]
        """
        return list(self._children)

    def unflatten(self, leaves: Iterable[Any]) -> PyTree:
        """Rebuild a pytree of this structure from its leaves.

        Args:
          leaves: exactly ``num_leaves`` leaves, in flattening order.

        Returns:
          The rebuilt pytree.

        Example:
          >>> from funcgrad import tree
          >>> tree.structure((1, {"x": 2})).unflatten(["a", "b"])
          ('a', {'x': 'b'})
        """
        if type(leaves) is not list:
            leaves = list(leaves)
        if len(leaves) != self._num_leaves:
            raise ValueError(
                f"tree_unflatten: expected {self._num_leaves} leaves for {self!r}, "
                f"got {len(leaves)}"
            )
        return _unflatten(self, iter(leaves))

    def flatten_up_to(self, tree: PyTree) -> list[PyTree]:
        """Flatten ``tree`` only as deep as this (prefix) structure goes.

        Args:
          tree: a pytree whose structure has this treedef as a prefix.

        Returns:
          One subtree of ``tree`` per leaf of this treedef.

        Example:
          >>> from funcgrad import tree
          >>> tree.structure((0, 0)).flatten_up_to(([1, 2], {"a": 3}))
          [[1, 2], {'a': 3}]
        """
        return flatten_up_to(self, tree)

    def compose(self, inner: PyTreeDef) -> PyTreeDef:
        """The structure obtained by replacing every leaf of this treedef with ``inner``.

        Args:
          inner: the treedef to put at each leaf.

        Returns:
          The composed treedef.

        Example:
          >>> from funcgrad import tree
          >>> tree.structure([0, 0]).compose(tree.structure((0, 0)))
          PyTreeDef([(*, *), (*, *)])
        """
        if not isinstance(inner, PyTreeDef):
            raise TypeError(f"compose expects a PyTreeDef, got {type(inner).__name__}")
        return _compose(self, inner)

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, PyTreeDef):
            return NotImplemented
        return _treedef_equal(self, other)

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = hash((id(self._node_type), self._aux, self._children))
            _setattr(self, "_hash", h)
        return h

    def __repr__(self) -> str:
        return f"PyTreeDef({_node_str(self)})"

    def __reduce__(self) -> Any:
        raise TypeError("PyTreeDef cannot be pickled")


def _make(node_type: _NodeType, aux: Any, children: tuple[PyTreeDef, ...], num_leaves: int):
    node = object.__new__(PyTreeDef)
    _setattr(node, "_node_type", node_type)
    _setattr(node, "_aux", aux)
    _setattr(node, "_children", children)
    _setattr(node, "_num_leaves", num_leaves)
    _setattr(node, "_num_nodes", None)
    _setattr(node, "_hash", None)
    return node


def _make_leaf() -> PyTreeDef:
    leaf = object.__new__(PyTreeDef)
    for name, value in [("_node_type", None), ("_aux", None), ("_children", ())]:
        _setattr(leaf, name, value)
    for name, value in [("_num_leaves", 1), ("_num_nodes", 1), ("_hash", hash("pytree-leaf"))]:
        _setattr(leaf, name, value)
    return leaf


# The one treedef of a leaf; every leaf position in every treedef is this object.
_LEAF = _make_leaf()


def _aux_equal(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except (ValueError, TypeError):  # e.g. arrays in aux data: treat as different
        return False


def _treedef_equal(a: PyTreeDef, b: PyTreeDef) -> bool:
    if a is b:
        return True
    if (
        a._node_type is not b._node_type
        or a._num_leaves != b._num_leaves
        or len(a._children) != len(b._children)
    ):
        return False
    if a._hash is not None and b._hash is not None and a._hash != b._hash:
        return False
    if not _aux_equal(a._aux, b._aux):
        return False
    return all(_treedef_equal(x, y) for x, y in zip(a._children, b._children))


def _node_str(node: PyTreeDef) -> str:
    nt = node._node_type
    if nt is None:
        return "*"
    return nt.to_str(node._aux, [_node_str(c) for c in node._children])


def _compose(outer: PyTreeDef, inner: PyTreeDef) -> PyTreeDef:
    if outer._node_type is None:
        return inner
    children = tuple(_compose(c, inner) for c in outer._children)
    return _make(outer._node_type, outer._aux, children, outer._num_leaves * inner._num_leaves)


# --------------------------------------------------------------------------------------------
# Flattening and unflattening
# --------------------------------------------------------------------------------------------


def _flatten(x: Any, leaves: list, is_leaf: IsLeaf) -> PyTreeDef:
    if is_leaf is not None and is_leaf(x):
        leaves.append(x)
        return _LEAF
    nt = _type_cache.get(type(x), _MISSING)
    if nt is _MISSING:
        nt = _resolve_node_type(type(x))
    if nt is None:
        leaves.append(x)
        return _LEAF
    start = len(leaves)
    children, aux = nt.flatten(x)  # type: ignore[union-attr]
    child_defs = tuple([_flatten(c, leaves, is_leaf) for c in children])
    return _make(nt, aux, child_defs, len(leaves) - start)  # type: ignore[arg-type]


def _flatten_with_path(x: Any, path: KeyPath, out: list, is_leaf: IsLeaf) -> PyTreeDef:
    if is_leaf is not None and is_leaf(x):
        out.append((path, x))
        return _LEAF
    nt = _node_type_of(x)
    if nt is None:
        out.append((path, x))
        return _LEAF
    start = len(out)
    keyed, aux = nt.flatten_with_keys(x)
    child_defs = tuple([_flatten_with_path(c, (*path, k), out, is_leaf) for k, c in keyed])
    return _make(nt, aux, child_defs, len(out) - start)


def _unflatten(node: PyTreeDef, leaves: Any) -> Any:
    nt = node._node_type
    if nt is None:
        return next(leaves)
    return nt.unflatten(node._aux, [_unflatten(c, leaves) for c in node._children])


class _Mismatch(Exception):
    """Raised inside :func:`_flatten_up_to`; carries a description and the key path."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.path: list[Any] = []  # innermost key first


def _flatten_up_to(node: PyTreeDef, x: Any, out: list) -> None:
    nt = node._node_type
    if nt is None:
        out.append(x)
        return
    x_nt = _node_type_of(x)
    if x_nt is not nt:
        got = type(x).__name__ if x_nt is None else x_nt.name
        raise _Mismatch(f"expected {nt.name}, got {got}")
    children, aux = nt.flatten(x)
    if not _aux_equal(aux, node._aux):
        raise _Mismatch(f"{nt.name} {nt.aux_label} differ: expected {node._aux!r}, got {aux!r}")
    if len(children) != len(node._children):
        raise _Mismatch(
            f"{nt.name} length mismatch: expected {len(node._children)}, got {len(children)}"
        )
    for i, (child, child_node) in enumerate(zip(children, node._children)):
        try:
            _flatten_up_to(child_node, child, out)
        except _Mismatch as e:
            e.path.append(nt.flatten_with_keys(x)[0][i][0])
            raise


def _mismatch_location(e: _Mismatch) -> str:
    path = keystr(tuple(reversed(e.path)))
    return f"at {path}" if path else "at the root"


def _flatten_rest(treedef: PyTreeDef, rest: Sequence[PyTree], who: str) -> list[list]:
    """Flatten each tree in ``rest`` up to ``treedef``, with a tree_map-style error message."""
    flat = []
    for i, r in enumerate(rest):
        out: list = []
        try:
            _flatten_up_to(treedef, r, out)
        except _Mismatch as e:
            raise ValueError(
                f"{who}: tree structure mismatch: {treedef} vs {tree_structure(r)} "
                f"(rest[{i}] {_mismatch_location(e)}: {e.detail})"
            ) from None
        flat.append(out)
    return flat


def flatten_up_to(prefix_treedef: PyTreeDef, tree: PyTree) -> list[PyTree]:
    """Flatten ``tree`` down to the leaves of ``prefix_treedef``, keeping deeper subtrees whole.

    Used to broadcast a prefix specification (such as ``vmap``'s ``in_axes``) over arguments.
    To let ``None`` in the prefix stand for a leaf, build the prefix treedef with
    ``tree_structure(prefix, is_leaf=lambda x: x is None)``.

    Args:
      prefix_treedef: the structure of the prefix.
      tree: a pytree whose structure starts with ``prefix_treedef``.

    Returns:
      A list with one subtree of ``tree`` per leaf of ``prefix_treedef``.

    Raises:
      ValueError: if ``prefix_treedef`` is not a prefix of ``tree``'s structure; the message
        shows both structures and where they differ.

    Example:
      >>> from funcgrad import tree
      >>> from funcgrad._src.tree_util import flatten_up_to
      >>> flatten_up_to(tree.structure((0, {"b": 0})), ([1, 2], {"b": (3, 4)}))
      [[1, 2], (3, 4)]
    """
    out: list = []
    try:
        _flatten_up_to(prefix_treedef, tree, out)
    except _Mismatch as e:
        raise ValueError(
            f"Tree prefix mismatch: {prefix_treedef} is not a prefix of {tree_structure(tree)} "
            f"({_mismatch_location(e)}: {e.detail})"
        ) from None
    return out


# --------------------------------------------------------------------------------------------
# Public tree functions
# --------------------------------------------------------------------------------------------


def tree_flatten(tree: PyTree, is_leaf: IsLeaf = None) -> tuple[list[Any], PyTreeDef]:
    """Flatten a pytree into its leaves and its structure.

    Args:
      tree: the pytree to flatten.
      is_leaf: optional predicate; a subtree for which it returns true is kept whole as a
        leaf. It is called on every node, ``None`` included.

    Returns:
      A pair ``(leaves, treedef)``: the leaves in order (dict values by sorted key), and a
      :class:`PyTreeDef` that :func:`tree_unflatten` can use to rebuild the tree.

    Example:
      >>> from funcgrad import tree_util
      >>> leaves, treedef = tree_util.tree_flatten({"b": [2, 3], "a": 1, "c": None})
      >>> leaves
      [1, 2, 3]
      >>> treedef
      PyTreeDef({'a': *, 'b': [*, *], 'c': None})
    """
    leaves: list = []
    treedef = _flatten(tree, leaves, is_leaf)
    return leaves, treedef


def tree_unflatten(treedef: PyTreeDef, leaves: Iterable[Any]) -> PyTree:
    """Rebuild a pytree from a treedef and leaves (the inverse of :func:`tree_flatten`).

    Args:
      treedef: the structure, from :func:`tree_flatten` or :func:`tree_structure`.
      leaves: exactly ``treedef.num_leaves`` leaves.

    Returns:
      The rebuilt pytree.

    Raises:
      ValueError: if the number of leaves is wrong.

    Example:
      >>> from funcgrad import tree_util
      >>> leaves, treedef = tree_util.tree_flatten([1, (2, 3)])
      >>> tree_util.tree_unflatten(treedef, [x * 10 for x in leaves])
      [10, (20, 30)]
    """
    if not isinstance(treedef, PyTreeDef):
        raise TypeError(f"tree_unflatten expects a PyTreeDef, got {type(treedef).__name__}")
    return treedef.unflatten(leaves)


def tree_leaves(tree: PyTree, is_leaf: IsLeaf = None) -> list[Any]:
    """The leaves of a pytree, in flattening order.

    Args:
      tree: the pytree.
      is_leaf: optional predicate marking subtrees to treat as leaves.

    Returns:
      A list of leaves.

    Example:
      >>> from funcgrad import tree_util
      >>> tree_util.tree_leaves({"x": (1, 2), "y": None, "z": 3})
      [1, 2, 3]
    """
    leaves: list = []
    _flatten(tree, leaves, is_leaf)
    return leaves


def tree_structure(tree: PyTree, is_leaf: IsLeaf = None) -> PyTreeDef:
    """The structure (treedef) of a pytree.

    Args:
      tree: the pytree.
      is_leaf: optional predicate marking subtrees to treat as leaves.

    Returns:
      Its :class:`PyTreeDef`.

    Example:
      >>> from funcgrad import tree_util
      >>> tree_util.tree_structure((1, [2, None]))
      PyTreeDef((*, [*, None]))
    """
    return _flatten(tree, [], is_leaf)


def tree_map(f: Callable[..., Any], tree: PyTree, *rest: PyTree, is_leaf: IsLeaf = None) -> PyTree:
    """Apply ``f`` to every leaf of ``tree`` (and the matching parts of ``rest``).

    Each tree in ``rest`` must have ``tree``'s structure as a prefix: where ``tree`` has a
    leaf, the tree in ``rest`` may hold a whole subtree, which is passed to ``f`` as is.

    Args:
      f: function taking ``1 + len(rest)`` arguments.
      tree: the pytree whose leaves drive the mapping; the result has its structure.
      *rest: further pytrees with ``tree``'s structure as a prefix.
      is_leaf: optional predicate marking subtrees of ``tree`` to treat as leaves.

    Returns:
      A pytree of ``tree``'s structure holding ``f(leaf, *matching_parts_of_rest)``.

    Raises:
      ValueError: if a tree in ``rest`` does not match; the message shows both structures.

    Example:
      >>> from funcgrad import tree_util
      >>> tree_util.tree_map(lambda x, y: x + y, {"a": 1, "b": 2}, {"a": 10, "b": 20})
      {'a': 11, 'b': 22}
      >>> tree_util.tree_map(lambda x, sub: (x, sub), [1, 2], [[3], (4,)])
      [(1, [3]), (2, (4,))]
    """
    leaves: list = []
    treedef = _flatten(tree, leaves, is_leaf)
    if not rest:
        return _unflatten(treedef, iter([f(x) for x in leaves]))
    others = _flatten_rest(treedef, rest, "tree_map")
    return _unflatten(treedef, iter([f(*xs) for xs in zip(leaves, *others)]))


_NO_INITIALIZER = object()


def tree_reduce(
    function: Callable[[T, Any], T],
    tree: PyTree,
    initializer: Any = _NO_INITIALIZER,
    is_leaf: IsLeaf = None,
) -> T:
    """Reduce the leaves of a pytree with a binary function, like :func:`functools.reduce`.

    Args:
      function: ``(accumulated, leaf) -> accumulated``.
      tree: the pytree.
      initializer: optional starting value; required if the tree may have no leaves.
      is_leaf: optional predicate marking subtrees to treat as leaves.

    Returns:
      The reduced value.

    Example:
      >>> import operator
      >>> from funcgrad import tree_util
      >>> tree_util.tree_reduce(operator.add, {"a": 1, "b": [2, 3]})
      6
      >>> tree_util.tree_reduce(operator.add, [], 0)
      0
    """
    leaves = tree_leaves(tree, is_leaf)
    if initializer is _NO_INITIALIZER:
        return functools.reduce(function, leaves)
    return functools.reduce(function, leaves, initializer)


def tree_all(tree: PyTree, *, is_leaf: IsLeaf = None) -> bool:
    """Whether every leaf of the pytree is truthy (True for a tree without leaves).

    Args:
      tree: the pytree.
      is_leaf: optional predicate marking subtrees to treat as leaves.

    Returns:
      ``all(leaves)``.

    Example:
      >>> from funcgrad import tree_util
      >>> tree_util.tree_all([True, {"a": 1}]), tree_util.tree_all([True, (0,)])
      (True, False)
    """
    return all(tree_leaves(tree, is_leaf))


def tree_transpose(
    outer_treedef: PyTreeDef, inner_treedef: PyTreeDef | None, pytree_to_transpose: PyTree
) -> PyTree:
    """Turn an outer-of-inner pytree into an inner-of-outer pytree.

    Args:
      outer_treedef: structure of the outer level.
      inner_treedef: structure of the inner level (each outer leaf holds one of these); if
        None it is taken from the first subtree below the outer level.
      pytree_to_transpose: a pytree of structure ``outer_treedef.compose(inner_treedef)``.

    Returns:
      A pytree of structure ``inner_treedef.compose(outer_treedef)``.

    Raises:
      TypeError: if the tree does not have the composed structure.

    Example:
      >>> from funcgrad import tree_util
      >>> outer = tree_util.tree_structure([0, 0])
      >>> inner = tree_util.tree_structure({"a": 0, "b": 0})
      >>> tree_util.tree_transpose(outer, inner, [{"a": 1, "b": 2}, {"a": 3, "b": 4}])
      {'a': [1, 3], 'b': [2, 4]}
    """
    if inner_treedef is None:
        subtrees = flatten_up_to(outer_treedef, pytree_to_transpose)
        inner_treedef = tree_structure(subtrees[0]) if subtrees else tree_structure(None)
    leaves, treedef = tree_flatten(pytree_to_transpose)
    expected = outer_treedef.compose(inner_treedef)
    if treedef != expected:
        raise TypeError(f"tree_transpose: tree structure mismatch:\n{treedef}\n!=\n{expected}")
    n_inner = inner_treedef.num_leaves
    rows = [leaves[i * n_inner : (i + 1) * n_inner] for i in range(outer_treedef.num_leaves)]
    columns = [outer_treedef.unflatten(column) for column in zip(*rows)]
    if not rows:  # no outer leaves: every inner leaf gets an empty outer tree
        columns = [outer_treedef.unflatten([]) for _ in range(n_inner)]
    return inner_treedef.unflatten(columns)


def tree_flatten_with_path(
    tree: PyTree, is_leaf: IsLeaf = None
) -> tuple[list[tuple[KeyPath, Any]], PyTreeDef]:
    """Like :func:`tree_flatten`, but pair each leaf with its key path.

    Args:
      tree: the pytree.
      is_leaf: optional predicate marking subtrees to treat as leaves.

    Returns:
      A pair ``([(key_path, leaf), ...], treedef)``; a key path is a tuple of entries such as
      :class:`DictKey`, :class:`SequenceKey`, :class:`GetAttrKey`.

    Example:
      >>> from funcgrad import tree_util
      >>> pairs, _ = tree_util.tree_flatten_with_path({"a": [5]})
      >>> pairs
      [((DictKey(key='a'), SequenceKey(idx=0)), 5)]
    """
    out: list = []
    treedef = _flatten_with_path(tree, (), out, is_leaf)
    return out, treedef


def tree_leaves_with_path(tree: PyTree, is_leaf: IsLeaf = None) -> list[tuple[KeyPath, Any]]:
    """The ``(key_path, leaf)`` pairs of a pytree.

    Args:
      tree: the pytree.
      is_leaf: optional predicate marking subtrees to treat as leaves.

    Returns:
      A list of ``(key_path, leaf)`` pairs in flattening order.

    Example:
      >>> from funcgrad import tree_util
      >>> [(tree_util.keystr(p), x) for p, x in tree_util.tree_leaves_with_path((1, {"k": 2}))]
      [('[0]', 1), ("[1]['k']", 2)]
    """
    out: list = []
    _flatten_with_path(tree, (), out, is_leaf)
    return out


def tree_map_with_path(
    f: Callable[..., Any], tree: PyTree, *rest: PyTree, is_leaf: IsLeaf = None
) -> PyTree:
    """Like :func:`tree_map`, but ``f`` also receives each leaf's key path first.

    Args:
      f: function ``(key_path, leaf, *matching_parts_of_rest) -> value``.
      tree: the pytree whose leaves drive the mapping.
      *rest: further pytrees with ``tree``'s structure as a prefix.
      is_leaf: optional predicate marking subtrees of ``tree`` to treat as leaves.

    Returns:
      A pytree of ``tree``'s structure holding the results of ``f``.

    Example:
      >>> from funcgrad import tree_util
      >>> tree_util.tree_map_with_path(lambda p, x: f"{tree_util.keystr(p)}={x}", {"a": [1]})
      {'a': ["['a'][0]=1"]}
    """
    pairs: list = []
    treedef = _flatten_with_path(tree, (), pairs, is_leaf)
    others = _flatten_rest(treedef, rest, "tree_map_with_path")
    results = [f(path, x, *xs) for (path, x), *xs in zip(pairs, *others)]
    return _unflatten(treedef, iter(results))


def treedef_is_leaf(treedef: PyTreeDef) -> bool:
    """Whether a treedef has a single node (a leaf, or an empty container such as ``None``).

    Args:
      treedef: the treedef.

    Returns:
      ``treedef.num_nodes == 1``, as in JAX.

    Example:
      >>> from funcgrad import tree_util
      >>> tree_util.treedef_is_leaf(tree_util.tree_structure(1.0))
      True
      >>> tree_util.treedef_is_leaf(tree_util.tree_structure([1.0]))
      False
    """
    return treedef.num_nodes == 1


def treedef_children(treedef: PyTreeDef) -> list[PyTreeDef]:
    """The treedefs of the root's direct children.

    Args:
      treedef: the treedef.

    Returns:
      A list of child treedefs (empty for a leaf).

    Example:
      >>> from funcgrad import tree_util
      >>> tree_util.treedef_children(tree_util.tree_structure({"a": 1, "b": (2, 3)}))
      [PyTreeDef(*), PyTreeDef((*, *))]
    """
    return treedef.children()


def all_leaves(iterable: Iterable[Any], is_leaf: IsLeaf = None) -> bool:
    """Whether every element of ``iterable`` is a leaf (``None`` is not a leaf).

    Args:
      iterable: the objects to test.
      is_leaf: optional predicate marking extra objects as leaves.

    Returns:
      True if all elements are leaves.

    Example:
      >>> from funcgrad import tree_util
      >>> tree_util.all_leaves([1, "a", 2.0]), tree_util.all_leaves([1, (2,)])
      (True, False)
    """
    return all((is_leaf is not None and is_leaf(x)) or _node_type_of(x) is None for x in iterable)


def build_tree(treedef: PyTreeDef, xs: Any) -> PyTree:
    """Build a pytree of ``treedef``'s containers from nested iterables.

    At each container node of ``treedef``, ``xs`` must be an iterable of that node's
    children; at each leaf, the corresponding element of ``xs`` is used as is.

    Args:
      treedef: the structure to build.
      xs: nested iterables mirroring ``treedef``'s nodes.

    Returns:
      The pytree.

    Example:
      >>> from funcgrad import tree_util
      >>> td = tree_util.tree_structure({"a": 0, "b": (0, 0)})
      >>> tree_util.build_tree(td, [1, [2, 3]])
      {'a': 1, 'b': (2, 3)}
    """
    nt = treedef._node_type
    if nt is None:
        return xs
    items = list(xs)
    if len(items) != len(treedef._children):
        raise ValueError(
            f"build_tree: {nt.name} node expects {len(treedef._children)} children, "
            f"got {len(items)}"
        )
    return nt.unflatten(treedef._aux, [build_tree(c, x) for c, x in zip(treedef._children, items)])
