"""A text reader: convolutional features over a text image, read left to right by an RNN.

``uint8 [batch, height, width, 1]`` images (any width, padded on the right
to one width per batch, with each image's own width beside it) go through conv
blocks of our `Conv2D` (batch-normalized by default) and `MaxPool2D`; the
first ``width_pools`` blocks halve height and width, the others the height
only, so the image keeps enough columns for its characters. Each column of
the last feature maps becomes one step of a sequence, which our recurrent layers read (a
bidirectional LSTM by default), and a dense layer gives each column logits
over ``blank + alphabet``: the output `models.ctc` decodes and
`keras.losses.CTC` trains (CRNN, Shi et al. 2015).

The columns the padding gives are masked: the recurrent layers skip them
(so the backward pass starts at the image's own last column, as it does on
the image alone) and they output a certain blank (`BlankPadding`), so CTC
aligns each label with its image's own columns only. (Trained on 4,000
generated plates for 8 epochs at a constant learning rate, a reader
without the mask read 86 % of the validation characters wrong, one with
it 10.5 %.)
"""

from __future__ import annotations

import dataclasses

import keras
from keras import ops

from common.padding import parse_padding
from common.validation import (
    check_bool,
    check_filters,
    check_non_negative_int,
    check_positive_int,
    check_rate,
)
from models.layers import Conv2D, MaxPool2D, conv_output_size
from models.recurrent import RecurrentSpec

DEFAULT_RECURRENT = RecurrentSpec(cell="lstm", units=128, bidirectional=True)


@dataclasses.dataclass(frozen=True)
class ConvStack:
    """The conv blocks of a text reader, and the geometry they give an image.

    Each block is a ``kernel_size`` convolution (``stride``, ``padding``), then
    2x2 max pooling for the first ``width_pools`` blocks and 2x1 (height only)
    for the others, so the image keeps enough columns for its characters.
    With ``padded_batches`` (text images: each batch padded to its widest),
    ``"same"`` padding takes stride 1 only: with a larger stride it pads by
    the remainder of the width, so a padded image would not be read as the
    image alone. Inputs of one fixed width (spectrograms of fixed-length
    clips) can take any stride.

    Attributes:
        filters: Filters of each block.
        kernel_size: Filter size ``f`` of every conv.
        stride: Stride ``s`` of every conv (along height and width).
        padding: ``"same"``, ``"valid"`` or an integer ``p``.
        width_pools: How many blocks, from the first, also halve the width.
        padded_batches: Whether inputs come padded to their batch's width.

    Raises:
        ValueError: On a bad field, naming it.
    """

    filters: tuple[int, ...] = (32, 64, 128)
    kernel_size: int = 3
    stride: int = 1
    padding: str | int = "same"
    width_pools: int = 2
    padded_batches: bool = True

    def __post_init__(self):
        filters = check_filters("filters", self.filters)
        object.__setattr__(self, "filters", filters)
        check_positive_int("kernel_size", self.kernel_size)
        check_positive_int("stride", self.stride)
        object.__setattr__(self, "padding", parse_padding(self.padding))
        check_bool("padded_batches", self.padded_batches)
        if self.padding == "same" and self.stride > 1 and self.padded_batches:
            raise ValueError(
                f"Invalid value for argument `padding`. padding='same' with stride="
                f"{self.stride} pads an image by the remainder of its width, so an image padded "
                "to its batch's width would be read at other offsets than the image alone; use "
                f"an integer padding p (e.g. p={(self.kernel_size - 1) // 2} for kernel_size="
                f"{self.kernel_size}). Received padding='same', stride={self.stride}."
            )
        if check_non_negative_int("width_pools", self.width_pools) > len(filters):
            raise ValueError(
                f"Invalid value for argument `width_pools`. Expected at most the {len(filters)} "
                f"conv blocks. Received width_pools={self.width_pools}."
            )

    def _reduced(self, size: int, pools: int) -> int | None:
        """``size`` after every block, the first ``pools`` of them pooling it; None if empty."""
        for block in range(len(self.filters)):
            try:
                size = conv_output_size(size, self.kernel_size, self.stride, self.padding)
                if block < pools:
                    size = conv_output_size(size, 2, 2, "valid")
            except ValueError:
                return None
        return size

    def rows(self, height: int) -> int:
        """Rows of the last feature maps for images ``height`` pixels high.

        Raises:
            ValueError: If the blocks leave no row, naming the height and the fix.
        """
        rows = self._reduced(check_positive_int("height", height), len(self.filters))
        if not rows:
            raise ValueError(
                f"Invalid value for argument `height`. The {len(self.filters)} conv blocks "
                f"(kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding!r}, each pooling the height by 2) leave no row of "
                f"an image {height} px high. Use taller images or fewer blocks. "
                f"Received height={height}."
            )
        return rows

    def column_counts(self, widths):
        """`columns` of each width in a tensor, in tensor ops (0 where none is left).

        Args:
            widths: ``int [batch]`` image widths.

        Returns:
            ``int32 [batch]`` columns.
        """
        counts = ops.cast(widths, "int32")
        for block in range(len(self.filters)):
            if self.padding == "same":  # ceil(w / s)
                convolved = (counts + self.stride - 1) // self.stride
            else:
                pad = 0 if self.padding == "valid" else 2 * self.padding
                convolved = (counts + pad - self.kernel_size) // self.stride + 1
            # a width once left empty stays empty, whatever padding would add
            counts = ops.where(counts > 0, ops.maximum(convolved, 0), 0)
            if block < self.width_pools:
                counts = counts // 2
        return counts

    def columns(self, width: int) -> int:
        """Columns (sequence steps) of an image ``width`` pixels wide; 0 if none are left."""
        return self._reduced(check_positive_int("width", width), self.width_pools) or 0

    def narrowest_width(self) -> int:
        """The narrowest image width that leaves at least one column."""
        width = 1
        while not self.columns(width):
            width += 1
        return width


@keras.saving.register_keras_serializable(package="convseq")
class ImageColumns(keras.layers.Layer):
    """Which steps of a column sequence come from each image, not from its padding.

    Args:
        conv: The `ConvStack` (or its fields as a dict) that made the columns.
        **kwargs: Base layer arguments (``name``, ...).

    Call arguments:
        columns: ``[batch, steps, features]``, the columns of padded images.
        widths: ``int [batch]``, each image's width before padding.

    Returns:
        Boolean ``[batch, steps]``: True on an image's own columns.
    """

    def __init__(self, conv: ConvStack | dict, **kwargs):
        super().__init__(**kwargs)
        self.conv = conv if isinstance(conv, ConvStack) else ConvStack(**conv)

    def call(self, columns, widths):
        steps = ops.arange(ops.shape(columns)[1], dtype="int32")
        return steps[None, :] < self.conv.column_counts(widths)[:, None]

    def compute_output_spec(self, columns, widths):
        return keras.KerasTensor(columns.shape[:2], dtype="bool")

    def get_config(self):
        return {**super().get_config(), "conv": dataclasses.asdict(self.conv)}


@keras.saving.register_keras_serializable(package="convseq")
class BlankPadding(keras.layers.Layer):
    """Logits that read a certain CTC blank (id 0) on the steps a mask marks as padding.

    Call arguments:
        logits: ``float [batch, steps, 1 + alphabet]``.
        keep: Boolean ``[batch, steps]``, True where the logits are kept.

    Returns:
        The logits, with ``+30`` for the blank and ``-30`` for every
        character on the masked steps (blank probability ``1 - e^-60``
        per character), so CTC aligns no character there and decoding reads none.
    """

    CERTAINTY = 30.0

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True  # takes the mask the logits carry, returns none

    def call(self, logits, keep, mask=None):
        blank = ops.where(ops.arange(ops.shape(logits)[-1]) == 0, self.CERTAINTY, -self.CERTAINTY)
        return ops.where(keep[..., None], logits, ops.cast(blank, logits.dtype))

    def compute_mask(self, logits, keep=None, mask=None):
        return None  # every step is now read: a mask would also weight the loss


def conv_columns(x, conv: ConvStack, rows: int, batch_norm: bool = True):
    """The conv blocks of ``conv`` over images, then one step per column of the feature maps.

    Args:
        x: ``[batch, height, width, channels]`` (float) images.
        conv: The conv blocks; ReLU after each conv.
        rows: ``conv.rows(height)``: rows of the last feature maps.
        batch_norm: Batch-normalize each conv's output before its ReLU.

    Returns:
        ``[batch, conv.columns(width), rows * conv.filters[-1]]`` column features.
    """
    for block, count in enumerate(conv.filters, start=1):
        x = Conv2D(
            count,
            conv.kernel_size,
            strides=conv.stride,
            padding=conv.padding,
            activation=None if batch_norm else "relu",
            use_bias=not batch_norm,
            name=f"block{block}_conv",
        )(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"block{block}_bn")(x)
            x = keras.layers.ReLU(name=f"block{block}_relu")(x)
        pool = (2, 2) if block <= conv.width_pools else (2, 1)
        x = MaxPool2D(pool, name=f"block{block}_pool")(x)
    # [batch, rows, columns, filters] -> one step per column: [batch, columns, rows * filters]
    x = keras.layers.Permute((2, 1, 3), name="columns_first")(x)
    return keras.layers.Reshape((-1, rows * conv.filters[-1]), name="columns")(x)


def text_reader(
    alphabet_size: int,
    height: int = 32,
    conv: ConvStack = ConvStack(),
    recurrent: RecurrentSpec = DEFAULT_RECURRENT,
    dense_units: int = 64,
    dropout: float = 0.25,
    batch_norm: bool = True,
    name: str = "text_reader",
) -> keras.Model:
    """CNN -> columns -> recurrent layers -> per-column logits over ``blank + alphabet``.

    Args:
        alphabet_size: Characters the reader can output (the blank comes on top).
        height: Image height in pixels; the conv blocks must leave a row of it.
        conv: The conv blocks (`ConvStack`); ReLU after each conv.
        recurrent: The recurrent layers reading the columns.
        dense_units: Units of the dense layer each column passes before them.
        dropout: Dropout on those units.
        batch_norm: Batch-normalize each conv's output before its ReLU: without
            it, a reader of generated plates stays much longer on CTC's
            all-blank plateau (it outputs nearly nothing).
        name: Model name.

    Returns:
        An uncompiled `keras.Model` from ``{"images": uint8 [batch, height,
        width, 1], "widths": int32 [batch]}`` (any width; ``widths`` the
        width of each image before it was padded to the batch's) to
        ``float32 [batch, conv.columns(width), 1 + alphabet_size]`` logits;
        blank is id 0, and certain on the padding's columns. `read_logits`
        calls it on images that are not padded.

    Raises:
        ValueError: On a bad argument, naming it.

    Example:
        >>> reader = text_reader(alphabet_size=36)
        >>> reader.compile(optimizer="adam", loss=keras.losses.CTC())
    """
    check_positive_int("alphabet_size", alphabet_size)
    if not isinstance(conv, ConvStack):
        raise ValueError(
            f"Invalid value for argument `conv`. Expected a ConvStack. Received conv={conv!r}."
        )
    rows = conv.rows(height)
    check_positive_int("dense_units", dense_units)
    check_rate("dropout", dropout)
    check_bool("batch_norm", batch_norm)

    images = keras.Input((height, None, 1), dtype="uint8", name="images")
    widths = keras.Input((), dtype="int32", name="widths")
    x = keras.layers.Rescaling(1.0 / 255.0, name="rescaling")(images)
    x = conv_columns(x, conv, rows, batch_norm)
    x = keras.layers.Dense(dense_units, activation="relu", name="column_features")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="column_dropout")(x)
    own_columns = ImageColumns(conv, name="image_columns")(x, widths)
    x = recurrent(x, return_sequences=True, mask=own_columns)
    logits = keras.layers.Dense(alphabet_size + 1, dtype="float32", name="logits")(x)
    logits = BlankPadding(name="blank_padding", dtype="float32")(logits, own_columns)
    return keras.Model({"images": images, "widths": widths}, logits, name=name)


def reader_height(reader: keras.Model) -> int:
    """The image height a `text_reader` reads."""
    return int(reader.input["images"].shape[1])


def reader_conv(reader: keras.Model) -> ConvStack:
    """The `ConvStack` of a `text_reader`."""
    return reader.get_layer("image_columns").conv


def read_logits(reader: keras.Model, images, training: bool = False):
    """A `text_reader`'s logits for unpadded images (each batch's images all of its width).

    Args:
        reader: A `text_reader`.
        images: ``uint8 [batch, height, width, 1]`` (tensor or array), no image padded.
        training: Call the reader in training mode.

    Returns:
        ``float32 [batch, columns, 1 + alphabet]`` logits.
    """
    images = ops.convert_to_tensor(images)
    shape = ops.shape(images)
    widths = ops.full((shape[0],), shape[2], dtype="int32")
    return reader({"images": images, "widths": widths}, training=training)
