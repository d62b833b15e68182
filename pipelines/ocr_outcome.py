"""The end of an ocr run, trained or tuned: evaluate the reader, log it, export it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

    from pipelines.config import TrainConfig
    from pipelines.tasks.ocr import OcrData
    from pipelines.tracking import TaskOutcome


def finish_reader(reader: keras.Model, ocr: OcrData, config: TrainConfig) -> TaskOutcome:
    """Evaluates, exports and logs a trained reader in the active MLflow run.

    Logs the reader's size and the data's (``model_parameters``,
    ``alphabet_size``, ``<split>_images``, ``dropped_images``), the
    alphabet (``alphabet.txt``), test CER and exact accuracy of every test
    split with a figure of test images (``plots/test_samples.png``), and
    the SavedModel (`pipelines.export_ocr`: raw or encoded images of any
    size in, text and confidence out).

    Returns:
        A `TaskOutcome` with the test metrics.
    """
    import mlflow
    import numpy as np

    from pipelines.export_ocr import export_text_reader
    from pipelines.ocr_reading import reading_scores, samples_figure
    from pipelines.tasks.ocr import evaluation_settings
    from pipelines.tracking import TaskOutcome, log_export, log_new_params

    splits, alphabet = ocr.splits, ocr.alphabet
    decoding = evaluation_settings(config)
    log_new_params(
        {
            "model_parameters": reader.count_params(),
            "alphabet_size": len(alphabet),
            **{f"{name}_images": len(split) for name, split in splits.items()},
            "dropped_images": ocr.dropped,
        }
    )
    mlflow.log_text(alphabet, "alphabet.txt")
    tests = {name: split for name, split in splits.items() if name.startswith("test")}
    test_metrics, read = reading_scores(reader, tests, alphabet, decoding.beam_width)
    mlflow.log_metrics(test_metrics)
    figure = samples_figure(splits["test"], read["test"], "test images and what was read")
    mlflow.log_figure(figure, "plots/test_samples.png")
    export_path = export_text_reader(
        reader,
        alphabet,
        config.export_dir,
        reader.name,
        strategy=decoding.strategy,
        beam_width=decoding.beam_width,
    )
    example = np.asarray(splits["test"].images[0])[np.newaxis, ..., np.newaxis]
    log_export(export_path, example, registered_model_name=config.registered_model_name)
    return TaskOutcome(export_path, test_metrics)
