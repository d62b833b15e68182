"""Custom Keras layers written from the math."""

from models.layers.conv import BaseConv, Conv2D
from models.layers.geometry import conv_output_size
from models.layers.pooling import BasePooling, MaxPool2D, MaxPooling2D

__all__ = [
    "BaseConv",
    "BasePooling",
    "Conv2D",
    "MaxPool2D",
    "MaxPooling2D",
    "conv_output_size",
]
