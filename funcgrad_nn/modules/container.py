"""Containers: :class:`Sequential` and :class:`ModuleList`, children named ``"0"``, ``"1"``...

>>> import funcgrad as fg, funcgrad.numpy as fnp
>>> from funcgrad_nn.modules import Sequential, Linear, ReLU
>>> model = Sequential(Linear(3, 4), ReLU(), Linear(4, 2))
>>> params = model.init(fg.random.key(0))
>>> sorted(params)                       # ReLU has no parameters, hence no entry
['0', '2']
>>> model(params, fnp.ones((5, 3))).shape
(5, 2)
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from funcgrad_nn.modules.module import Module

__all__ = ["ModuleList", "Sequential"]


class _Indexed(Module):
    """Children stored under the names ``"0"``, ``"1"``, ..., or given names."""

    def __init__(self, *modules: Module) -> None:
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            items = list(modules[0].items())
        else:
            if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
                modules = tuple(modules[0])
            items = [(str(i), m) for i, m in enumerate(modules)]
        for name, m in items:
            if not isinstance(m, Module):
                raise TypeError(f"{type(self).__name__}: {name!r} is a "
                                f"{type(m).__name__}, not a Module")
            object.__setattr__(self, str(name), m)

    def __len__(self) -> int:
        return len(self._children)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._children.values())

    def __getitem__(self, i: int | str) -> Module:
        if isinstance(i, str):
            return self._children[i]
        return list(self._children.values())[i]


class Sequential(_Indexed):
    """Modules applied one after another (``torch.nn.Sequential``).

    Args:
        *modules: the layers, named ``"0"``, ``"1"``, ...; or one dict of name -> module.

    The parameters are ``{"0": ..., "2": ...}`` (layers without parameters have no entry),
    matching PyTorch's ``state_dict`` keys ``0.weight``, ``2.bias``...

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import Sequential, Linear, Tanh
    >>> m = Sequential(Linear(2, 3), Tanh())
    >>> m
    Sequential(
      (0): Linear(in_features=2, out_features=3, bias=True)
      (1): Tanh()
    )
    >>> m(m.init(fg.random.key(0)), fnp.zeros((1, 2))).shape
    (1, 3)
    """

    def forward(self, params, x):
        for name, m in self._children.items():
            x = m(params[name], x) if m._has_params else m(x)
        return x


class ModuleList(_Indexed):
    """A list of modules, named ``"0"``, ``"1"``, ... (``torch.nn.ModuleList``); index it in
    the parent's ``forward``: ``self.layers[i](params["layers"][str(i)], x)``.

    Args:
        *modules: the modules (or one list of them).

    >>> from funcgrad_nn.modules import ModuleList, Linear
    >>> layers = ModuleList([Linear(2, 2), Linear(2, 2)])
    >>> len(layers), sorted(layers.param_shapes())
    (2, ['0', '1'])
    """

    def forward(self, params, *args, **kwargs):
        raise TypeError("ModuleList is not callable; index it and call its modules")
