from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from data import load_dataset
from data.specs import TEST
from pipelines import image_classifier
from pipelines.config import TrainConfig
from pipelines.train import train
from tests.mlflow_artifacts import artifact_paths

EPOCHS = 4


@pytest.fixture
def digits_config(tmp_path):
    return TrainConfig(
        dataset="digits",
        epochs=EPOCHS,
        batch_size=32,
        learning_rate=3e-3,
        filters="16,32",
        kernel_size=3,
        stride=1,
        padding="same",
        seed=1,
        export_dir=str(tmp_path / "exports"),
    )


def test_train_logs_everything_and_exports_a_servable_model(
    mlflow_store, digits_config, serve_in_fresh_process
):
    result = train(digits_config)
    client = MlflowClient(mlflow_store)
    run = client.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert result.tracking_uri == mlflow_store

    # Parameters: the whole config plus what the run derived.
    params = run.data.params
    for name, value in digits_config.as_params().items():
        assert params[name] == value
    assert int(params["train_examples"]) + int(params["validation_examples"]) == 1438
    assert int(params["test_examples"]) == 359
    assert int(params["model_parameters"]) > 0

    # One metric value per epoch, train and validation.
    for metric in ("loss", "accuracy", "val_loss", "val_accuracy"):
        history = client.get_metric_history(result.run_id, metric)
        assert [m.step for m in history] == list(range(EPOCHS)), metric
    losses = [m.value for m in client.get_metric_history(result.run_id, "loss")]
    assert losses[-1] < losses[0]

    # Test metrics on real data, above a floor.
    assert run.data.metrics["test_accuracy"] >= 0.85
    assert run.data.metrics["test_accuracy"] == pytest.approx(result.test_metrics["test_accuracy"])
    assert 0 < run.data.metrics["test_loss"] < 1.0

    tags = run.data.tags
    assert tags["tensorflow_version"] and tags["keras_version"] and tags["device"]
    assert tags["export_path"] == str(result.export_path.resolve())

    artifacts = artifact_paths(client, result.run_id)
    assert "plots/training_curves.png" in artifacts
    assert "plots/confusion_matrix.png" in artifacts
    assert "saved_model/saved_model.pb" in artifacts
    for png in ("plots/training_curves.png", "plots/confusion_matrix.png"):
        local = mlflow.artifacts.download_artifacts(run_id=result.run_id, artifact_path=png)
        assert Path(local).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # The logged Keras model has a uint8 signature and predicts like the export.
    model_info = mlflow.models.get_model_info(f"runs:/{result.run_id}/model")
    assert model_info.signature.inputs.inputs[0].type == np.dtype("uint8")
    logged = mlflow.keras.load_model(f"runs:/{result.run_id}/model")
    _, splits = load_dataset("digits")
    images = splits[TEST].images[:64]
    expected = logged.predict(images, verbose=0)
    served = serve_in_fresh_process(result.export_path, images, signature_input="images")
    np.testing.assert_allclose(served["probabilities"], expected, atol=1e-5)
    accuracy = np.mean(served["class_id"] == splits[TEST].labels[:64])
    assert accuracy >= 0.8


def test_params_already_logged_by_mlflow_run_are_not_logged_again(
    mlflow_store, digits_config, monkeypatch
):
    # `mlflow run` starts the run, logs the MLproject parameters in its own
    # spelling, and hands the run over through MLFLOW_RUN_ID.
    config = TrainConfig(**{**digits_config.__dict__, "epochs": 1, "max_examples": 200})
    with mlflow.start_run() as started:
        mlflow.log_params({"learning_rate": "3e-3", "epochs": "1"})
    monkeypatch.setenv("MLFLOW_RUN_ID", started.info.run_id)
    result = train(config)
    assert result.run_id == started.info.run_id
    run = MlflowClient(mlflow_store).get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["learning_rate"] == "3e-3"
    assert run.data.params["batch_size"] == "32"


def test_a_failing_run_ends_failed_with_the_reason(mlflow_store, digits_config, monkeypatch):
    def broken_export(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(image_classifier, "export_image_classifier", broken_export)
    config = TrainConfig(**{**digits_config.__dict__, "epochs": 1, "max_examples": 200})
    with pytest.raises(OSError, match="No space left"):
        train(config)
    runs = MlflowClient(mlflow_store).search_runs(
        [mlflow.get_experiment_by_name("test").experiment_id]
    )
    assert [r.info.status for r in runs] == ["FAILED"]
    assert runs[0].data.tags["failure_reason"] == "OSError: No space left on device"
    assert mlflow.active_run() is None


def test_geometry_that_does_not_fit_the_dataset_fails_the_run_clearly(mlflow_store, tmp_path):
    config = TrainConfig(
        dataset="digits", filters="8,8,8", kernel_size=3, padding="valid", export_dir=str(tmp_path)
    )
    with pytest.raises(ValueError, match=r"block2_pool .*floor\(\(1 \+ 2\*0 - 2\) / 2\) \+ 1 = 0"):
        train(config)


def test_gradient_clipping_reaches_the_optimizer():
    from pipelines.tasks.classify import build_model, load_data

    data = load_data(TrainConfig(dataset="digits"))  # bundled with scikit-learn: no download
    by_norm = build_model(TrainConfig(dataset="digits", clipnorm=1.0), data)
    assert by_norm.optimizer.clipnorm == 1.0 and by_norm.optimizer.clipvalue is None
    by_value = build_model(TrainConfig(dataset="digits", clipvalue=0.5), data)
    assert by_value.optimizer.clipvalue == 0.5 and by_value.optimizer.clipnorm is None
    plain = build_model(TrainConfig(dataset="digits"), data)
    assert plain.optimizer.clipnorm is None and plain.optimizer.clipvalue is None
    with pytest.raises(ValueError, match="Received clipnorm=-1.0"):
        TrainConfig(clipnorm=-1.0)
    with pytest.raises(ValueError, match="at most one of `clipnorm` and `clipvalue`"):
        TrainConfig(clipnorm=1.0, clipvalue=0.5)
