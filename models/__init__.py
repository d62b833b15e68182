"""Keras layers, model factories and hypermodels."""

from models.cnn import cnn_feature_map_sizes, small_cnn
from models.layers import Conv2D, MaxPool2D, MaxPooling2D, conv_output_size

__all__ = [
    "Conv2D",
    "MaxPool2D",
    "MaxPooling2D",
    "cnn_feature_map_sizes",
    "conv_output_size",
    "small_cnn",
]
