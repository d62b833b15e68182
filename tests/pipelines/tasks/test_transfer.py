import json
import time
from pathlib import Path

import mlflow
import numpy as np
import pytest
import tensorflow as tf
from mlflow.tracking import MlflowClient

from data import DataLocations
from models import pretrained
from models.pretrained import WeightsUnavailableError
from pipelines.config import TrainConfig
from pipelines.train import train


@pytest.mark.slow  # make test-slow: keeps make test under 15 minutes on 2 cores
def test_transfer_logs_both_phases_and_serves_any_image_size(
    mlflow_store, tmp_path, serve_in_fresh_process
):
    config = TrainConfig(
        task="transfer",
        dataset="digits",
        image_size=32,
        epochs=2,
        batch_size=32,
        learning_rate=1e-3,
        fine_tune_blocks=1,
        fine_tune_epochs=1,
        max_examples=300,
        export_dir=str(tmp_path / "exports"),
    )
    result = train(config, DataLocations(keras_home=tmp_path / "keras"))
    client = MlflowClient(mlflow_store)
    run = client.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["head_frozen_layers"] == "13"  # every VGG16 conv
    assert params["fine_tune_frozen_layers"] == "10"  # block5's three convs train
    assert params["fine_tune_start_epoch"] == "2"
    steps = [m.step for m in client.get_metric_history(result.run_id, "val_accuracy")]
    assert steps == [0, 1, 2]  # two head epochs, then one fine-tuning epoch
    local = Path(mlflow.artifacts.download_artifacts(run_id=result.run_id))
    head = json.loads((local / "frozen_layers" / "head.json").read_text())
    fine = json.loads((local / "frozen_layers" / "fine_tune.json").read_text())
    assert "block5_conv3" in head["frozen_layers"]
    assert "block5_conv3" not in fine["frozen_layers"] and "block4_conv3" in fine["frozen_layers"]
    assert result.export_path.parent.name == "digits_transfer"

    logged = mlflow.keras.load_model(f"runs:/{result.run_id}/model")
    images = np.random.default_rng(0).integers(0, 256, size=(3, 20, 20, 1), dtype=np.uint8)
    served = serve_in_fresh_process(result.export_path, images, signature_input="images")
    np.testing.assert_allclose(
        served["probabilities"], logged.predict(images, verbose=0), atol=1e-5
    )


def test_classify_an_image_folder(mlflow_store, tmp_path):
    root = tmp_path / "shapes"
    for label, name in enumerate(("dark", "light")):
        (root / name).mkdir(parents=True)
        for index in range(8):
            image = np.full((10 + index, 12, 3), 30 + 180 * label, np.uint8)
            (root / name / f"{index}.png").write_bytes(tf.io.encode_png(image).numpy())
    config = TrainConfig(
        data_dir=str(root),
        image_size=16,
        epochs=1,
        batch_size=4,
        filters="4",
        export_dir=str(tmp_path / "exports"),
        validation_fraction=0.25,
    )
    result = train(config)
    run = MlflowClient(mlflow_store).get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert int(run.data.params["test_examples"]) == 3  # 20% of 16, drawn with the seed
    assert result.export_path.parent.name == "shapes_cnn"


def test_offline_imagenet_base_fails_fast_and_the_run_is_failed(
    mlflow_store, tmp_path, monkeypatch
):
    monkeypatch.setattr(pretrained, "host_reachable", lambda host: False)
    config = TrainConfig(
        task="transfer",
        dataset="digits",
        base_weights="imagenet",
        max_examples=100,
        export_dir=str(tmp_path),
    )
    start = time.monotonic()
    with pytest.raises(WeightsUnavailableError, match="vgg16_weights_tf_dim_ordering"):
        train(config, DataLocations(keras_home=tmp_path / "kh"))
    assert time.monotonic() - start < 30  # data loading included; the check itself is instant
    runs = MlflowClient(mlflow_store).search_runs(
        [mlflow.get_experiment_by_name("test").experiment_id]
    )
    assert runs[0].info.status == "FAILED"
    assert str(tmp_path / "kh" / "models") in runs[0].data.tags["failure_reason"]
