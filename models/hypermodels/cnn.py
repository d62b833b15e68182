"""The CNN hypermodel: each conv block's filter size, stride, padding, filters and pooling.

A trial whose feature map would shrink below one pixel, by
``floor((H + 2p - f) / s) + 1`` layer after layer, raises `InvalidGeometryError`
(a `keras_tuner.errors.FailedTrialError`) with the computed sizes before any
TensorFlow op runs. `CNNHyperModel.geometry_problem` gives the same verdict
from the values alone, so an oracle can tell such a skipped trial from a
real failure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import keras
import keras_tuner

from common.padding import parse_padding
from common.validation import check_positive_int, check_rate
from models.cnn import cnn_feature_map_sizes, small_cnn
from models.hypermodels.choices import check_choices, check_default_in, check_range


class InvalidGeometryError(keras_tuner.errors.FailedTrialError):
    """A trial's conv/pool stack would shrink the feature map to nothing; it is skipped."""


def _padding_choice(padding) -> str:
    """A padding as a Keras Tuner choice: parsed, then spelled as a string (``"1"``).

    Keras Tuner wants the values of one ``hp.Choice`` to share a type, so the
    integers ride along as their digits; `parse_padding` reads them back.
    """
    return str(parse_padding(padding, "paddings"))


class CNNHyperModel(keras_tuner.HyperModel):
    """`models.small_cnn` with each conv block's f, s, p, filters and pooling searched.

    Hyperparameters (``N`` = 1 .. ``blocks``): ``blockN_kernel_size``,
    ``blockN_stride``, ``blockN_padding`` (``"valid"``, ``"same"`` or an
    integer ``p`` written as a string), ``blockN_filters``,
    ``blockN_pool_size`` (max-pooling window and stride; 0: no pooling),
    ``dense_units``, ``dropout``, ``learning_rate``.

    Args:
        input_shape: ``(height, width, channels)`` of the uint8 images.
        classes: Number of classes.
        blocks: Conv blocks (fixed; the default filters give one per block).
        kernel_sizes: Filter sizes f to choose from.
        strides: Strides s to choose from.
        paddings: ``"valid"``, ``"same"`` and integers p to choose from.
        filters: Filter counts to choose from.
        pool_sizes: Max-pooling sizes to choose from (0: none). Leaving a
            block unpooled can multiply a trial's cost many times over.
        dense_units: Hidden dense units to choose from (0: no hidden layer).
        dropout_range: ``(low, high)`` of the dropout before the dense layers.
        learning_rate_range: ``(low, high)``, searched on a log scale.
        defaults: The default configuration, by hyperparameter name without
            the block prefix: ``kernel_size``, ``stride``, ``padding``,
            ``filters`` (a sequence, one per block), ``pool_size``,
            ``dense_units``, ``dropout``, ``learning_rate``. Missing keys take
            3, 1, ``"same"``, ``filters[:blocks]``, 2, 128, 0.25, 2e-3.
        name: Model name.

    Raises:
        ValueError: On a bad argument, a default outside its choices, or a
            default configuration whose geometry does not fit ``input_shape``.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        classes: int,
        *,
        blocks: int = 2,
        kernel_sizes: Sequence[int] = (3, 5, 7),
        strides: Sequence[int] = (1, 2),
        paddings: Sequence[str | int] = ("same", "valid", 1),
        filters: Sequence[int] = (16, 32, 64),
        pool_sizes: Sequence[int] = (2, 3),
        dense_units: Sequence[int] = (64, 128),
        dropout_range: Sequence[float] = (0.0, 0.5),
        learning_rate_range: Sequence[float] = (5e-4, 1e-2),
        defaults: Mapping | None = None,
        name: str = "cnn",
    ):
        super().__init__(name=name)
        self.input_shape = tuple(input_shape)
        check_positive_int("classes", classes)
        check_positive_int("blocks", blocks)
        self.classes = classes
        self.blocks = blocks
        self.kernel_sizes = check_choices("kernel_sizes", kernel_sizes, int)
        self.strides = check_choices("strides", strides, int)
        self.paddings = check_choices(
            "paddings",
            [_padding_choice(p) for p in check_choices("paddings", paddings, (str, int))],
            str,
        )
        self.filters = check_choices("filters", filters, int)
        self.pool_sizes = check_choices("pool_sizes", pool_sizes, int)
        self.dense_units = check_choices("dense_units", dense_units, int)
        defaults = dict(defaults or {})
        unknown = set(defaults) - {
            "kernel_size",
            "stride",
            "padding",
            "filters",
            "pool_size",
            "dense_units",
            "dropout",
            "learning_rate",
        }
        if unknown:
            raise ValueError(f"Invalid keys in `defaults`: {sorted(unknown)}.")
        default_filters = tuple(defaults.get("filters", self.filters[:blocks]))
        if len(default_filters) != blocks:
            raise ValueError(
                f"Invalid value for `defaults['filters']`: expected one entry per block "
                f"({blocks}). Received {default_filters!r}."
            )
        filter_choices = tuple(sorted(set(self.filters) | set(default_filters)))
        self.filters = filter_choices
        self.defaults = {
            "kernel_size": check_default_in(
                "kernel_sizes", defaults.get("kernel_size", 3), self.kernel_sizes
            ),
            "stride": check_default_in("strides", defaults.get("stride", 1), self.strides),
            "padding": check_default_in(
                "paddings", _padding_choice(defaults.get("padding", "same")), self.paddings
            ),
            "filters": default_filters,
            "pool_size": check_default_in(
                "pool_sizes", defaults.get("pool_size", 2), self.pool_sizes
            ),
            "dense_units": check_default_in(
                "dense_units", defaults.get("dense_units", 128), self.dense_units
            ),
            "dropout": float(defaults.get("dropout", 0.25)),
            "learning_rate": float(defaults.get("learning_rate", 2e-3)),
        }
        check_rate("dropout", self.defaults["dropout"])
        self.dropout_range = tuple(float(v) for v in dropout_range)
        if not (
            len(self.dropout_range) == 2
            and 0 <= self.dropout_range[0] < self.dropout_range[1] < 1
            and self.dropout_range[0] <= self.defaults["dropout"] <= self.dropout_range[1]
        ):
            raise ValueError(
                "Invalid value for argument `dropout_range`. Expected (low, high) with "
                f"0 <= low < high < 1 around the default {self.defaults['dropout']}. "
                f"Received dropout_range={dropout_range!r}."
            )
        self.learning_rate_range = check_range(
            "learning_rate_range", learning_rate_range, self.defaults["learning_rate"]
        )
        problem = self.geometry_problem(self.default_values())
        if problem:
            raise ValueError(
                f"The default configuration does not fit input_shape={self.input_shape}: {problem}"
            )

    def default_values(self) -> dict:
        """The default configuration as hyperparameter values."""
        values = {}
        for block in range(1, self.blocks + 1):
            values[f"block{block}_kernel_size"] = self.defaults["kernel_size"]
            values[f"block{block}_stride"] = self.defaults["stride"]
            values[f"block{block}_padding"] = self.defaults["padding"]
            values[f"block{block}_filters"] = self.defaults["filters"][block - 1]
            values[f"block{block}_pool_size"] = self.defaults["pool_size"]
        values["dense_units"] = self.defaults["dense_units"]
        values["dropout"] = self.defaults["dropout"]
        values["learning_rate"] = self.defaults["learning_rate"]
        return values

    def declare_hyperparameters(self, hp: keras_tuner.HyperParameters) -> dict:
        """Declares every searchable value on ``hp`` and returns the values of this trial."""
        values = {}
        for block in range(1, self.blocks + 1):
            prefix = f"block{block}_"
            values[prefix + "kernel_size"] = hp.Choice(
                prefix + "kernel_size", self.kernel_sizes, default=self.defaults["kernel_size"]
            )
            values[prefix + "stride"] = hp.Choice(
                prefix + "stride", self.strides, default=self.defaults["stride"]
            )
            values[prefix + "padding"] = hp.Choice(
                prefix + "padding", self.paddings, default=self.defaults["padding"]
            )
            values[prefix + "filters"] = hp.Choice(
                prefix + "filters", self.filters, default=self.defaults["filters"][block - 1]
            )
            values[prefix + "pool_size"] = hp.Choice(
                prefix + "pool_size", self.pool_sizes, default=self.defaults["pool_size"]
            )
        values["dense_units"] = hp.Choice(
            "dense_units", self.dense_units, default=self.defaults["dense_units"]
        )
        values["dropout"] = hp.Float(
            "dropout", *self.dropout_range, default=self.defaults["dropout"]
        )
        values["learning_rate"] = hp.Float(
            "learning_rate",
            *self.learning_rate_range,
            sampling="log",
            default=self.defaults["learning_rate"],
        )
        return values

    def _geometry(self, values: Mapping) -> dict:
        blocks = range(1, self.blocks + 1)
        return {
            "filters": [int(values[f"block{b}_filters"]) for b in blocks],
            "kernel_size": [int(values[f"block{b}_kernel_size"]) for b in blocks],
            "strides": [int(values[f"block{b}_stride"]) for b in blocks],
            "padding": [parse_padding(values[f"block{b}_padding"]) for b in blocks],
            "pool_size": [int(values[f"block{b}_pool_size"]) for b in blocks],
        }

    def feature_map_sizes(self, values: Mapping) -> list[tuple[str, tuple[int, int, int]]]:
        """The ``(layer, (h, w, c))`` sizes of a configuration, computed without TensorFlow.

        Raises:
            InvalidGeometryError: Naming the layer whose output would be
                empty, the sizes before it, the formula and the values.
        """
        geometry = self._geometry(values)
        sizes = []
        # Layer by layer, so the message can show every size reached before the failure.
        for depth in range(1, self.blocks + 1):
            partial = {key: value[:depth] for key, value in geometry.items()}
            try:
                sizes = cnn_feature_map_sizes(self.input_shape, **partial)
            except ValueError as error:
                reached = " -> ".join(f"{n} {h}x{w}" for n, (h, w, _) in sizes) or "(input)"
                raise InvalidGeometryError(
                    f"Skipped: invalid geometry for input {self.input_shape[0]}x"
                    f"{self.input_shape[1]}. Sizes reached: {reached}. {error}"
                ) from None
        return sizes

    def geometry_problem(self, values: Mapping) -> str | None:
        """Why a configuration's feature map would vanish, or None if it fits."""
        try:
            self.feature_map_sizes(values)
        except InvalidGeometryError as error:
            return str(error)
        return None

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        """Builds and compiles the CNN of a trial.

        Raises:
            InvalidGeometryError: Before any TensorFlow op, if the feature map
                would shrink to nothing.
        """
        values = self.declare_hyperparameters(hp)
        self.feature_map_sizes(values)
        model = small_cnn(
            input_shape=self.input_shape,
            classes=self.classes,
            name=self.name,
            dense_units=values["dense_units"],
            dropout=values["dropout"],
            **self._geometry(values),
        )
        model.compile(
            optimizer=keras.optimizers.Adam(values["learning_rate"]),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model
