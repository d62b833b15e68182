"""What a search of the ocr task's reader needs: hypermodel, data, objective, finish.

Each trial trains a `TextReaderHyperModel` (filter size, stride and filters
of the conv blocks, recurrent width, learning rate) on the task's training
images and is scored after every epoch by `ReadingScores`: the validation
images read one width at a time, as the SavedModel reads them
(``val_cer``, the default objective, minimized; ``val_exact_accuracy``).
The best trial's reader is then evaluated on every test split, logged and
exported as the ``train`` task does (`pipelines.ocr_outcome.finish_reader`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras

if TYPE_CHECKING:
    from data import DataLocations
    from data.ocr_text import TextImages
    from pipelines.tune_config import TuneConfig
    from pipelines.tune_summary import SearchTask


class ReadingScores(keras.callbacks.Callback):
    """Adds ``val_cer`` and ``val_exact_accuracy`` to each epoch's logs.

    Args:
        validation: The validation images and texts.
        alphabet: The reader's characters.
        beam_width: 1 decodes greedily; more, by beam search.
    """

    def __init__(self, validation: TextImages, alphabet: str, beam_width: int = 1):
        super().__init__()
        self.validation, self.alphabet, self.beam_width = validation, alphabet, beam_width

    def on_epoch_end(self, epoch, logs=None):
        from pipelines.ocr_reading import reading_scores

        scores, _ = reading_scores(
            self.model, {"val": self.validation}, self.alphabet, self.beam_width
        )
        if logs is not None:
            logs.update(scores)


def columns_needed_by_width(splits) -> dict[int, int]:
    """Image width -> the most CTC columns a label of an image that wide needs, over all splits."""
    from models.ctc import columns_needed

    needed: dict[int, int] = {}
    for split in splits.values():
        for image, text in zip(split.images, split.texts, strict=True):
            width = image.shape[1]
            needed[width] = max(needed.get(width, 0), columns_needed(text))
    return needed


def ocr_tuning_task(config: TuneConfig, locations: DataLocations | None = None) -> SearchTask:
    """The `SearchTask` of a ``task=ocr`` tuning config."""
    from data.ocr_text import training_arrays
    from data.pipeline import array_batches
    from models.hypermodels import TextReaderHyperModel
    from pipelines.ocr_outcome import finish_reader
    from pipelines.tasks.ocr import evaluation_settings, load_data, training_steps
    from pipelines.tune_summary import SearchTask

    train_config = config.train_config()
    ocr = load_data(train_config, locations)
    hypermodel = TextReaderHyperModel(
        len(ocr.alphabet),
        config.image_height,
        columns_needed_by_width(ocr.splits),
        padding=config.padding,
        width_pools=config.width_pools,
        recurrent=config.recurrent_spec(bidirectional=True),
        clipnorm=config.clipnorm,
        clipvalue=config.clipvalue,
        decay_steps=training_steps(train_config, ocr),
        name=f"{ocr.name}_bi{config.cell}_reader_tuned",
        **config.search_space(),
    )
    train = training_arrays(ocr.splits["train"], ocr.alphabet)
    validation = training_arrays(ocr.splits["validation"], ocr.alphabet)
    return SearchTask(
        hypermodel,
        array_batches(train, config.batch_size, config.seed),
        array_batches(validation, config.batch_size),
        lambda reader: finish_reader(reader, ocr, train_config),
        ("kernel_size", "stride", "units"),
        callbacks=(
            ReadingScores(
                ocr.splits["validation"], ocr.alphabet, evaluation_settings(config).beam_width
            ),
        ),
    )
