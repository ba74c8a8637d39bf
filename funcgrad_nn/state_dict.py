"""PyTorch ``state_dict`` layouts: flat dicts with dotted keys <-> nested dicts.

funcgrad_nn keeps parameters as nested dicts (``{"conv1": {"weight": ...}}``); PyTorch's
``state_dict`` is flat (``{"conv1.weight": ...}``). The key order is preserved both ways.

>>> import numpy as np
>>> from funcgrad_nn.state_dict import from_state_dict, to_state_dict
>>> tree = from_state_dict({"0.weight": np.ones((2, 3)), "0.bias": np.zeros(2)})
>>> {k: sorted(v) for k, v in tree.items()}
{'0': ['bias', 'weight']}
>>> list(to_state_dict(tree))
['0.weight', '0.bias']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["from_state_dict", "to_state_dict"]


def _to_array(v: Any):
    if hasattr(v, "detach") and hasattr(v, "cpu"):  # a torch.Tensor, without importing torch
        v = v.detach().cpu().numpy()
    if isinstance(v, (np.ndarray, np.generic)) or hasattr(v, "shape"):
        return np.asarray(v) if isinstance(v, np.generic) else v
    return np.asarray(v)


def from_state_dict(flat: Mapping[str, Any]) -> dict:
    """Nest a flat ``state_dict``: ``"a.b.c"`` becomes ``tree["a"]["b"]["c"]``.

    Args:
        flat: dotted keys to arrays (NumPy arrays, funcgrad arrays, or torch tensors, which
            are converted with ``.detach().cpu().numpy()``).

    Returns:
        The nested dict, in the original key order.

    Raises:
        ValueError: a key is both a value and a prefix of other keys (``"a"`` and
            ``"a.b"``), or is empty.

    >>> import numpy as np
    >>> from funcgrad_nn.state_dict import from_state_dict
    >>> from_state_dict({"fc.weight": np.eye(2)})["fc"]["weight"].shape
    (2, 2)
    """
    tree: dict = {}
    for key, value in flat.items():
        parts = str(key).split(".")
        if not all(parts):
            raise ValueError(f"from_state_dict: malformed key {key!r}")
        node = tree
        for i, p in enumerate(parts[:-1]):
            nxt = node.setdefault(p, {})
            if not isinstance(nxt, dict):
                raise ValueError(f"from_state_dict: key {'.'.join(parts[:i + 1])!r} is both "
                                 f"a value and a prefix of {key!r}")
            node = nxt
        if parts[-1] in node:
            raise ValueError(f"from_state_dict: key {key!r} is both a value and a prefix of "
                             "other keys")
        node[parts[-1]] = _to_array(value)
    return tree


def to_state_dict(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested dicts to dotted keys (the inverse of :func:`from_state_dict`).

    Args:
        tree: nested dicts of arrays (parameters, state, or both merged).
        prefix: prepended to every key.

    Returns:
        A flat dict, in depth-first insertion order (PyTorch's order when the tree comes
        from ``Module.init``).

    >>> import numpy as np
    >>> from funcgrad_nn.state_dict import to_state_dict
    >>> list(to_state_dict({"a": {"w": np.ones(1)}, "b": np.zeros(1)}))
    ['a.w', 'b']
    """
    out: dict[str, Any] = {}
    for k, v in tree.items():
        if isinstance(v, Mapping):
            out.update(to_state_dict(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out
