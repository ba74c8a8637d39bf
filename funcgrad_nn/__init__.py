"""funcgrad_nn: a small stateless neural-network library on top of funcgrad.

A model is an immutable description with PyTorch's constructor arguments; its parameters
are a plain nested dict with PyTorch's ``state_dict`` keys and shapes; optimizers follow
optax's protocol; randomness comes from explicit keys; checkpoints are atomic ``.npz``
files without pickle.

>>> import funcgrad as fg, funcgrad.numpy as fnp
>>> import funcgrad_nn as nn
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> params = model.init(fg.random.key(0))
>>> sorted(nn.to_state_dict(params))
['0.bias', '0.weight', '2.bias', '2.weight']
>>> model(params, fnp.ones((3, 4))).shape
(3, 2)
"""

from funcgrad_nn import (
    checkpoint,
    data,
    functional,
    init,
    losses,
    modules,
    optim,
    state_dict,
    training,
)
from funcgrad_nn.modules import *  # noqa: F403  Linear, Conv2d, ... as torch.nn
from funcgrad_nn.modules import __all__ as _module_names
from funcgrad_nn.state_dict import from_state_dict, to_state_dict

__all__ = [
    "checkpoint",
    "data",
    "from_state_dict",
    "functional",
    "init",
    "losses",
    "modules",
    "optim",
    "state_dict",
    "to_state_dict",
    "training",
    *_module_names,
]
