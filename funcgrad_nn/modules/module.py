"""The :class:`Module` base class: PyTorch's way of writing models, JAX's way of running them.

A module is an immutable description of a layer (its hyperparameters and child modules);
the parameters live outside it, in a nested dict with exactly the keys and shapes of the
PyTorch ``state_dict`` of the same module tree::

    model = Net()                        # hyperparameters only; frozen after __init__
    params = model.init(fg.random.key(0))   # {"conv1": {"weight": ..., "bias": ...}, ...}
    state = model.init_state()           # buffers (BatchNorm's running statistics), or {}
    y = model(params, x)                 # = model.apply(params, x)
    y, state = model(params, x, state=state, train=True, key=key)

Writing a model is PyTorch's habit: assign child modules as attributes in ``__init__``
and use them in ``forward(self, params, x)``, passing each child its part of the
parameters. Nothing is registered by hand; the base class finds the children, builds
their parameters under the attribute names, and threads the PRNG key (a separate stream per
child), the train flag and the state through the calls::

    class Net(Module):
        def __init__(self):
            self.conv = Conv2d(1, 4, 3)
            self.drop = Dropout(0.5)
            self.fc = Linear(4 * 26 * 26, 10)

        def forward(self, params, x):
            x = relu(self.conv(params["conv"], x))
            x = self.drop(x)                  # no parameters: call it on the input alone
            return self.fc(params["fc"], x.reshape(x.shape[0], -1))

Inside ``forward`` a module reads its context with :attr:`Module.training`,
:meth:`Module.make_rng`, :meth:`Module.get_state` and :meth:`Module.put_state`; a leaf
module declares its parameters and buffers in ``__init__`` with :meth:`Module.param` and
:meth:`Module.buffer`.

>>> import funcgrad as fg, funcgrad.numpy as fnp
>>> from funcgrad_nn.modules import Module, Linear, Dropout
>>> class MLP(Module):
...     def __init__(self, n_in, n_out):
...         self.fc1 = Linear(n_in, 16)
...         self.drop = Dropout(0.1)
...         self.fc2 = Linear(16, n_out)
...
...     def forward(self, params, x):
...         h = fnp.tanh(self.fc1(params["fc1"], x))
...         return self.fc2(params["fc2"], self.drop(h))
>>> model = MLP(3, 2)
>>> params = model.init(fg.random.key(0))
>>> {k: {n: v.shape for n, v in p.items()} for k, p in params.items()}
{'fc1': {'weight': (16, 3), 'bias': (16,)}, 'fc2': {'weight': (2, 16), 'bias': (2,)}}
>>> model(params, fnp.ones((5, 3))).shape
(5, 2)
>>> model(params, fnp.ones((5, 3)), key=fg.random.key(1), train=True).shape
(5, 2)
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from funcgrad import random as fgr

__all__ = ["Module", "ParamSpec"]

Array = Any
Params = dict[str, Any]


class ParamSpec(NamedTuple):
    """A declared parameter or buffer: its shape, initializer ``(key, shape, dtype)`` and
    dtype (None: the default float)."""

    shape: tuple[int, ...]
    init: Callable[..., Array]
    dtype: Any = None


# ---------------------------------------------------------------------------------------
# The call context: one frame per module call, on a thread-local stack
# ---------------------------------------------------------------------------------------


class _Frame:
    """What one module call sees: its path, train flag, PRNG key and state."""

    __slots__ = ("module", "path", "train", "_key", "_key_src", "state", "own_state",
                 "child_state", "calls", "rngs")

    def __init__(self, module, path, train, key, key_src, state) -> None:
        self.module = module
        self.path = path
        self.train = train
        self._key = key
        self._key_src = key_src  # (parent frame, child name, call number): derive lazily
        self.state = state
        self.own_state: dict | None = None
        self.child_state: dict = {}
        self.calls: dict[str, int] = {}
        self.rngs = 0

    def key(self):
        if self._key is None and self._key_src is not None:
            parent, name, n = self._key_src
            base = parent.key()
            if base is not None:
                self._key = fgr.fold_in(fgr.fold_in(base, _name_hash(name)), n)
            self._key_src = None
        return self._key

    def new_state(self) -> dict:
        out = dict(self.state)
        if self.own_state is not None:
            out.update(self.own_state)
        out.update(self.child_state)
        return out


_local = threading.local()


def _stack() -> list[_Frame]:
    s = getattr(_local, "stack", None)
    if s is None:
        s = _local.stack = []
    return s


def _name_hash(name: str) -> int:
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def _shape_of(x) -> tuple[int, ...] | None:
    s = getattr(x, "shape", None)
    return None if s is None else tuple(s)


# ---------------------------------------------------------------------------------------
# Module
# ---------------------------------------------------------------------------------------


class _ModuleMeta(type):
    """Runs ``__init__``, then collects the children and freezes the instance."""

    def __call__(cls, *args, **kwargs):
        obj = super().__call__(*args, **kwargs)
        obj._finalize()
        return obj


class Module(metaclass=_ModuleMeta):
    """Base class of every layer and model (see the module docstring for the pattern).

    Subclasses set hyperparameters and child modules as attributes in ``__init__`` (calling
    ``super().__init__()`` is optional), declare their own parameters with :meth:`param`
    and buffers with :meth:`buffer`, and implement ``forward(self, params, *inputs)``.
    After ``__init__`` the instance is frozen: assigning an attribute raises.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> from funcgrad_nn import init
    >>> from funcgrad_nn.modules import Module
    >>> class Scale(Module):
    ...     def __init__(self, n):
    ...         self.n = n
    ...         self.param("scale", (n,), init.ones)
    ...
    ...     def forward(self, params, x):
    ...         return x * params["scale"]
    >>> m = Scale(3)
    >>> m(m.init(fg.random.key(0)), fnp.arange(3.0))
    array([0., 1., 2.], dtype=float32)
    """

    def __init__(self) -> None:
        pass

    # --- construction ---------------------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        if self.__dict__.get("_frozen", False):
            raise AttributeError(
                f"{type(self).__name__} is immutable after construction (cannot set "
                f"{name!r}); parameters live outside the module, in the dict from init()")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable (cannot delete {name!r})")

    def param(self, name: str, shape, init: Callable[..., Array], dtype=None) -> None:
        """Declare a parameter (in ``__init__``): ``init(key, shape, dtype)`` makes it.

        Args:
            name: its key in this module's params dict (PyTorch's parameter name).
            shape: its shape.
            init: the initializer, e.g. from :mod:`funcgrad_nn.init`.
            dtype: None for the default float dtype.
        """
        self._declare("_param_specs", name, shape, init, dtype)

    def buffer(self, name: str, shape, init: Callable[..., Array], dtype=None) -> None:
        """Declare a buffer (in ``__init__``): state that is not trained, such as
        BatchNorm's running mean. ``init(None, shape, dtype)`` makes it.

        Args:
            name: its key in this module's state dict (PyTorch's buffer name).
            shape: its shape.
            init: the initializer (it gets no key).
            dtype: None for the default float dtype.
        """
        self._declare("_buffer_specs", name, shape, init, dtype)

    def _declare(self, table: str, name: str, shape, init, dtype) -> None:
        if self.__dict__.get("_frozen", False):
            raise AttributeError(f"{type(self).__name__}: declare parameters and buffers in "
                                 "__init__")
        specs = self.__dict__.get(table)
        if specs is None:
            specs = {}
            object.__setattr__(self, table, specs)
        shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(
            int(s) for s in shape)
        specs[name] = ParamSpec(shape, init, dtype)

    def _finalize(self) -> None:
        if self.__dict__.get("_frozen", False):
            return
        children: dict[str, Module] = {}
        for name, v in vars(self).items():
            if name.startswith("_"):
                continue
            if isinstance(v, Module):
                children[name] = v
            elif isinstance(v, (list, tuple)) and v and all(isinstance(m, Module) for m in v):
                raise TypeError(f"{type(self).__name__}.{name}: a plain {type(v).__name__} "
                                "of modules is not collected; use ModuleList(...) or "
                                "Sequential(...)")
        d = self.__dict__
        d.setdefault("_param_specs", {})
        d.setdefault("_buffer_specs", {})
        clash = set(children) & (set(d["_param_specs"]) | set(d["_buffer_specs"]))
        if clash:
            raise ValueError(f"{type(self).__name__}: names used both for a child module and "
                             f"a parameter or buffer: {sorted(clash)}")
        d["_children"] = children
        d["_child_names"] = {}
        for name, m in children.items():
            d["_child_names"].setdefault(id(m), name)
        d["_has_params"] = bool(d["_param_specs"]) or any(m._has_params
                                                           for m in children.values())
        d["_has_state"] = bool(d["_buffer_specs"]) or any(m._has_state
                                                          for m in children.values())
        d["_frozen"] = True

    # --- tree -----------------------------------------------------------------------
    def children(self) -> Iterator[tuple[str, Module]]:
        """The direct child modules, ``(name, module)``, in assignment order."""
        return iter(self._children.items())

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and all below it, with dotted names (``''`` for this one)."""
        yield prefix, self
        for name, m in self._children.items():
            yield from m.named_modules(f"{prefix}.{name}" if prefix else name)

    def param_shapes(self) -> dict:
        """The nested dict of parameter shapes that :meth:`init` produces."""
        out: dict = {n: s.shape for n, s in self._param_specs.items()}
        for name, m in self._children.items():
            if m._has_params:
                out[name] = m.param_shapes()
        return out

    def state_shapes(self) -> dict:
        """The nested dict of buffer shapes that :meth:`init_state` produces."""
        out: dict = {n: s.shape for n, s in self._buffer_specs.items()}
        for name, m in self._children.items():
            if m._has_state:
                out[name] = m.state_shapes()
        return out

    # --- parameters and state -------------------------------------------------------
    def init(self, key) -> Params:
        """Fresh parameters, PyTorch's default initialisation, PyTorch's names.

        Args:
            key: a PRNG key (``fg.random.key(seed)``) or an int seed.

        Returns:
            A nested dict; modules without parameters have no entry.
        """
        if isinstance(key, (int, np.integer)):
            key = fgr.key(int(key))
        specs = self._param_specs
        kids = [(n, m) for n, m in self._children.items() if m._has_params]
        n = len(specs) + len(kids)
        keys = fgr.split(key, n) if n > 1 else [key] * n
        params: Params = {}
        for k, (name, spec) in zip(keys, specs.items()):
            params[name] = spec.init(k, spec.shape, spec.dtype)
        for k, (name, m) in zip(keys[len(specs):], kids):
            params[name] = m.init(k)
        return params

    def init_state(self) -> dict:
        """Fresh buffers (running statistics...), PyTorch's names; ``{}`` if none."""
        state: dict = {n: s.init(None, s.shape, s.dtype) for n, s in self._buffer_specs.items()}
        for name, m in self._children.items():
            if m._has_state:
                state[name] = m.init_state()
        return state

    def check_params(self, params, state=None) -> None:
        """Raise ``ValueError`` listing every missing, unexpected or wrongly shaped key of
        ``params`` (and of ``state`` when given), with dotted names."""
        problems: list[str] = []
        self._check_tree(params, "_param_specs", "_has_params", "", problems, "params")
        if state is not None:
            self._check_tree(state, "_buffer_specs", "_has_state", "", problems, "state")
        if problems:
            raise ValueError(f"{type(self).__name__}: " + "; ".join(problems))

    def _check_tree(self, tree, table, has, prefix, problems, what) -> None:
        if not isinstance(tree, Mapping):
            problems.append(f"{what}{' at ' + prefix[:-1] if prefix else ''} should be a dict, "
                            f"got {type(tree).__name__}")
            return
        specs = self.__dict__[table]
        kids = {n: m for n, m in self._children.items() if m.__dict__[has]}
        expected = set(specs) | set(kids)
        missing = [prefix + k for k in list(specs) + list(kids) if k not in tree]
        extra = [prefix + str(k) for k in tree if k not in expected]
        if missing:
            problems.append(f"missing {what} keys {missing}")
        if extra:
            problems.append(f"unexpected {what} keys {extra}")
        for name, spec in specs.items():
            if name in tree:
                got = _shape_of(tree[name])
                if got != spec.shape:
                    problems.append(f"{what} key {prefix + name!r} has shape {got}, expected "
                                    f"{spec.shape}")
        for name, m in kids.items():
            if name in tree:
                m._check_tree(tree[name], table, has, f"{prefix}{name}.", problems, what)

    def state_dict(self, params: Params, state: dict | None = None) -> dict[str, Array]:
        """A flat PyTorch-style ``state_dict``: parameters and buffers with dotted keys, in
        PyTorch's order (each module's parameters, then its buffers, then its children)."""
        out: dict[str, Array] = {}
        self._flat(params or {}, state or {}, "", out)
        return out

    def _flat(self, params, state, prefix, out) -> None:
        for name in self._param_specs:
            if name in params:
                out[prefix + name] = params[name]
        for name in self._buffer_specs:
            if name in state:
                out[prefix + name] = state[name]
        for name, m in self._children.items():
            m._flat(params.get(name, {}), state.get(name, {}), f"{prefix}{name}.", out)

    def load_state_dict(self, flat: Mapping[str, Any]) -> tuple[Params, dict]:
        """Split a flat (PyTorch) ``state_dict`` into ``(params, state)``, checking keys and
        shapes. Tensors are converted with ``.detach().cpu().numpy()``."""
        from funcgrad_nn.state_dict import from_state_dict

        tree = from_state_dict(flat)
        params, state = self._split(tree)
        self.check_params(params, state)
        return params, state

    def _split(self, tree) -> tuple[dict, dict]:
        params: dict = {}
        state: dict = {}
        for k, v in tree.items():
            if k in self._buffer_specs:
                state[k] = v
            elif k in self._children and isinstance(v, Mapping):
                p, s = self._children[k]._split(v)
                if p or self._children[k]._has_params:
                    params[k] = p
                if s:
                    state[k] = s
            else:
                params[k] = v
        return params, state

    # --- calling --------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        return self.apply(*args, **kwargs)

    def apply(self, params, *args, key=None, state=None, train: bool | None = None,
              **kwargs):
        """Run the module.

        Args:
            params: this module's parameters (the dict from :meth:`init`). Modules without
                parameters may be called on their inputs alone: ``relu(x)``.
            *args: the inputs, as PyTorch's ``forward``.
            key: a PRNG key for dropout and other randomness (split per child).
            state: buffers from :meth:`init_state`; when given, the new state is returned.
            train: training mode (dropout on, BatchNorm uses and updates batch statistics).
                Default False at the top; children inherit their caller's.
            **kwargs: keyword inputs of ``forward``.

        Returns:
            ``forward``'s result, or ``(result, new_state)`` when ``state`` is given at the
            top level.
        """
        if not self._has_params and (params is None or not isinstance(params, Mapping)):
            if params is not None:
                args = (params,) + args
            params = {}
        elif not isinstance(params, Mapping):
            raise TypeError(f"{type(self).__name__}: expected the parameters (a dict from "
                            f"init()) as the first argument, got {type(params).__name__}")
        stack = _stack()
        parent = stack[-1] if stack else None
        name = None
        if parent is None:
            self.check_params(params, state if self._has_state else None)
            frame = _Frame(self, type(self).__name__, bool(train), key, None, state)
        else:
            name = parent.module._child_names.get(id(self))
            cname = name if name is not None else f"<{type(self).__name__}>"
            n = parent.calls.get(cname, 0)
            parent.calls[cname] = n + 1
            if state is None and parent.state is not None and name is not None:
                state = parent.child_state.get(name, parent.state.get(name))
            frame = _Frame(self, f"{parent.path}.{cname}",
                           parent.train if train is None else bool(train),
                           key, None if key is not None else (parent, cname, n), state)
        stack.append(frame)
        try:
            out = self.forward(params, *args, **kwargs)
        finally:
            stack.pop()
        if frame.state is not None:
            new = frame.new_state()
            if parent is None:
                return out, new
            if parent.state is not None and name is not None:
                parent.child_state[name] = new
        return out

    def forward(self, params, *args, **kwargs):
        """The computation; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    # --- context, for use inside forward ---------------------------------------------
    def _frame(self) -> _Frame | None:
        stack = _stack()
        if stack and stack[-1].module is self:
            return stack[-1]
        return None

    @property
    def training(self) -> bool:
        """Whether the current call is in training mode (False outside a call)."""
        f = self._frame()
        return bool(f and f.train)

    def make_rng(self) -> Array:
        """A fresh PRNG key for this call (each call of ``make_rng`` gives another).

        Raises:
            ValueError: the top-level ``apply`` got no ``key``.
        """
        f = self._frame()
        k = f.key() if f is not None else None
        if k is None:
            raise ValueError(f"{self._short()} at {f.path if f else '?'} needs randomness "
                             "(training mode): pass a PRNG key, e.g. "
                             "model.apply(params, x, train=True, key=fg.random.key(0))")
        n = f.rngs
        f.rngs += 1
        return fgr.fold_in(k, n)

    def get_state(self) -> dict:
        """This module's own buffers in the current call.

        Raises:
            ValueError: the call got no ``state``.
        """
        f = self._frame()
        if f is None or f.state is None:
            raise ValueError(f"{self._short()} at {f.path if f else '?'} keeps state "
                             f"({', '.join(self._buffer_specs)}): pass "
                             "state=model.init_state() to apply (it returns (y, new_state))")
        return {n: f.state[n] for n in self._buffer_specs}

    def put_state(self, new: Mapping[str, Array]) -> None:
        """Record this module's updated buffers; ``apply`` returns them in ``new_state``."""
        f = self._frame()
        if f is None or f.state is None:
            return
        f.own_state = dict(new)

    # --- errors and printing ----------------------------------------------------------
    def _short(self) -> str:
        extra = self.extra_repr()
        return f"{type(self).__name__}({extra})"

    def _bad_input(self, expected: str, x) -> ValueError:
        got = _shape_of(x)
        return ValueError(f"{self._short()}: expected input of shape {expected}, got "
                          f"{got if got is not None else type(x).__name__}")

    def extra_repr(self) -> str:
        """The hyperparameters shown by ``repr`` (as PyTorch's ``extra_repr``)."""
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, m in self._children.items():
            child = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}({extra}" if extra else f"{type(self).__name__}("
        return head + "\n" + "\n".join(lines) + "\n)"
