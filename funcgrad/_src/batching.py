"""vmap: vectorising a function over an axis with batching rules.

A :class:`BatchTracer` holds a value with one extra dimension, the batch dimension
``bdim`` (``None`` never occurs: unbatched values are left as they are). Each primitive's
``batch`` rule maps the batched inputs to one array operation on the whole batch and says
where the output's batch dimension is. A primitive with no rule falls back to a Python
loop over the batch and warns.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from funcgrad._src import backend
from funcgrad._src.core import ConcretizationTypeError, Trace, Tracer, bind, new_trace
from funcgrad._src.tree_util import flatten_up_to, tree_flatten, tree_map, tree_unflatten


class BatchTracer(Tracer):
    __slots__ = ("val", "bdim")

    def __init__(self, trace, val, bdim: int) -> None:
        self._trace = trace
        self.val = val
        self.bdim = bdim

    @property
    def aval(self):
        from funcgrad._src.core import ShapedArray

        shape = list(self.val.shape)
        del shape[self.bdim]
        return ShapedArray(shape, self.val.dtype)

    @property
    def shape(self):
        s = self.val.shape
        d = self.bdim
        return tuple(s[:d]) + tuple(s[d + 1:])

    @property
    def dtype(self):
        return self.val.dtype


class BatchTrace(Trace):
    __slots__ = ("axis_size",)

    def __init__(self, level: int, axis_size: int) -> None:
        super().__init__(level)
        self.axis_size = axis_size

    def lower(self, args):
        vals, dims = [], []
        for a in args:
            if isinstance(a, BatchTracer) and a._trace is self:
                vals.append(a.val)
                dims.append(a.bdim)
            else:
                vals.append(a)
                dims.append(None)
        return vals, dims

    def process_primitive(self, prim, args, params):
        vals, dims = self.lower(args)
        rule = prim.batch
        if rule is None:
            out, out_dim = _loop_fallback(prim, self.axis_size, vals, dims, params)
        else:
            out, out_dim = rule(self.axis_size, vals, dims, **params)
        if prim.multiple_results:
            if not isinstance(out_dim, (list, tuple)):
                out_dim = [out_dim] * len(out)
            return [o if d is None else BatchTracer(self, o, d) for o, d in zip(out, out_dim)]
        if out_dim is None:
            return out
        return BatchTracer(self, out, out_dim)

    def process_custom_vjp(self, call, args):
        return call._process_batch(self, args)

    def process_custom_jvp(self, call, args):
        return call._process_batch(self, args)

    def concrete(self, tracer, what):
        raise ConcretizationTypeError(
            f"{what}() was called on a value batched by vmap (logical shape {tracer.shape}); "
            "its value differs across the batch. Use fnp.where or fg.lax.cond / "
            "fg.lax.while_loop instead of Python control flow on batched values.")


def _loop_fallback(prim, axis_size, vals, dims, params):
    from funcgrad._src.ops.indexing import getitem
    from funcgrad._src.ops.shape import stack

    warnings.warn(f"vmap: primitive {prim.name} has no batching rule; falling back to a Python "
                  "loop over the batch", stacklevel=3)
    outs = []
    for b in range(axis_size):
        args = [v if d is None else getitem(v, (slice(None),) * d + (b,))
                for v, d in zip(vals, dims)]
        outs.append(bind(prim, *args, **params))
    if prim.multiple_results:
        return [stack(list(o)) for o in zip(*outs)], 0
    return stack(outs), 0


def move_bdim(x, src, dst, axis_size):
    """Move (or create, when ``src`` is None) the batch dim of raw value ``x`` to ``dst``."""
    from funcgrad._src.ops.shape import broadcast_to, expand_dims, moveaxis

    if src is None:
        x = x if isinstance(x, Tracer) else backend.canonicalize(x)
        x = broadcast_to(expand_dims(x, 0), (axis_size,) + tuple(x.shape))
        src = 0
    return x if src == dst else moveaxis(x, src, dst)


def _norm_axis(ax, ndim, what):
    if not -ndim <= ax < ndim:
        raise ValueError(f"vmap was requested to map its argument along axis {ax}, which "
                         f"implies that its rank should be at least {ax + 1 if ax >= 0 else -ax}"
                         f", but is only {ndim} ({what})")
    return ax % ndim


def vmap(fun: Callable, in_axes=0, out_axes=0, axis_name=None, axis_size=None) -> Callable:
    """Vectorise ``fun`` over an axis of its arguments.

    Args:
        fun: function of pytrees of arrays.
        in_axes: int, None, or a pytree prefix of the positional arguments giving the mapped
            axis of each argument (None: not mapped). Negative axes count from the end.
        out_axes: int, None, or a pytree prefix of the output: where the batch axis goes.
        axis_name: accepted for JAX compatibility (collectives are not supported).
        axis_size: the batch size, needed only when no argument is mapped.

    Returns:
        The vectorised function.

    Raises:
        ValueError: mapped axis sizes disagree, an axis is out of range, or ``in_axes``
            does not match the arguments' structure.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> fg.vmap(lambda a, b: fnp.dot(a, b), in_axes=(0, None))(fnp.ones((4, 3)), fnp.ones(3))
    array([3., 3., 3., 3.], dtype=float32)
    """
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)

    def vmapped(*args, **kwargs):
        if kwargs:
            raise TypeError("vmap: keyword arguments are not mapped; pass them positionally "
                            "(or close over them)")
        if isinstance(in_axes, tuple) and len(in_axes) != len(args):
            raise ValueError(f"vmap in_axes specification must be a tree prefix of the "
                             f"corresponding value, got specification {in_axes} for value "
                             f"tree of {len(args)} positional arguments")
        args_flat, in_tree = tree_flatten(args)
        if isinstance(in_axes, (int, type(None))):
            axes_flat = [in_axes] * len(args_flat)
        else:
            axes_tree = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
            prefix_leaves, prefix_tree = tree_flatten(axes_tree, is_leaf=lambda x: x is None)
            subtrees = flatten_up_to(prefix_tree, args)
            axes_flat = []
            for ax, sub in zip(prefix_leaves, subtrees):
                axes_flat.extend([ax] * len(tree_flatten(sub)[0]))
        args_flat = [a if isinstance(a, Tracer) else backend.canonicalize(a) for a in args_flat]
        size = axis_size
        sizes = []
        norm_axes = []
        for k, (a, ax) in enumerate(zip(args_flat, axes_flat)):
            if ax is None:
                norm_axes.append(None)
                continue
            if not isinstance(ax, (int, np.integer)):
                raise ValueError(f"vmap: in_axes entries must be ints or None, got {ax!r}")
            ax = _norm_axis(int(ax), a.ndim, f"argument leaf {k} of shape {tuple(a.shape)}")
            norm_axes.append(ax)
            sizes.append((k, a.shape[ax]))
        if sizes:
            n = sizes[0][1]
            if any(s != n for _, s in sizes) or (size is not None and size != n):
                desc = ", ".join(f"argument leaf {k} has size {s}" for k, s in sizes)
                raise ValueError(f"vmap got inconsistent sizes for array axes to be mapped: "
                                 f"{desc}" + (f" (axis_size={size})" if size is not None else ""))
            size = n
        elif size is None:
            raise ValueError("vmap must have at least one non-None value in in_axes, or be "
                             "given axis_size")
        with new_trace(BatchTrace, size) as trace:
            ins = [a if ax is None else BatchTracer(trace, a, ax)
                   for a, ax in zip(args_flat, norm_axes)]
            out = fun(*tree_unflatten(in_tree, ins))
            out_flat, out_tree = tree_flatten(out)
            if isinstance(out_axes, (int, type(None))):
                oaxes = [out_axes] * len(out_flat)
            else:
                pl, pt = tree_flatten(out_axes, is_leaf=lambda x: x is None)
                subs = flatten_up_to(pt, out)
                oaxes = []
                for ax, sub in zip(pl, subs):
                    oaxes.extend([ax] * len(tree_flatten(sub)[0]))
            res = []
            for o, ax in zip(out_flat, oaxes):
                if isinstance(o, BatchTracer) and o._trace is trace:
                    v, d = o.val, o.bdim
                else:
                    v, d = (o if isinstance(o, Tracer) else backend.canonicalize(o)), None
                if ax is None:
                    if d is not None:
                        raise ValueError("vmap has mapped output but out_axes is None")
                    res.append(v)
                    continue
                nd = v.ndim + (d is None)
                res.append(move_bdim(v, d, _norm_axis(int(ax), nd, "out_axes"), size))
        from funcgrad._src.autodiff import to_output

        return tree_unflatten(out_tree, [to_output(r) for r in res])

    vmapped.__wrapped__ = fun
    vmapped.__doc__ = f"Vectorised {getattr(fun, '__name__', 'fun')}."
    return vmapped


def _unused():
    return tree_map, bind
