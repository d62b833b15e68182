"""Custom Keras layers written from the math."""

from models.layers.conv import BaseConv, Conv1D, Conv2D
from models.layers.echo_state import EchoState, EchoStateCell, reservoir_matrix
from models.layers.geometry import conv_output_size
from models.layers.pooling import BasePooling, MaxPool2D, MaxPooling2D
from models.layers.rnn import GRU, LSTM, BaseRecurrent, SimpleRNN
from models.layers.rnn_cell_base import BaseRNNCell
from models.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell

__all__ = [
    "GRU",
    "LSTM",
    "BaseConv",
    "BasePooling",
    "BaseRNNCell",
    "BaseRecurrent",
    "Conv1D",
    "Conv2D",
    "EchoState",
    "EchoStateCell",
    "GRUCell",
    "LSTMCell",
    "MaxPool2D",
    "MaxPooling2D",
    "SimpleRNN",
    "SimpleRNNCell",
    "conv_output_size",
    "reservoir_matrix",
]
