import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from models.layers import Conv1D
from models.layers.echo_state import EchoState
from pipelines.config import TrainConfig
from pipelines.tasks.forecast import build_model, load_data, load_series
from pipelines.train import train
from tests.mlflow_artifacts import artifact_paths


def write_seasonal_csv(path, steps=240):
    t = np.arange(steps)
    level = 100 + 10 * np.sin(2 * np.pi * t / 12) + 0.05 * t
    rows = "\n".join(f"{i},{v:.4f},{i % 7}" for i, v in enumerate(level))
    path.write_text("day,sales,weekday\n" + rows + "\n")
    return path


def sales_config(tmp_path, **options):
    """The config of `train_on_sales`: window 12, horizon 3, 30 epochs, ``units`` 16 unless set."""
    return TrainConfig(
        task="forecast",
        dataset=str(tmp_path / "sales.csv"),
        time_column="day",
        columns="sales",
        window=12,
        horizon=3,
        epochs=30,
        learning_rate=1e-2,
        seed=2,
        export_dir=str(tmp_path / "exports"),
        **{"units": 16, **options},
    )


def train_on_sales(mlflow_store, tmp_path, **options):
    """Trains on a seasonal CSV with `sales_config` and ``options``; returns result and run.

    The run must finish and beat the naive forecast by far.
    """
    write_seasonal_csv(tmp_path / "sales.csv")
    result = train(sales_config(tmp_path, **options))
    run = MlflowClient(mlflow_store).get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics["test_mase"] < 0.5  # a clean sine: the naive forecast lags it
    return result, run


def test_forecaster_beats_naive_and_serves_raw_windows(
    mlflow_store, tmp_path, serve_in_fresh_process
):
    result, run = train_on_sales(mlflow_store, tmp_path)
    metrics = run.data.metrics
    assert metrics["test_mase"] == pytest.approx(metrics["test_mae"] / metrics["naive_mae"])
    assert metrics["test_rmse"] >= metrics["test_mae"]
    assert "plots/forecast.png" in artifact_paths(MlflowClient(mlflow_store), result.run_id)
    assert run.data.params["target_column"] == "sales"
    assert "seasonal_naive_mae" not in metrics  # a CSV series has no known season
    # better than naive on validation too: the trained model is kept and exported
    assert metrics["validation_mae"] < 0.5 * metrics["validation_naive_mae"]
    assert (run.data.tags["forecaster"], metrics["naive_fallback"]) == ("model", 0.0)

    # Raw windows in, forecasts in the series' units out, at two phases of the cycle.
    def level(t):
        return 100 + 10 * np.sin(2 * np.pi * t / 12)

    starts = np.array([0, 3])
    windows = np.stack([level(np.arange(s, s + 12)) for s in starts])[..., np.newaxis]
    served = serve_in_fresh_process(
        result.export_path, windows.astype(np.float32), signature_input="windows"
    )
    assert served["forecast"].shape == (2, 3)
    expected = np.stack([level(np.arange(s + 12, s + 15)) for s in starts])
    np.testing.assert_allclose(served["forecast"], expected, atol=2.5)


def test_catalog_series_and_their_defaults():
    name, series, season = load_series(TrainConfig(task="forecast", dataset="co2"))
    assert (name, series.columns, season) == ("co2", ("co2",), 52)
    _, stocks, _ = load_series(TrainConfig(task="forecast", dataset="stocks", columns="MSFT,IBM"))
    assert stocks.columns == ("MSFT", "IBM")


def test_bad_series_inputs_are_named(tmp_path, mlflow_store):
    path = write_seasonal_csv(tmp_path / "sales.csv", steps=20)
    with pytest.raises(ValueError, match="needs time_column="):
        load_series(TrainConfig(task="forecast", dataset=str(path)))
    with pytest.raises(ValueError, match=r"no column 'price'; its header is \['day', 'sales'"):
        load_series(
            TrainConfig(task="forecast", dataset=str(path), time_column="day", columns="price")
        )
    with pytest.raises(ValueError, match=r"has 20 steps, fewer than window \+ horizon = 24 \+ 1"):
        train(TrainConfig(task="forecast", dataset=str(path), time_column="day", columns="sales"))
    client = MlflowClient(mlflow_store)
    failed = client.search_runs([client.get_experiment_by_name("test").experiment_id])[0]
    assert failed.info.status == "FAILED"
    assert "fewer than window + horizon" in failed.data.tags["failure_reason"]
    with pytest.raises(ValueError, match="not TFDS"):
        load_series(TrainConfig(task="forecast", dataset="tfds:sunspots"))


def test_co2_reports_the_seasonal_naive_baseline(mlflow_store, tmp_path):
    config = TrainConfig(
        task="forecast",
        dataset="co2",
        window=8,
        units=4,
        epochs=1,
        batch_size=256,
        export_dir=str(tmp_path / "exports"),
    )
    metrics = train(config).test_metrics
    # a year-old value misses the year's trend: worse than last week's value
    assert metrics["seasonal_naive_mae"] > metrics["naive_mae"] > 0
    assert 1.0 < metrics["seasonal_naive_mae"] < 3.0  # ppm


@pytest.mark.slow  # make test-slow: keeps make test under 15 minutes on 2 cores
def test_forecaster_trains_with_a_causal_conv_front(mlflow_store, tmp_path):
    # train_on_sales holds it to the floor of the conv-free run: MASE < 0.5
    result, run = train_on_sales(mlflow_store, tmp_path, conv_filters=8, conv_kernel_size=4)
    assert (run.data.params["conv_filters"], run.data.params["conv_kernel_size"]) == ("8", "4")
    logged = mlflow.keras.load_model(f"runs:/{result.run_id}/model")
    (conv,) = [layer for layer in logged.layers if isinstance(layer, Conv1D)]
    # the change of one column in, 8 filters of 4 steps, the window's 12 steps kept
    assert (conv.padding, conv.kernel.shape, conv.output.shape) == (
        "causal",
        (4, 1, 8),
        (None, 12, 8),
    )
    assert result.export_path == tmp_path / "exports" / "sales_conv_lstm_forecaster" / "1"


def test_cell_esn_builds_a_fixed_reservoir_of_units_seeded_by_seed():
    config = TrainConfig(task="forecast", cell="esn", units=40, seed=3)
    model = build_model(config, load_data(config))
    assert model.name == "sunspots_esn_forecaster"
    reservoir = model.get_layer("echo_state")
    assert isinstance(reservoir, EchoState)
    assert (reservoir.cell.units, reservoir.cell.seed) == (40, 3)
    assert [w.path for w in model.trainable_weights] == [
        w.path for w in model.get_layer("normalized_forecast").weights
    ]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("layers", 2),
        ("bidirectional", True),
        ("dropout", 0.1),
        ("recurrent_dropout", 0.1),
        ("l1", 0.01),
        ("l2", 0.01),
    ],
)
def test_cell_esn_refuses_options_of_a_trained_stack(option, value):
    with pytest.raises(ValueError, match=rf"`{option}`\. cell=esn .* Received {option}="):
        TrainConfig(task="forecast", cell="esn", **{option: value})


def test_other_tasks_refuse_cell_esn():
    config = TrainConfig(task="tagging", cell="esn")
    with pytest.raises(ValueError, match="esn .* is a forecast option; task tagging takes one of"):
        config.recurrent_spec()


@pytest.mark.slow
def test_cell_esn_trains_its_readout_only_and_beats_naive(mlflow_store, tmp_path):
    # 64 reservoir units: with train_on_sales's 16 the linear readout does not beat naive by far
    result, run = train_on_sales(mlflow_store, tmp_path, cell="esn", units=64)
    assert run.data.tags["forecaster"] == "model"
    logged = mlflow.keras.load_model(f"runs:/{result.run_id}/model")
    config = sales_config(tmp_path, cell="esn", units=64)
    untrained = build_model(config, load_data(config))
    for name in ("echo_state", "normalized_forecast"):
        trained_weights = logged.get_layer(name).get_weights()
        fresh_weights = untrained.get_layer(name).get_weights()
        same = all(np.array_equal(a, b) for a, b in zip(trained_weights, fresh_weights))
        assert same == (name == "echo_state"), name  # the reservoir as drawn, the readout moved
    assert result.export_path == tmp_path / "exports" / "sales_esn_forecaster" / "1"
