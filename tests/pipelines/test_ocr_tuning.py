"""Tuning the ocr task: the reader's conv stack and recurrent width, trials scored by CER."""

import mlflow
import numpy as np
import pytest
import tensorflow as tf

from models.hypermodels import TextReaderHyperModel
from pipelines.metrics import text_recognition_scores
from pipelines.ocr_tuning import columns_needed_by_width
from pipelines.tasks.ocr import load_data
from pipelines.trial_runs import SKIPPED_TAG, TrialRuns
from pipelines.tune import tune
from pipelines.tune_config import TuneConfig

# Two conv blocks, both pooling the width: a plate ~110 px wide keeps ~27 columns
# at stride 1, but 110 -> 55 -> 27 -> 14 -> 7 at stride 2, too few for its 7 or 8
# characters, so the search meets trials it must skip. (Padding p=1 sizes a 3x3 conv
# as "same" does, and, unlike "same", also takes stride 2.)
PLATES_SEARCH = dict(
    task="ocr",
    generated_images=240,
    held_out_fonts=1,
    epochs=2,
    batch_size=32,
    filters="4,8",
    padding="1",
    units=8,
    kernel_sizes="3",
    strides="1,2",
    filter_choices="4,8",
    units_choices="8,16",
    max_trials=4,
    seed=1,
)


def test_ocr_search_scores_trials_by_validation_cer_and_skips_strides_too_coarse(
    mlflow_store, tmp_path
):
    config = TuneConfig(
        **PLATES_SEARCH,
        directory=str(tmp_path / "tuning"),
        export_dir=str(tmp_path / "exports"),
    )
    assert (config.objective, config.objective_direction) == ("val_cer", "min")
    result = tune(config)
    children = TrialRuns(result.run_id, mlflow_store).children()
    assert len(children) == 4
    default = children[0].data.params
    assert (default["kernel_size"], default["stride"], default["units"]) == ("3", "1", "8")
    assert (default["block1_filters"], default["block2_filters"]) == ("4", "8")
    skipped = [run for run in children if run.data.tags.get(SKIPPED_TAG)]
    finished = [run for run in children if run.info.status == "FINISHED"]
    assert skipped and len(skipped) + len(finished) == 4
    for run in skipped:
        assert run.data.params["stride"] == "2"
        assert "columns of an image" in run.data.tags["failure_reason"]
    for run in finished:  # every epoch scored by reading the validation images
        assert run.data.params["stride"] == "1"
        history = mlflow.MlflowClient().get_metric_history(run.info.run_id, "val_cer")
        assert len(history) == 2 and all(point.value >= 0 for point in history)
    assert result.best_score == pytest.approx(min(run.data.metrics["score"] for run in finished))
    assert {"test_cer", "test_held_out_fonts_cer"} <= set(result.test_metrics)

    # The best reader's export reads the test images as the logged test CER says.
    splits = load_data(config.train_config()).splits
    test = splits["test"]
    loaded = tf.saved_model.load(str(result.export_path))
    read = [
        loaded.serve(tf.constant(image[None, ..., None]))["text"][0].numpy().decode()
        for image in test.images
    ]
    scores = text_recognition_scores(read, test.texts)
    assert scores["cer"] == pytest.approx(result.test_metrics["test_cer"], abs=1e-9)


def test_columns_needed_by_width_keeps_the_longest_label_of_each_width():
    from data.ocr_text import TextImages

    first = TextImages((np.zeros((8, 20), np.uint8),) * 3, ("ab", "aab", "x"))
    second = TextImages((np.zeros((8, 30), np.uint8),), ("hello",), ("",))
    assert columns_needed_by_width({"train": first, "test": second}) == {20: 4, 30: 6}


def test_ocr_search_options_of_other_tasks_and_objectives_are_refused():
    with pytest.raises(ValueError, match="Task ocr trials report val_cer"):
        TuneConfig(task="ocr", objective="val_accuracy")
    with pytest.raises(ValueError, match="searched for task search"):
        TuneConfig(task="ocr", margins="0.3")
    with pytest.raises(ValueError, match="`paddings` is searched for task classify, not"):
        TuneConfig(task="ocr", paddings="same")
    with pytest.raises(ValueError, match="Received strides=.*0, 1"):
        tune_strides_with_zero = TuneConfig(task="ocr", strides="0,1")
        TextReaderHyperModel(40, 32, {100: 8}, **tune_strides_with_zero.search_space())
    assert TuneConfig(task="ocr", units_choices="16,32").search_space()["units"] == (16, 32, 128)
