"""``funcgrad.scipy``: differentiable versions of SciPy functions (``jax.scipy``).

>>> import funcgrad.scipy as fsc
>>> import funcgrad.numpy as fnp
>>> fsc.special.logsumexp(fnp.zeros(2))
array(0.6931472, dtype=float32)
"""

from funcgrad.scipy import special, stats

__all__ = ["special", "stats"]
