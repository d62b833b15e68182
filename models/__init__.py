"""Keras layers, model factories and hypermodels."""

from models.alexnet import alexnet
from models.cnn import cnn_feature_map_sizes, small_cnn
from models.layers import Conv2D, MaxPool2D, MaxPooling2D, conv_output_size
from models.lenet import lenet
from models.parameters import (
    conv_vs_dense_parameters,
    format_parameter_report,
    parameter_report,
    single_conv_weights,
    stacked_conv_weights,
)
from models.vgg import small_vgg, vgg16

__all__ = [
    "Conv2D",
    "MaxPool2D",
    "MaxPooling2D",
    "alexnet",
    "cnn_feature_map_sizes",
    "conv_output_size",
    "conv_vs_dense_parameters",
    "format_parameter_report",
    "lenet",
    "parameter_report",
    "single_conv_weights",
    "small_cnn",
    "small_vgg",
    "stacked_conv_weights",
    "vgg16",
]
