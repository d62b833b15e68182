"""Custom Keras layers written from the math."""

from models.layers import rnn_loops
from models.layers.base_conv import BaseConv
from models.layers.catalog_search import CatalogSearch
from models.layers.conv import Conv1D, Conv2D, Conv3D
from models.layers.crf import CRF
from models.layers.echo_state import EchoState, EchoStateCell, reservoir_matrix
from models.layers.geometry import conv_output_size
from models.layers.lora import LoraKernel
from models.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    AvgPool1D,
    AvgPool2D,
    AvgPool3D,
    BasePooling,
    MaxPool1D,
    MaxPool2D,
    MaxPool3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from models.layers.rnn import GRU, LSTM, BaseRecurrent, SimpleRNN
from models.layers.rnn_cell_base import BaseRNNCell
from models.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell

__all__ = [
    "GRU",
    "LSTM",
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "AvgPool1D",
    "AvgPool2D",
    "AvgPool3D",
    "BaseConv",
    "BasePooling",
    "BaseRNNCell",
    "BaseRecurrent",
    "CRF",
    "CatalogSearch",
    "Conv1D",
    "Conv2D",
    "Conv3D",
    "EchoState",
    "EchoStateCell",
    "GRUCell",
    "LSTMCell",
    "LoraKernel",
    "MaxPool1D",
    "MaxPool2D",
    "MaxPool3D",
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
    "SimpleRNN",
    "SimpleRNNCell",
    "conv_output_size",
    "reservoir_matrix",
    "rnn_loops",
]
