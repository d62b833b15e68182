"""BestEpoch: per-epoch scores logged, the best epoch's weights restored."""

import keras
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from pipelines.best_epoch import BestEpoch


def _model():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    return model


@pytest.mark.parametrize(
    ("mode", "scores", "best_epoch"), [("min", [3, 1, 2, 1], 1), ("max", [3, 1, 5, 5], 2)]
)
def test_the_first_best_epoch_by_mode_is_restored(mode, scores, best_epoch):
    model = _model()
    callback = BestEpoch(lambda epoch: {"val_cer": scores[epoch], "other": 0.0}, "val_cer", mode)
    callback.set_model(model)
    snapshots = []
    for epoch in range(len(scores)):
        weights = [np.full_like(w, epoch) for w in model.get_weights()]
        model.set_weights(weights)
        snapshots.append(weights)
        callback.on_epoch_end(epoch)
    callback.on_train_end()
    assert (callback.best, callback.best_epoch) == (scores[best_epoch], best_epoch)
    for kept, expected in zip(model.get_weights(), snapshots[best_epoch], strict=True):
        np.testing.assert_array_equal(kept, expected)


def test_scores_are_logged_per_epoch_and_not_twice_after_a_resume(mlflow_store):
    import mlflow

    model = _model()
    with mlflow.start_run() as run:
        first = BestEpoch(lambda epoch: {"val_cer": 0.5 - epoch / 10}, "val_cer", "min")
        first.set_model(model)
        for epoch in range(2):
            first.on_epoch_end(epoch)
        resumed = BestEpoch(lambda epoch: {"val_cer": 9.0}, "val_cer", "min")  # reruns epoch 1
        resumed.set_model(model)
        for epoch in (1, 2):
            resumed.on_epoch_end(epoch)
    history = MlflowClient().get_metric_history(run.info.run_id, "val_cer")
    assert sorted((m.step, m.value) for m in history) == [(0, 0.5), (1, 0.4), (2, 9.0)]


def test_a_missing_monitor_or_bad_mode_is_named():
    with pytest.raises(ValueError, match="mode='best'"):
        BestEpoch(lambda epoch: {}, "val_cer", "best")
    callback = BestEpoch(lambda epoch: {"cer": 1.0}, "val_cer")
    callback.set_model(_model())
    with pytest.raises(KeyError, match="val_cer.*cer"):
        callback.on_epoch_end(0)
