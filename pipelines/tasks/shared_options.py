"""Options that several tasks own, each declared once here and inherited by their tasks.

A task's options class inherits the groups it uses, e.g.
``class SentimentOptions(RecurrentCellOptions, StackedLayersOption, ...)``;
the train config is the union of every task's options, so a shared option
has one declaration, one default and one parser whichever task owns it.
"""

from __future__ import annotations

import dataclasses
import math

from common.padding import parse_padding
from common.recurrent import CELL_NAMES
from common.validation import (
    check_fraction,
    check_non_negative,
    check_non_negative_int,
    check_positive_int,
    check_rate,
    check_warp,
)
from pipelines.options import choice_parser, option_field

ATTENTIONS = ("none", "luong", "bahdanau")
RESERVOIR_CELL = "esn"
"""The ``cell`` of forecast's echo state reservoir (fixed recurrent weights, trained readout)."""
VGG16_MIN_SIZE = 32  # VGG16's five 2x2 pools need at least 32 pixels


def parse_filters(text) -> tuple[int, ...]:
    """Parses ``"32,64"`` (filters per conv block) into ``(32, 64)``.

    Raises:
        ValueError: If an entry is not a positive integer.
    """
    if not isinstance(text, str):
        values = tuple(text)
    else:
        try:
            values = tuple(int(part) for part in text.split(",") if part.strip())
        except ValueError:
            values = ()
    if not values or not all(isinstance(v, int) and v > 0 for v in values):
        raise ValueError(
            "Invalid value for argument `filters`. Expected comma-separated positive integers, "
            f"one per conv block, e.g. '32,64'. Received filters={text!r}."
        )
    return values


@dataclasses.dataclass(frozen=True)
class ConvBlockOptions:
    """The conv blocks of `models.small_cnn` (classify, search): filters, f, s and p."""

    filters: tuple[int, ...] = option_field(
        (16, 32),
        "filters per conv block, comma-separated, e.g. 16,32 (unless set: search 32,64; ocr "
        "and speech tasks 16,32,64; faces 32,64,128)",
        parse=parse_filters,
    )
    kernel_size: int = option_field(3, "conv filter size f", check=check_positive_int)
    stride: int = option_field(1, "conv stride s", check=check_positive_int)
    padding: str | int = option_field(
        "same", "conv padding: valid, same or an integer p", parse=parse_padding
    )


@dataclasses.dataclass(frozen=True)
class ImageFolderOption:
    """An image folder instead of a catalog dataset (classify, transfer, search, faces)."""

    data_dir: str = option_field(
        "",
        "image folder root/<class>/<image> (faces: root/<person>/<image>) to use instead of "
        "dataset",
    )

    def reads_own_files(self) -> bool:
        """Whether ``data_dir`` replaces ``dataset`` (which then keeps no default)."""
        return bool(self.data_dir)


def check_image_dataset(config) -> None:
    """A catalog dataset named without ``data_dir`` must exist (checked before any run).

    Raises:
        data.DatasetUnavailableError, ValueError: On an unknown dataset name.
    """
    if not config.data_dir:
        from data.catalog import get_spec

        get_spec(config.dataset)


@dataclasses.dataclass(frozen=True)
class ImageSizeOption:
    """The square size images are resized to."""

    image_size: int = option_field(
        0,
        "resize images to this square size (0: the dataset's own; transfer: at least 32)",
        check=check_non_negative_int,
    )


@dataclasses.dataclass(frozen=True)
class EmbeddingSizeOption:
    """The length of an embedder's vectors (search, faces)."""

    embedding_size: int = option_field(
        128,
        "length of the embedding vectors; search's triplet and contrastive embedders give half "
        "to the class part, half to the copy part (even)",
        check=check_positive_int,
    )


@dataclasses.dataclass(frozen=True)
class FlipAverageOption:
    """Whether an image is embedded with its mirror image (search, faces)."""

    flip_average: bool = option_field(
        True,
        "embed each image and its mirror image, their vectors added, in the run's scores and "
        "exports (twice the compute at inference): true or false",
    )


@dataclasses.dataclass(frozen=True)
class HeldOutTestOption:
    """The test share of a dataset that comes unsplit."""

    test_fraction: float = option_field(
        0.1,
        "share of an unsplit dataset held out for test (a series' tail)",
        check=check_fraction,
    )

    def split_options(self) -> dict:
        """The keyword arguments of `data.choice.unsplit_or_tfds_splits` for this config."""
        return {
            "validation_fraction": self.validation_fraction,
            "test_fraction": self.test_fraction,
            "max_examples": self.max_examples,
        }


@dataclasses.dataclass(frozen=True)
class RecurrentCellOptions:
    """The recurrent layers of a sequence task: cell, width, dropout and penalties."""

    cell: str = option_field(
        "lstm",
        "recurrent layer: lstm, gru or simple_rnn; forecast also takes esn (echo state reservoir)",
        parse=choice_parser("cell", (*CELL_NAMES, RESERVOIR_CELL)),
    )
    units: int = option_field(
        64, "recurrent units per direction (ocr: 128 unless set)", check=check_positive_int
    )
    dropout: float = option_field(0.0, "dropout on recurrent layer inputs", check=check_rate)
    recurrent_dropout: float = option_field(0.0, "dropout on the recurrent state", check=check_rate)
    l1: float = option_field(
        0.0, "L1 penalty on kernel and recurrent weights", check=check_non_negative
    )
    l2: float = option_field(
        0.0, "L2 penalty on kernel and recurrent weights", check=check_non_negative
    )

    def recurrent_spec(self, bidirectional: bool | None = None):
        """The `models.recurrent.RecurrentSpec` of these options.

        Args:
            bidirectional: Overrides the ``bidirectional`` option (tagging is
                always bidirectional; a task without the option is not).
        """
        from models.recurrent import RecurrentSpec

        if self.cell == RESERVOIR_CELL:
            raise ValueError(
                f"Invalid value for argument `cell`. {RESERVOIR_CELL} (an echo state reservoir) "
                f"is a forecast option; task {getattr(self, 'task', '?')} takes one of "
                f"{list(CELL_NAMES)}. Received cell={self.cell!r}."
            )
        return RecurrentSpec(
            cell=self.cell,
            units=self.units,
            layers=getattr(self, "layers", 1),
            bidirectional=(
                getattr(self, "bidirectional", False) if bidirectional is None else bidirectional
            ),
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
            l1=self.l1,
            l2=self.l2,
        )


@dataclasses.dataclass(frozen=True)
class ConvFrontOptions:
    """Our Conv1D layer before the recurrent layers (sentiment, forecast): off by default."""

    conv_filters: int = option_field(
        0,
        "filters of a Conv1D front whose features the recurrent layers read (0: no front); "
        "sentiment pads it same, forecast causal",
        check=check_non_negative_int,
    )
    conv_kernel_size: int = option_field(
        3, "steps each filter of the Conv1D front spans", check=check_positive_int
    )

    def conv_spec(self):
        """The `models.conv_front.ConvSpec` of these options (off while ``conv_filters`` is 0)."""
        from models.conv_front import ConvSpec

        return ConvSpec(filters=self.conv_filters, kernel_size=self.conv_kernel_size)


def model_kind(config) -> str:
    """The layers of a sentiment or forecast model in its name: ``lstm``, ``conv_bigru``, ..."""
    return (
        f"{'conv_' if config.conv_filters else ''}"
        f"{'bi' if config.bidirectional else ''}{config.cell}"
    )


def check_conv_front(config) -> None:
    """Refuses a ``conv_kernel_size`` that no layer would use (``conv_filters`` 0).

    Raises:
        ValueError: Naming both options and the fix.
    """
    default = ConvFrontOptions.__dataclass_fields__["conv_kernel_size"].default
    if not config.conv_filters and config.conv_kernel_size != default:
        raise ValueError(
            "Invalid value for argument `conv_kernel_size`. It sizes the filters of the conv "
            "front, which conv_filters=0 leaves out: set conv_filters (e.g. conv_filters=32) "
            f"or leave conv_kernel_size at {default}. "
            f"Received conv_kernel_size={config.conv_kernel_size}."
        )


@dataclasses.dataclass(frozen=True)
class StackedLayersOption:
    """Recurrent layers stacked on each other."""

    layers: int = option_field(1, "stacked recurrent layers", check=check_positive_int)


@dataclasses.dataclass(frozen=True)
class BidirectionalOption:
    """Recurrent layers run both ways."""

    bidirectional: bool = option_field(False, "run the recurrent layers both ways: true or false")


@dataclasses.dataclass(frozen=True)
class VocabularyOptions:
    """Word vectors over the most frequent training words."""

    embedding_dim: int = option_field(64, "size of word vectors", check=check_positive_int)
    vocabulary_size: int = option_field(
        20000, "most frequent training words kept", check=check_positive_int
    )


@dataclasses.dataclass(frozen=True)
class SequenceLengthOption:
    """Texts cut or padded to one length."""

    sequence_length: int = option_field(
        64, "tokens per text, cut or padded", check=check_positive_int
    )


@dataclasses.dataclass(frozen=True)
class BeamWidthOption:
    """Greedy or beam-search decoding (translation, captioning, ocr)."""

    beam_width: int = option_field(
        1, "beams kept while decoding (1: greedy)", check=check_positive_int
    )


@dataclasses.dataclass(frozen=True)
class DecoderOptions(BeamWidthOption):
    """How a text generator attends and decodes (translation, captioning)."""

    attention: str = option_field(
        "luong",
        "translation: over the source words; captioning: over image positions. none, luong "
        "or bahdanau",
        parse=choice_parser("attention", ATTENTIONS),
    )

    def attention_or_none(self) -> str | None:
        """The attention for the model factories: ``None`` for ``none``."""
        return None if self.attention == "none" else self.attention


@dataclasses.dataclass(frozen=True)
class BaseWeightsOption:
    """The weights of a VGG16 base (transfer, captioning with ``image_encoder=vgg16``)."""

    base_weights: str = option_field(
        "none",
        "VGG16 base weights (transfer, captioning with image_encoder=vgg16): none, imagenet "
        "or a file path",
    )

    def base_weights_or_none(self) -> str | None:
        """The weights for `models.vgg16`: ``None`` for ``none``."""
        return None if self.base_weights.lower() == "none" else self.base_weights


def check_gated_decoder(config) -> None:
    """Refuses ``cell=simple_rnn`` for an attention decoder's task.

    Raises:
        ValueError: Naming the task and the cells it takes.
    """
    if config.cell == "simple_rnn":
        raise ValueError(
            f"Invalid value for argument `cell`. Task {config.task} takes lstm or gru (the "
            "decoder needs a gated cell to carry its state). Received cell='simple_rnn'."
        )


def check_finite_non_negative(name: str, value) -> float:
    """`check_non_negative`, and finite (a clip of infinite seconds has no sample count)."""
    value = check_non_negative(name, value)
    if not math.isfinite(value):
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a finite number of seconds. "
            f"Received {name}={value!r}."
        )
    return value


SPEECH_DEFAULTS = {"speech_commands": (1.5, 8000), "speech_digits": (4.5, 4500)}
"""What ``clip_seconds`` and ``generated_clips`` 0 mean for each speech task."""


@dataclasses.dataclass(frozen=True)
class SpeechOptions:
    """The clips and spectrograms of the speech tasks, and their generated sets."""

    sample_rate: int = option_field(
        16000,
        "samples per second every clip is resampled to (the model's rate)",
        check=check_positive_int,
    )
    clip_seconds: float = option_field(
        0.0,
        "longest clip the model takes, in seconds (0: speech_commands 1.5, speech_digits 4.5); "
        "shorter clips are padded with silence, longer ones left out of training and refused "
        "by the SavedModel",
        check=check_finite_non_negative,
    )
    generated_clips: int = option_field(
        0,
        "training clips of a generated set (0: spoken_commands 8000, spoken_digits 4500); "
        "validation and each test split get an eighth as many",
        check=check_non_negative_int,
    )
    mel_bins: int = option_field(
        40, "mel bands of the log-mel spectrogram", check=check_positive_int
    )
    frequency_warp: float = option_field(
        0.2,
        "largest random scaling of a training spectrogram's frequencies, as said by a "
        "speaker with another vocal tract (0.2: by 0.8-1.2; 0: none)",
        check=check_warp,
    )
    spec_augment: bool = option_field(
        True, "mask random time and frequency stripes of training spectrograms (SpecAugment)"
    )

    def clip_samples(self) -> int:
        """Samples of the longest clip: ``clip_seconds`` (or the task's) times ``sample_rate``."""
        seconds = self.clip_seconds or SPEECH_DEFAULTS[self.task][0]
        return int(round(seconds * self.sample_rate))

    def training_clips(self) -> int:
        """``generated_clips``, or the task's number when 0."""
        return self.generated_clips or SPEECH_DEFAULTS[self.task][1]
