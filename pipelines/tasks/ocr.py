"""The ocr task of the train pipeline: text images -> CNN + bidirectional RNN + CTC -> SavedModel.

Data: generated noisy number plates offline (default; also ``text_lines``
and ``captchas``), rendered so that validation and test texts never occur
in training, with a second test split in font families never trained on
(``test_held_out_fonts``); a labels file of ``image<TAB>text`` lines or a
folder of images named by their text (captcha sets), split so no test text
is trained on; or a TFDS dataset with ``image`` and ``text`` features.
The alphabet is the training labels' characters (or ``alphabet``); labels
with others are refused, skipped or stripped (``unknown_characters``). The
reader (`models.ocr.text_reader`) trains on Keras's CTC loss; after every
epoch the validation character error rate is scored and a figure of
validation images with what was read is logged; the weights of the epoch
with the lowest validation CER are kept. Reported: CER and exact-text
accuracy of every test split.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

from common.validation import check_non_negative_int, check_positive_int
from pipelines.options import choice_parser, option_field
from pipelines.tasks.base import Task, TaskDefaults
from pipelines.tasks.shared_options import (
    BeamWidthOption,
    ConvBlockOptions,
    HeldOutTestOption,
    RecurrentCellOptions,
    StackedLayersOption,
)

if TYPE_CHECKING:
    import keras

    from data import DataLocations
    from data.ocr_text import TextImages
    from models.ocr import ConvStack
    from pipelines.config import TrainConfig
    from pipelines.tracking import TaskOutcome

UNKNOWN_CHARACTERS = ("error", "skip", "remove")  # data.ocr_splits's, without importing it
PRESET = {"filters": (16, 32, 64), "units": 128}
"""What the ocr task gives ``filters`` and ``units`` when they are left at their defaults."""
GENERATED_KINDS = {"plates": "plates", "text_lines": "lines", "captchas": "captchas"}
EVALUATION_SHARE = 8  # a generated set's validation and test splits: 1/8 of its training images


@dataclasses.dataclass(frozen=True)
class OcrOptions(
    ConvBlockOptions,
    RecurrentCellOptions,
    StackedLayersOption,
    BeamWidthOption,
    HeldOutTestOption,
):
    """The options of the ocr task (its recurrent layers are always bidirectional)."""

    image_height: int = option_field(
        32, "rows text images are resized to, aspect ratio kept", check=check_positive_int
    )
    width_pools: int = option_field(
        2, "conv blocks, from the first, that also halve the width", check=check_non_negative_int
    )
    generated_images: int = option_field(
        8000,
        "training images of a generated set (plates, text_lines, captchas); validation and "
        "test get an eighth as many",
        check=check_positive_int,
    )
    held_out_fonts: int = option_field(
        3,
        "font families a generated set renders only its test_held_out_fonts split in (0: none)",
        check=check_non_negative_int,
    )
    alphabet: str = option_field("", "characters the reader outputs (empty: the training labels')")
    unknown_characters: str = option_field(
        "error",
        "labels with characters outside the alphabet: error (names them), skip (drops those "
        "images) or remove (deletes those characters)",
        parse=choice_parser("unknown_characters", UNKNOWN_CHARACTERS),
    )


@dataclasses.dataclass(frozen=True)
class Decoding:
    """How a reader's columns become text, in evaluation and in the export.

    Attributes:
        strategy: ``"greedy"`` or ``"beam_search"`` (`models.ctc.ctc_decode`).
        beam_width: Paths beam search keeps (1 for greedy).
    """

    strategy: str
    beam_width: int


def evaluation_settings(config: TrainConfig) -> Decoding:
    """The config's `Decoding`: greedy for ``beam_width`` 1, else beam search."""
    strategy = "greedy" if config.beam_width == 1 else "beam_search"
    return Decoding(strategy, config.beam_width)


def conv_stack(config: TrainConfig) -> ConvStack:
    """The `models.ocr.ConvStack` of the config."""
    from models.ocr import ConvStack

    return ConvStack(
        config.filters, config.kernel_size, config.stride, config.padding, config.width_pools
    )


def preset(config: TrainConfig) -> dict:
    """Three conv blocks and 128 recurrent units, unless set: filters 16,32,64, units 128."""
    return dict(PRESET)


def check(config: TrainConfig) -> None:
    """The conv blocks leave a row of the image height; a valid alphabet; a gated or plain cell.

    Raises:
        ValueError: Naming the option and the fix.
    """
    conv_stack(config).rows(config.image_height)
    config.recurrent_spec(bidirectional=True)
    if len(set(config.alphabet)) != len(config.alphabet):
        repeated = sorted({c for c in config.alphabet if config.alphabet.count(c) > 1})
        raise ValueError(
            f"Invalid value for argument `alphabet`. Expected each character once; "
            f"{''.join(repeated)!r} repeat. Received alphabet={config.alphabet!r}."
        )


@dataclasses.dataclass(frozen=True)
class OcrData:
    """Text images ready to train on.

    Attributes:
        name: Dataset name, fit for folder and model names.
        splits: ``train``, ``validation``, ``test`` and, for generated sets,
            ``test_held_out_fonts``: `TextImages` at the configured height.
        alphabet: The reader's characters.
        dropped: Images dropped by ``unknown_characters=skip`` (or left empty by ``remove``).
    """

    name: str
    splits: dict[str, TextImages]
    alphabet: str
    dropped: int = 0


def _tfds_splits(name: str, config: TrainConfig, locations: DataLocations | None):
    """``(train, validation, test)`` of a TFDS dataset with ``image`` and ``text`` features."""
    from data.choice import tfds_examples, tfds_three_splits
    from data.ocr_splits import TFDS_IMAGE, TFDS_TEXT, tfds_text_images

    info, splits = tfds_examples(name, locations)
    missing = [key for key in (TFDS_IMAGE, TFDS_TEXT) if key not in info.features]
    if missing:
        raise ValueError(
            f"TFDS dataset {name!r} has no {missing} feature(s) (features: "
            f"{sorted(info.features.keys())}); the ocr task reads '{TFDS_IMAGE}' and '{TFDS_TEXT}'."
        )
    return tfds_three_splits(
        name,
        splits,
        lambda split: tfds_text_images(splits[split], config.image_height),
        config.validation_fraction,
    )


def _check_label_lengths(splits: dict, conv: ConvStack) -> None:
    """Every label fits its own image's columns (CTC: a column per character, plus repeats)."""
    from models.ctc import check_label_lengths

    for name, split in splits.items():
        for image, text in zip(split.images, split.texts, strict=True):
            width = image.shape[1]
            try:
                check_label_lengths([text], conv.columns(width), width)
            except ValueError as error:
                raise ValueError(f"The {name} split: {error}") from None


def load_data(config: TrainConfig, locations: DataLocations | None = None) -> OcrData:
    """The config's text images, split, checked against the alphabet and the reader's columns.

    Raises:
        ValueError: On a dataset of another task, characters outside the
            alphabet (``unknown_characters=error``), a label longer than its
            image's columns allow, or a split left empty.
        FileNotFoundError: If no font is installed for a generated set.
    """
    from data.choice import CATALOG, SPLIT_SEED, TFDS, choose_dataset, cut_to
    from data.ocr import generated_splits
    from data.ocr_folder import read_labels_file, read_named_images
    from data.ocr_splits import keep_known_characters, unseen_text_splits
    from data.ocr_text import alphabet_of
    from data.specs import HELD_OUT_FONTS, TEST, TEXT_RECOGNITION, TRAIN, VALIDATION

    choice = choose_dataset(
        config.dataset,
        TEXT_RECOGNITION,
        "a labels file (image<TAB>text lines) or a folder of images named by their text",
        folders=True,
    )
    held_out = None
    if choice.kind == CATALOG:
        evaluation = max(1, config.generated_images // EVALUATION_SHARE)
        generated = generated_splits(
            GENERATED_KINDS[choice.name],
            config.generated_images,
            evaluation,
            evaluation,
            seed=SPLIT_SEED,
            n_held_out_fonts=config.held_out_fonts,
            height=config.image_height,
        )
        train, validation, test = (generated[name] for name in (TRAIN, VALIDATION, TEST))
        held_out = generated.get(HELD_OUT_FONTS)
    elif choice.kind == TFDS:
        train, validation, test = _tfds_splits(choice.name, config, locations)
    else:
        full = (read_named_images if choice.path.is_dir() else read_labels_file)(
            choice.path, config.image_height
        )
        train, validation, test = unseen_text_splits(
            full, config.test_fraction, config.validation_fraction, SPLIT_SEED, str(choice.path)
        )
    train, test = cut_to(config.max_examples, train, test)
    splits = {TRAIN: train, VALIDATION: validation, TEST: test}
    if held_out is not None:
        splits[HELD_OUT_FONTS] = cut_to(config.max_examples, held_out)[0]
    alphabet = config.alphabet or alphabet_of(train.texts)
    splits, dropped = keep_known_characters(splits, alphabet, config.unknown_characters)
    empty = [name for name, split in splits.items() if not len(split)]
    if empty:
        raise ValueError(
            f"Split(s) {empty} of dataset {config.dataset!r} have no image left "
            f"(unknown_characters={config.unknown_characters!r} dropped {dropped}). Use more "
            "data or another alphabet."
        )
    _check_label_lengths(splits, conv_stack(config))
    return OcrData(choice.label, splits, alphabet, dropped)


def training_steps(config: TrainConfig, ocr: OcrData) -> int:
    """Optimizer steps of the planned epochs, which the learning rate decays over."""
    return config.epochs * math.ceil(len(ocr.splits["train"]) / config.batch_size)


def build_model(config: TrainConfig, ocr: OcrData) -> keras.Model:
    """The text reader (`models.ocr.text_reader`), compiled with Keras's CTC loss.

    Adam's learning rate decays to 0 along a cosine over the planned epochs
    (`training_steps`), so the last epochs refine the reader rather than
    move it between error patterns.
    """
    import keras

    from models.ocr import text_reader
    from pipelines.fitting import adam

    reader = text_reader(
        len(ocr.alphabet),
        config.image_height,
        conv_stack(config),
        config.recurrent_spec(bidirectional=True),
        name=f"{ocr.name}_bi{config.cell}_reader",
    )
    decay = keras.optimizers.schedules.CosineDecay(
        config.learning_rate, training_steps(config, ocr)
    )
    reader.compile(optimizer=adam(config, decay), loss=keras.losses.CTC())
    return reader


def _validation_score(reader, ocr: OcrData, beam_width: int):
    """``epoch -> {"val_cer", "val_exact_accuracy"}``, logging a figure of what was read."""
    import mlflow

    from pipelines.ocr_reading import reading_scores, samples_figure

    validation = ocr.splits["validation"]

    def score(epoch: int) -> dict[str, float]:
        metrics, read = reading_scores(reader, {"val": validation}, ocr.alphabet, beam_width)
        if mlflow.active_run():
            title = f"epoch {epoch + 1}: validation CER {metrics['val_cer']:.2%}"
            figure = samples_figure(validation, read["val"], title)
            mlflow.log_figure(figure, f"samples/epoch_{epoch + 1:03d}.png")
        return metrics

    return score


def train_reader(config: TrainConfig, locations: DataLocations | None = None) -> TaskOutcome:
    """Trains, evaluates and exports a text reader inside the active MLflow run.

    Logs per-epoch loss, validation CER and exact accuracy and a figure of
    validation images with what was read (``samples/epoch_NNN.png``), the
    training curves, and what `pipelines.ocr_outcome.finish_reader` logs.

    Returns:
        A `TaskOutcome` with ``test_cer`` and ``test_exact_accuracy`` (and
        ``test_held_out_fonts_*`` for a generated set).
    """
    import keras
    import mlflow

    from data.ocr_text import training_arrays
    from data.pipeline import array_batches
    from pipelines.best_epoch import BestEpoch
    from pipelines.fitting import fit
    from pipelines.ocr_outcome import finish_reader
    from pipelines.plots import training_curves_figure
    from pipelines.tracking import log_new_params

    ocr = load_data(config, locations)
    keras.utils.set_random_seed(config.seed)
    reader = build_model(config, ocr)
    decoding = evaluation_settings(config)
    best = BestEpoch(_validation_score(reader, ocr, decoding.beam_width), "val_cer", "min")
    history = fit(
        reader,
        array_batches(
            training_arrays(ocr.splits["train"], ocr.alphabet), config.batch_size, config.seed
        ),
        array_batches(training_arrays(ocr.splits["validation"], ocr.alphabet), config.batch_size),
        config,
        extra_callbacks=[best],
    )
    log_new_params({"best_epoch": best.best_epoch})
    mlflow.log_figure(training_curves_figure(history), "plots/training_curves.png")
    return finish_reader(reader, ocr, config)


TASK = Task(
    name="ocr",
    summary="text reader: our conv blocks -> bidirectional LSTM/GRU -> CTC, any image width",
    options=OcrOptions,
    defaults=TaskDefaults("plates", epochs=12, batch_size=64, learning_rate=2e-3),
    load_data=load_data,
    build_model=build_model,
    train=train_reader,
    check=check,
    preset=preset,
)
