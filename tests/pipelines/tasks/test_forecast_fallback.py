"""The forecast task falls back to naive, logs why, and exports the naive forecast."""

import numpy as np
import pytest
import tensorflow as tf
from mlflow.tracking import MlflowClient

from pipelines.config import TrainConfig
from pipelines.train import train


def regime_change_csv(path):
    """A zigzag (train block), flat at 5 (validation), then a ramp (test): 200 steps.

    On the flat validation block the naive forecast is exact (MAE 0), so no
    trained model can beat it there.
    """
    t = np.arange(200)
    values = np.where(t < 150, 10.0 * (t % 2), 5.0)
    values = np.where(t >= 180, 5.0 + 0.5 * (t - 179), values)
    path.write_text("step,y\n" + "\n".join(f"{i},{v}" for i, v in zip(t, values)) + "\n")
    return path


def test_a_forecaster_worse_than_naive_on_validation_falls_back_and_exports_naive(
    mlflow_store, tmp_path
):
    config = TrainConfig(
        task="forecast",
        dataset=str(regime_change_csv(tmp_path / "regimes.csv")),
        time_column="step",
        window=6,
        units=4,
        epochs=2,
        learning_rate=1e-2,
        export_dir=str(tmp_path / "exports"),
    )
    result = train(config)
    run = MlflowClient(mlflow_store).get_run(result.run_id)
    metrics = run.data.metrics
    assert run.data.tags["forecaster"] == "naive_fallback"
    assert metrics["naive_fallback"] == 1.0 == result.test_metrics["naive_fallback"]
    assert metrics["validation_naive_mae"] == 0.0 < metrics["validation_mae"]
    assert metrics["validation_dm"] < 0
    # the test tail is a ramp of 0.5 a step: the fallback's error is the naive one exactly
    assert metrics["test_mae"] == metrics["naive_mae"] == pytest.approx(0.5, abs=0.05)
    assert metrics["test_mase"] == 1.0
    windows = np.random.default_rng(0).normal(30.0, 10.0, size=(5, 6, 1)).astype("float32")
    loaded = tf.saved_model.load(str(result.export_path))  # kept: serve reads its variables
    served = loaded.serve(tf.constant(windows))
    np.testing.assert_array_equal(served["forecast"].numpy(), windows[:, -1, :])
