"""The NaN guard: a loss that stops being finite ends training with the epoch and batch."""

import keras
import mlflow
import numpy as np
import pytest
import tensorflow as tf

from pipelines.config import TrainConfig
from pipelines.fitting import adam, fit, run_checkpoint_folder
from pipelines.guards import StopOnNonFiniteLoss, TrainingDivergedError


class PoisonWeights(keras.callbacks.Callback):
    """Sets the first kernel to NaN after (epoch, batch): the next batch's loss is NaN."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            kernel = self.model.layers[0].kernel
            kernel.assign(np.full(kernel.shape, np.nan, "float32"))


def _setup():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(128, 4)).astype("float32")
    data = tf.data.Dataset.from_tensor_slices((x, x[:, :1])).batch(16)  # 8 batches
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    return model, data


def test_the_guard_names_epoch_batch_and_remedies():
    model, data = _setup()
    model.compile(keras.optimizers.SGD(0.01), "mse")
    with pytest.raises(TrainingDivergedError) as raised:
        model.fit(
            data,
            epochs=3,
            verbose=0,
            shuffle=False,
            callbacks=[PoisonWeights(1, 1), StopOnNonFiniteLoss(learning_rate=0.01)],
        )
    error = raised.value
    assert (error.epoch, error.batch) == (1, 2) and np.isnan(error.loss)
    message = str(error)
    assert "epoch 2, batch 3" in message
    assert "now 0.01" in message and "clipnorm=1.0" in message
    assert int(model.optimizer.iterations) == 8 + 3  # stopped at once, not at epoch end


def test_fit_keeps_the_last_good_checkpoint_when_the_loss_diverges(mlflow_store):
    model, data = _setup()
    config = TrainConfig(task="forecast", epochs=4, learning_rate=0.01, clipnorm=2.0)
    model.compile(adam(config), "mse")
    with mlflow.start_run() as run:
        with pytest.raises(TrainingDivergedError, match="clipnorm is 2"):
            fit(model, data, data, config, extra_callbacks=[PoisonWeights(2, 4)])
    folder = run_checkpoint_folder(config, run.info.run_id) / "train"
    assert sorted(p.name for p in folder.iterdir()) == ["epoch-0002.json", "epoch-0002.weights.h5"]
    good = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    good.compile(adam(config), "mse")
    from pipelines.checkpoints import EpochCheckpoint

    assert EpochCheckpoint(folder).restore(good)[0] == 2
    assert all(np.isfinite(w).all() for w in good.get_weights())
    steps = [m.step for m in mlflow.MlflowClient().get_metric_history(run.info.run_id, "loss")]
    assert steps == [0, 1]
