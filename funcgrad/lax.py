"""``fg.lax``: structured control flow (JAX's names and signatures) and a few primitives.

>>> import funcgrad as fg
>>> fg.grad(lambda x: fg.lax.while_loop(lambda v: v < 10.0, lambda v: v * 2.0, x))(1.5)
array(8., dtype=float32)
"""

from funcgrad._src.autodiff import stop_gradient
from funcgrad._src.control_flow import cond, fori_loop, map, scan, switch, while_loop
from funcgrad._src.elementwise_alias import select  # noqa: F401
from funcgrad._src.ops.elementwise import integer_pow
from funcgrad._src.ops.more_numpy import top_k

__all__ = ["cond", "fori_loop", "integer_pow", "map", "scan", "select", "stop_gradient",
           "switch", "top_k", "while_loop"]
