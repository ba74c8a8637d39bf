"""funcgrad_nn: a small stateless neural-network library on top of funcgrad."""

from funcgrad_nn import checkpoint, data

__all__ = ["checkpoint", "data"]
