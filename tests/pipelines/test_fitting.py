import keras
import mlflow
import numpy as np
import pytest
import tensorflow as tf

from pipelines.config import TrainConfig
from pipelines.fitting import adam, callbacks, fit


def test_optimizer_carries_rate_and_clipping():
    optimizer = adam(TrainConfig(task="sentiment", learning_rate=0.01, clipnorm=2.0))
    assert float(optimizer.learning_rate) == pytest.approx(0.01) and optimizer.clipnorm == 2.0
    assert adam(TrainConfig(clipvalue=0.5), learning_rate=1e-4).clipvalue == 0.5


def test_early_stopping_stops_and_restores_the_best_weights(mlflow_store):
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(256, 4)).astype("float32")
    # validation wants the opposite of training: val_loss rises once training learns
    train = tf.data.Dataset.from_tensor_slices((x, x)).batch(32)
    validation = tf.data.Dataset.from_tensor_slices((x, -x)).batch(256)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
    config = TrainConfig(task="forecast", epochs=30, early_stopping_patience=2, learning_rate=0.05)
    model.compile(optimizer=adam(config), loss="mse")
    assert [type(c).__name__ for c in callbacks(config)] == [
        "MlflowMetricsCallback",
        "EarlyStopping",
    ]
    with mlflow.start_run():
        history = fit(model, train, validation, config)
    best = int(np.argmin(history["val_loss"]))
    assert len(history["val_loss"]) == best + 1 + 2 < 30
    restored = model.evaluate(validation, verbose=0)
    assert restored == pytest.approx(history["val_loss"][best], rel=1e-5)
    assert [type(c).__name__ for c in callbacks(TrainConfig())] == ["MlflowMetricsCallback"]
