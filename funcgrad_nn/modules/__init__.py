"""Neural-network layers as immutable :class:`Module` descriptions with PyTorch's names,
arguments, parameter layouts (``state_dict`` keys) and default initialisation.

>>> import funcgrad as fg, funcgrad.numpy as fnp
>>> from funcgrad_nn import modules as nn
>>> model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
...                       nn.Linear(4 * 13 * 13, 10))
>>> params = model.init(fg.random.key(0))
>>> model(params, fnp.zeros((2, 1, 28, 28))).shape
(2, 10)
"""

from funcgrad_nn.modules.activation import (
    ELU,
    GELU,
    LeakyReLU,
    LogSoftmax,
    MultiheadAttention,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from funcgrad_nn.modules.container import ModuleList, Sequential
from funcgrad_nn.modules.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from funcgrad_nn.modules.dropout import Dropout
from funcgrad_nn.modules.linear import Flatten, Identity, Linear
from funcgrad_nn.modules.module import Module, ParamSpec
from funcgrad_nn.modules.normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from funcgrad_nn.modules.pooling import (
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)
from funcgrad_nn.modules.rnn import GRU, LSTM, RNN
from funcgrad_nn.modules.sparse import Embedding
from funcgrad_nn.modules.transformer import TransformerEncoderLayer

__all__ = [
    "ELU",
    "GELU",
    "GRU",
    "LSTM",
    "RNN",
    "AdaptiveAvgPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "Dropout",
    "Embedding",
    "Flatten",
    "GroupNorm",
    "Identity",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MaxPool1d",
    "MaxPool2d",
    "Module",
    "ModuleList",
    "MultiheadAttention",
    "ParamSpec",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Tanh",
    "TransformerEncoderLayer",
]
