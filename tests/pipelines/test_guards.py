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
        with pytest.raises(TrainingDivergedError, match="clipnorm is 2") as raised:
            fit(model, data, data, config, extra_callbacks=[PoisonWeights(2, 4)])
    folder = run_checkpoint_folder(config, run.info.run_id) / "train"
    assert f"checkpoint (epoch-0002.weights.h5) is kept in {folder}" in str(raised.value)
    assert sorted(p.name for p in folder.iterdir()) == ["epoch-0002.json", "epoch-0002.weights.h5"]
    good = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    good.compile(adam(config), "mse")
    from pipelines.checkpoints import EpochCheckpoint

    assert EpochCheckpoint(folder).restore(good)[0] == 2
    assert all(np.isfinite(w).all() for w in good.get_weights())
    steps = [m.step for m in mlflow.MlflowClient().get_metric_history(run.info.run_id, "loss")]
    assert steps == [0, 1]


def test_a_huge_learning_rate_ends_the_cli_run_failed_with_the_message(
    tmp_path, process_environment
):
    import subprocess
    import sys

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = process_environment(uri)
    completed = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "train", "--dataset", "digits"]
        + ["--learning_rate", "1e9", "--epochs", "3"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr
    message = completed.stderr.strip().splitlines()[-1]
    assert message.startswith("convseq train: training diverged: The training loss became nan")
    assert "at epoch 1, batch" in message and "now 1e+09" in message and "clipnorm" in message
    client = mlflow.MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("Default").experiment_id])
    assert run.info.status == "FAILED"
    reason = run.data.tags["failure_reason"]
    assert reason.startswith("TrainingDivergedError: The training loss became nan at epoch 1")
    assert "no checkpoint" in reason
    assert "test_accuracy" not in run.data.metrics and "export_path" not in run.data.tags
