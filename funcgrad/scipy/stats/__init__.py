"""``funcgrad.scipy.stats``: differentiable densities and distribution functions.

>>> from funcgrad.scipy.stats import norm
>>> float(norm.cdf(0.0))
0.5
"""

from funcgrad.scipy.stats import norm

__all__ = ["norm"]
