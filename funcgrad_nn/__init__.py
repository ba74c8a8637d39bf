"""funcgrad_nn: a small stateless neural-network library on top of funcgrad.

Parameters are plain pytrees, optimizers follow optax's protocol, randomness comes from
explicit keys, and checkpoints are atomic ``.npz`` files without pickle.

>>> import funcgrad_nn as nn
>>> opt = nn.optim.adam(1e-3)
"""

from funcgrad_nn import checkpoint, data, init, losses, optim

__all__ = ["checkpoint", "data", "init", "losses", "optim"]
