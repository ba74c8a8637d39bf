"""A small toolkit for stateless training loops — not a framework, no ``fit``.

* :func:`accuracy` — fraction of correct predictions from logits or probabilities;
* :class:`RunningMean` — a metric as an immutable value: ``m = m.update(value, weight)``;
* :func:`progress` — a ``tqdm`` progress bar showing metrics in its postfix (optional
  dependency; without tqdm it iterates silently);
* :func:`plot_history` — loss/accuracy curves written to a PNG with matplotlib (optional
  dependency).

>>> import funcgrad.numpy as fnp
>>> from funcgrad_nn.training import RunningMean, accuracy
>>> m = RunningMean().update(2.0).update(4.0)
>>> float(m.value)
3.0
>>> float(accuracy(fnp.array([[0.1, 2.0], [3.0, 0.0]]), fnp.array([1, 1])))
0.5
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

import funcgrad.numpy as fnp

__all__ = ["RunningMean", "accuracy", "plot_history", "progress"]


def accuracy(logits, labels, axis: int = -1):
    """Fraction of rows whose arg-max along ``axis`` equals the integer label.

    Works on traced values (inside ``jit``) and plain arrays.

    Args:
        logits: scores or probabilities, shape ``(..., classes)``.
        labels: integer class labels with ``logits``' shape minus ``axis``.
        axis: the class axis.

    Returns:
        A 0-d float array.

    Raises:
        ValueError: when the shapes do not match.

    >>> import funcgrad.numpy as fnp
    >>> float(accuracy(fnp.eye(3), fnp.array([0, 1, 0])))
    0.6666666865348816
    """
    lshape = tuple(logits.shape)
    expected = lshape[:axis % len(lshape)] + lshape[axis % len(lshape) + 1:]
    if tuple(fnp.shape(labels)) != expected:
        raise ValueError(f"accuracy: labels of shape {tuple(fnp.shape(labels))} do not match "
                         f"logits of shape {lshape} (expected labels of shape {expected})")
    return fnp.mean(fnp.argmax(logits, axis=axis) == labels)


class RunningMean(NamedTuple):
    """A (weighted) running mean as an immutable pytree: ``update`` returns a new one.

    >>> m = RunningMean()
    >>> m = m.update(1.0, weight=3).update(5.0)
    >>> float(m.value)
    2.0
    """

    total: Any = 0.0
    count: Any = 0.0

    def update(self, value, weight=1.0) -> RunningMean:
        """Add ``value`` with ``weight`` (e.g. a batch mean weighted by the batch size)."""
        return RunningMean(self.total + value * weight, self.count + weight)

    @property
    def value(self):
        """The mean so far (NaN before any update)."""
        if isinstance(self.count, (int, float)) and self.count == 0:
            return np.asarray(np.nan, np.float32)
        return fnp.asarray(self.total / self.count)


def progress(iterable: Iterable, *, total: int | None = None, desc: str | None = None,
             metrics: Mapping[str, Any] | None = None, disable: bool = False) -> Iterator:
    """Iterate with a ``tqdm`` progress bar; update its postfix with :func:`set_metrics`.

    Without ``tqdm`` installed (``pip install funcgrad[examples]``) the items are yielded
    with no bar. The bar object is reachable as ``bar = progress(...); bar.set_postfix``
    when tqdm is present.

    Args:
        iterable: what to iterate over.
        total: its length, when ``len`` cannot tell.
        desc: a label shown before the bar.
        metrics: initial postfix values (e.g. ``{"loss": float("nan")}``).
        disable: turn the bar off.

    Returns:
        An iterator over ``iterable`` (a tqdm object when tqdm is installed).

    >>> for _ in progress(range(3), disable=True):
    ...     pass
    """
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return iter(iterable)
    bar = tqdm(iterable, total=total, desc=desc, disable=disable, leave=False)
    if metrics:
        set_metrics(bar, metrics)
    return bar


def set_metrics(bar, metrics: Mapping[str, Any]) -> None:
    """Show ``metrics`` (loss, accuracy, ...) in a progress bar's postfix, as floats.

    A no-op for iterators that are not tqdm bars.

    >>> set_metrics(iter([]), {"loss": 0.5})
    """
    if hasattr(bar, "set_postfix"):
        bar.set_postfix({k: f"{float(v):.4g}" for k, v in metrics.items()}, refresh=False)


def plot_history(history: Mapping[str, Sequence[float]], path: str | os.PathLike, *,
                 title: str | None = None) -> str:
    """Write learning curves to a PNG: one panel per group of metrics (losses together,
    accuracies together), against the epoch.

    Args:
        history: e.g. ``{"train_loss": [...], "test_accuracy": [...]}``; names containing
            "acc" go to the accuracy panel, the rest to the loss panel.
        path: the PNG file to write (atomically: a temporary file renamed into place).
        title: an optional figure title.

    Returns:
        The path written.

    Raises:
        ImportError: matplotlib is not installed (``pip install funcgrad[examples]``).
        ValueError: ``history`` is empty or a series is empty.

    >>> import os, tempfile
    >>> p = plot_history({"loss": [1.0, 0.5], "accuracy": [0.5, 0.9]},
    ...                  os.path.join(tempfile.mkdtemp(), "h.png"))
    >>> os.path.getsize(p) > 0
    True
    """
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError("plot_history needs matplotlib: pip install funcgrad[examples]") from e
    if not history or any(len(v) == 0 for v in history.values()):
        raise ValueError("plot_history: history must map names to non-empty sequences; got "
                         f"{ {k: len(v) for k, v in history.items()} }")
    acc = {k: v for k, v in history.items() if "acc" in k.lower()}
    rest = {k: v for k, v in history.items() if k not in acc}
    panels = [p for p in (rest, acc) if p]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.5), squeeze=False)
    for ax, group, label in zip(axes[0], panels, ["loss" if rest else "accuracy", "accuracy"]):
        for name, values in group.items():
            ax.plot(np.arange(1, len(values) + 1), np.asarray(values, float), label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.legend()
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(suffix=".png", dir=folder)
    os.close(fd)
    try:
        fig.savefig(tmp, format="png", dpi=100)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    finally:
        plt.close(fig)
    return path
