"""The ``funcgrad.tree`` namespace: short names for working with pytrees.

This mirrors ``jax.tree``: ``tree.map`` is ``tree_util.tree_map`` and so on. Note that
:func:`unflatten` takes ``(treedef, leaves)``, like ``tree_util.tree_unflatten``.

Example:
  >>> from funcgrad import tree
  >>> tree.map(lambda x: x * 2, {"a": 1, "b": (2, 3)})
  {'a': 2, 'b': (4, 6)}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from funcgrad._src import tree_util as _tu
from funcgrad._src.tree_util import (
    IsLeaf,
    KeyPath,
    PyTree,
    PyTreeDef,
    keystr,
    register_dataclass,
    register_pytree_node,
    register_pytree_node_class,
    register_pytree_with_keys,
)

__all__ = [
    "PyTreeDef",
    "all",
    "flatten",
    "flatten_with_path",
    "keystr",
    "leaves",
    "leaves_with_path",
    "map",
    "map_with_path",
    "reduce",
    "register_dataclass",
    "register_pytree_node",
    "register_pytree_node_class",
    "register_pytree_with_keys",
    "structure",
    "transpose",
    "unflatten",
]


def map(f: Callable[..., Any], tree: PyTree, *rest: PyTree, is_leaf: IsLeaf = None) -> PyTree:  # noqa: A001
    """Apply ``f`` leafwise over ``tree`` and the matching parts of ``rest``.

    Each tree in ``rest`` must have ``tree``'s structure as a prefix; where ``tree`` has a
    leaf, the whole matching subtree of ``rest`` is passed to ``f``.

    Args:
      f: function of ``1 + len(rest)`` arguments.
      tree: the pytree whose structure the result takes.
      *rest: further pytrees matching ``tree``.
      is_leaf: optional predicate marking subtrees of ``tree`` to treat as leaves.

    Returns:
      A pytree of ``tree``'s structure holding the results of ``f``.

    Example:
      >>> from funcgrad import tree
      >>> tree.map(lambda x, y: x * y, [1, (2, 3)], [4, (5, 6)])
      [4, (10, 18)]
    """
    return _tu.tree_map(f, tree, *rest, is_leaf=is_leaf)


def flatten(tree: PyTree, is_leaf: IsLeaf = None) -> tuple[list[Any], PyTreeDef]:
    """Flatten a pytree into ``(leaves, treedef)``.

    Args:
      tree: the pytree.
      is_leaf: optional predicate marking subtrees to treat as leaves.

    Returns:
      The list of leaves and the :class:`PyTreeDef` describing the containers.

    Example:
      >>> from funcgrad import tree
      >>> tree.flatten({"b": 2, "a": (1, None)})
      ([1, 2], PyTreeDef({'a': (*, None), 'b': *}))
    """
    return _tu.tree_flatten(tree, is_leaf)


def unflatten(treedef: PyTreeDef, leaves: Iterable[Any]) -> PyTree:
    """Rebuild a pytree from its treedef and leaves.

    Args:
      treedef: the structure.
      leaves: exactly ``treedef.num_leaves`` leaves.

    Returns:
      The pytree.

    Example:
      >>> from funcgrad import tree
      >>> leaves, treedef = tree.flatten([1, {"x": 2}])
      >>> tree.unflatten(treedef, [7, 8])
      [7, {'x': 8}]
    """
    return _tu.tree_unflatten(treedef, leaves)


def leaves(tree: PyTree, is_leaf: IsLeaf = None) -> list[Any]:
    """The leaves of a pytree.

    Args:
      tree: the pytree.
      is_leaf: optional predicate marking subtrees to treat as leaves.

    Returns:
      The leaves, in flattening order.

    Example:
      >>> from funcgrad import tree
      >>> tree.leaves([1, None, {"a": 2}])
      [1, 2]
    """
    return _tu.tree_leaves(tree, is_leaf)


def structure(tree: PyTree, is_leaf: IsLeaf = None) -> PyTreeDef:
    """The treedef of a pytree.

    Args:
      tree: the pytree.
      is_leaf: optional predicate marking subtrees to treat as leaves.

    Returns:
      Its :class:`PyTreeDef`.

    Example:
      >>> from funcgrad import tree
      >>> tree.structure([1, (2, 3)])
      PyTreeDef([*, (*, *)])
    """
    return _tu.tree_structure(tree, is_leaf)


def reduce(
    function: Callable[[Any, Any], Any],
    tree: PyTree,
    initializer: Any = _tu._NO_INITIALIZER,
    is_leaf: IsLeaf = None,
) -> Any:
    """Reduce the leaves of a pytree with a binary function.

    Args:
      function: ``(accumulated, leaf) -> accumulated``.
      tree: the pytree.
      initializer: optional starting value.
      is_leaf: optional predicate marking subtrees to treat as leaves.

    Returns:
      The reduced value.

    Example:
      >>> from funcgrad import tree
      >>> tree.reduce(max, {"a": 3, "b": [7, 1]})
      7
    """
    return _tu.tree_reduce(function, tree, initializer, is_leaf)


def all(tree: PyTree, *, is_leaf: IsLeaf = None) -> bool:  # noqa: A001
    """Whether all leaves of a pytree are truthy.

    Args:
      tree: the pytree.
      is_leaf: optional predicate marking subtrees to treat as leaves.

    Returns:
      True if every leaf is truthy (or there are none).

    Example:
      >>> from funcgrad import tree
      >>> tree.all({"a": True, "b": [1, 2]})
      True
    """
    return _tu.tree_all(tree, is_leaf=is_leaf)


def transpose(
    outer_treedef: PyTreeDef, inner_treedef: PyTreeDef | None, pytree_to_transpose: PyTree
) -> PyTree:
    """Swap the outer and inner levels of a nested pytree.

    Args:
      outer_treedef: structure of the outer level.
      inner_treedef: structure of the inner level, or None to infer it.
      pytree_to_transpose: a pytree of structure ``outer_treedef.compose(inner_treedef)``.

    Returns:
      A pytree of structure ``inner_treedef.compose(outer_treedef)``.

    Example:
      >>> from funcgrad import tree
      >>> tree.transpose(tree.structure([0, 0]), None, [(1, 2), (3, 4)])
      ([1, 3], [2, 4])
    """
    return _tu.tree_transpose(outer_treedef, inner_treedef, pytree_to_transpose)


def flatten_with_path(
    tree: PyTree, is_leaf: IsLeaf = None
) -> tuple[list[tuple[KeyPath, Any]], PyTreeDef]:
    """Flatten a pytree, pairing each leaf with its key path.

    Args:
      tree: the pytree.
      is_leaf: optional predicate marking subtrees to treat as leaves.

    Returns:
      ``([(key_path, leaf), ...], treedef)``.

    Example:
      >>> from funcgrad import tree
      >>> pairs, treedef = tree.flatten_with_path({"w": 1})
      >>> [(tree.keystr(p), x) for p, x in pairs]
      [("['w']", 1)]
    """
    return _tu.tree_flatten_with_path(tree, is_leaf)


def leaves_with_path(tree: PyTree, is_leaf: IsLeaf = None) -> list[tuple[KeyPath, Any]]:
    """The ``(key_path, leaf)`` pairs of a pytree.

    Args:
      tree: the pytree.
      is_leaf: optional predicate marking subtrees to treat as leaves.

    Returns:
      A list of ``(key_path, leaf)`` pairs.

    Example:
      >>> from funcgrad import tree
      >>> [tree.keystr(p) for p, _ in tree.leaves_with_path([1, (2,)])]
      ['[0]', '[1][0]']
    """
    return _tu.tree_leaves_with_path(tree, is_leaf)


def map_with_path(
    f: Callable[..., Any], tree: PyTree, *rest: PyTree, is_leaf: IsLeaf = None
) -> PyTree:
    """Like :func:`map`, but ``f`` receives each leaf's key path as its first argument.

    Args:
      f: function ``(key_path, leaf, *matching_parts_of_rest) -> value``.
      tree: the pytree whose structure the result takes.
      *rest: further pytrees matching ``tree``.
      is_leaf: optional predicate marking subtrees of ``tree`` to treat as leaves.

    Returns:
      A pytree of ``tree``'s structure holding the results of ``f``.

    Example:
      >>> from funcgrad import tree
      >>> tree.map_with_path(lambda p, x: tree.keystr(p, simple=True), {"a": 0, "b": [0]})
      {'a': 'a', 'b': ['b0']}
    """
    return _tu.tree_map_with_path(f, tree, *rest, is_leaf=is_leaf)
