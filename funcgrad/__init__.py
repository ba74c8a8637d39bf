"""funcgrad: composable function transforms (grad, vjp, jvp, vmap, jit) on NumPy arrays.

>>> import funcgrad as fg
>>> import funcgrad.numpy as fnp
>>> fg.grad(lambda w: fnp.sum((w * 2.0 - 1.0) ** 2))(fnp.zeros(3))
array([-4., -4., -4.], dtype=float32)
"""

from funcgrad import lax, nn, numpy, random, scipy, tree, tree_util  # noqa: E402
from funcgrad._src import ops as _ops  # noqa: F401  registers every primitive
from funcgrad._src.autodiff import (
    grad,
    hessian,
    jacfwd,
    jacobian,
    jacrev,
    jvp,
    linearize,
    stop_gradient,
    value_and_grad,
    vjp,
)
from funcgrad._src.backend import config, float0
from funcgrad._src.batching import vmap
from funcgrad._src.core import ConcretizationTypeError, UnexpectedTracerError
from funcgrad._src.custom import checkpoint, custom_jvp, custom_vjp, remat
from funcgrad._src.jit import jit, make_jaxpr

__version__ = "0.1.0"

__all__ = [
    "ConcretizationTypeError",
    "UnexpectedTracerError",
    "config",
    "float0",
    "checkpoint",
    "custom_jvp",
    "custom_vjp",
    "grad",
    "hessian",
    "jacfwd",
    "jacobian",
    "jacrev",
    "lax",
    "nn",
    "numpy",
    "random",
    "scipy",
    "tree",
    "tree_util",
    "jit",
    "make_jaxpr",
    "remat",
    "jvp",
    "linearize",
    "stop_gradient",
    "value_and_grad",
    "vjp",
    "vmap",
]
