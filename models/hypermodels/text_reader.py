"""The OCR text reader with its conv stack and recurrent width searched."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import keras
import keras_tuner

from common.validation import check_non_negative_int, check_positive_int
from models.hypermodels.choices import check_choices, check_default_in, check_range
from models.hypermodels.cnn import InvalidGeometryError
from models.ocr import DEFAULT_RECURRENT, ConvStack, text_reader
from models.recurrent import RecurrentSpec


class TextReaderHyperModel(keras_tuner.HyperModel):
    """`models.ocr.text_reader` with its conv blocks and recurrent width searched.

    Hyperparameters: ``kernel_size`` and ``stride`` (of every conv block, as
    `ConvStack` has them), ``block<i>_filters`` (each block's), ``units``
    (of the bidirectional recurrent layers) and ``learning_rate`` (log
    scale). A configuration whose blocks leave no row of the image, or fewer
    columns than a label needs (`models.ctc.columns_needed`), or that
    `ConvStack` refuses (``"same"`` padding with a stride above 1), is
    refused before any TensorFlow op (`InvalidGeometryError`;
    `geometry_problem` says why), and the search skips it.

    Args:
        alphabet_size: Characters the reader outputs (blank on top).
        height: Image height.
        columns_needed: Image width -> the most CTC columns a label of an
            image that wide needs (each width the data has).
        blocks: Conv blocks.
        kernel_sizes: Filter sizes ``f`` to choose from.
        strides: Strides ``s`` to choose from.
        filters: Filter counts to choose from, per block.
        units: Recurrent units per direction to choose from.
        learning_rate_range: ``(low, high)``, searched on a log scale.
        defaults: ``kernel_size``, ``stride``, ``filters`` (one per block),
            ``units``, ``learning_rate`` of the default configuration.
        padding: Padding of every conv (not searched).
        width_pools: Blocks, from the first, that also halve the width (not searched).
        recurrent: The recurrent layers of the default configuration (cell,
            layers, dropout, regularizers); trials change only its ``units``
            and always read both ways.
        clipnorm: Gradient clipping by norm of every trial (0: off).
        clipvalue: Gradient clipping by value of every trial (0: off).
        decay_steps: Steps over which the learning rate decays to 0 along a
            cosine, as the ocr task's does; 0 keeps it constant. (A Hyperband
            trial that stops early stops before its rate has fully decayed.)
        name: Model name.

    Raises:
        ValueError: On a bad argument, a default outside its choices, or a
            default configuration that does not fit the data.
    """

    def __init__(
        self,
        alphabet_size: int,
        height: int,
        columns_needed: Mapping[int, int],
        *,
        blocks: int,
        kernel_sizes: Sequence[int] = (3, 5, 7),
        strides: Sequence[int] = (1, 2),
        filters: Sequence[int] = (16, 32, 64),
        units: Sequence[int] = (32, 64, 128),
        learning_rate_range: Sequence[float] = (5e-4, 1e-2),
        defaults: Mapping,
        padding: str | int = "same",
        width_pools: int = 2,
        recurrent: RecurrentSpec = DEFAULT_RECURRENT,
        clipnorm: float = 0.0,
        clipvalue: float = 0.0,
        decay_steps: int = 0,
        name: str = "text_reader_tuned",
    ):
        super().__init__(name=name)
        self.alphabet_size = check_positive_int("alphabet_size", alphabet_size)
        self.height = check_positive_int("height", height)
        self.columns_needed = {int(w): int(n) for w, n in dict(columns_needed).items()}
        if not self.columns_needed:
            raise ValueError(
                "Invalid value for argument `columns_needed`. Expected the widths of the "
                f"data's images. Received columns_needed={columns_needed!r}."
            )
        self.blocks = check_positive_int("blocks", blocks)
        self.kernel_sizes = check_choices("kernel_sizes", kernel_sizes, int)
        self.strides = check_choices("strides", strides, int)
        self.filters = check_choices("filters", filters, int)
        self.units = check_choices("units", units, int)
        for option, chosen in (
            ("kernel_sizes", self.kernel_sizes),
            ("strides", self.strides),
            ("filters", self.filters),
            ("units", self.units),
        ):
            if min(chosen) < 1:
                raise ValueError(
                    f"Invalid value for argument `{option}`. Expected positive values. "
                    f"Received {option}={chosen!r}."
                )
        default_filters = tuple(defaults["filters"])
        if len(default_filters) != blocks:
            raise ValueError(
                f"Invalid value for argument `defaults`. Expected filters for each of the "
                f"{blocks} blocks. Received filters={default_filters!r}."
            )
        self.defaults = {
            "kernel_size": check_default_in(
                "kernel_sizes", defaults["kernel_size"], self.kernel_sizes
            ),
            "stride": check_default_in("strides", defaults["stride"], self.strides),
            **{
                f"block{block}_filters": check_default_in("filters", count, self.filters)
                for block, count in enumerate(default_filters, start=1)
            },
            "units": check_default_in("units", defaults["units"], self.units),
            "learning_rate": float(defaults["learning_rate"]),
        }
        self.learning_rate_range = check_range(
            "learning_rate_range", learning_rate_range, self.defaults["learning_rate"]
        )
        self.padding, self.width_pools = padding, width_pools
        self.decay_steps = check_non_negative_int("decay_steps", decay_steps)
        if not isinstance(recurrent, RecurrentSpec):
            raise ValueError(
                "Invalid value for argument `recurrent`. Expected a RecurrentSpec. "
                f"Received recurrent={recurrent!r}."
            )
        self.recurrent = dataclasses.replace(recurrent, bidirectional=True)
        self.clipnorm, self.clipvalue = float(clipnorm), float(clipvalue)
        problem = self.geometry_problem(self.defaults)
        if problem:
            raise ValueError(f"The default configuration does not fit the data: {problem}")

    def default_values(self) -> dict:
        """The default configuration as hyperparameter values."""
        return dict(self.defaults)

    def conv_stack(self, values: Mapping) -> ConvStack:
        """The `ConvStack` of a configuration's values."""
        return ConvStack(
            tuple(values[f"block{block}_filters"] for block in range(1, self.blocks + 1)),
            values["kernel_size"],
            values["stride"],
            self.padding,
            self.width_pools,
        )

    def geometry_problem(self, values: Mapping) -> str | None:
        """Why a configuration cannot read the data (no row, too few columns, ...), or None."""
        try:
            conv = self.conv_stack(values)
            conv.rows(self.height)
        except ValueError as error:
            return f"Skipped: {error}"
        for width, needed in sorted(self.columns_needed.items()):
            if conv.columns(width) < needed:
                return (
                    f"Skipped: kernel_size={conv.kernel_size}, stride={conv.stride} leave "
                    f"{conv.columns(width)} columns of an image {width} px wide, whose label "
                    f"needs {needed} (one per character, plus one between repeats)."
                )
        return None

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        """Builds and compiles (Adam, Keras's CTC loss) the reader of a trial.

        Raises:
            InvalidGeometryError: Before any TensorFlow op, if the
                configuration cannot read the data (`geometry_problem`).
        """
        values = {
            "kernel_size": hp.Choice(
                "kernel_size", self.kernel_sizes, default=self.defaults["kernel_size"]
            ),
            "stride": hp.Choice("stride", self.strides, default=self.defaults["stride"]),
            **{
                f"block{block}_filters": hp.Choice(
                    f"block{block}_filters",
                    self.filters,
                    default=self.defaults[f"block{block}_filters"],
                )
                for block in range(1, self.blocks + 1)
            },
        }
        units = hp.Choice("units", self.units, default=self.defaults["units"])
        learning_rate = hp.Float(
            "learning_rate",
            *self.learning_rate_range,
            sampling="log",
            default=self.defaults["learning_rate"],
        )
        problem = self.geometry_problem(values)
        if problem:
            raise InvalidGeometryError(problem)
        reader = text_reader(
            self.alphabet_size,
            self.height,
            self.conv_stack(values),
            dataclasses.replace(self.recurrent, units=units),
            name=self.name,
        )
        if self.decay_steps:
            learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, self.decay_steps)
        optimizer = keras.optimizers.Adam(
            learning_rate, clipnorm=self.clipnorm or None, clipvalue=self.clipvalue or None
        )
        reader.compile(optimizer=optimizer, loss=keras.losses.CTC())
        return reader
