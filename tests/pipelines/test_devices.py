"""Device, strategy, precision and batch decisions (the GPU path, decided on any machine)."""

import keras
import mlflow
import numpy as np
import pytest
import tensorflow as tf

from pipelines.config import TrainConfig
from pipelines.devices import DevicePlan, DeviceUnavailableError, applied, plan_devices
from pipelines.train import train


@pytest.mark.parametrize(
    ("gpus", "device", "precision", "expected"),
    [
        (0, "auto", "auto", ("cpu", 0, "default", "float32", 1, 64)),
        (1, "auto", "auto", ("gpu", 1, "default", "mixed_float16", 1, 64)),
        (1, "auto", "float32", ("gpu", 1, "default", "float32", 1, 64)),
        (4, "auto", "auto", ("gpu", 4, "mirrored", "mixed_float16", 4, 256)),
        (2, "gpu", "float32", ("gpu", 2, "mirrored", "float32", 2, 128)),
        (2, "cpu", "auto", ("cpu", 0, "default", "float32", 1, 64)),
        (0, "cpu", "mixed_float16", ("cpu", 0, "default", "mixed_float16", 1, 64)),
    ],
)
def test_the_plan_follows_the_gpus_and_the_options(gpus, device, precision, expected):
    plan = plan_devices(gpus, device=device, precision=precision, batch_size=64)
    got = (plan.device, plan.gpus, plan.strategy, plan.precision)
    assert got + (plan.replicas, plan.global_batch_size) == expected
    assert plan.tags() == {
        "precision_policy": expected[3],
        "distribution_strategy": expected[2],
        "replicas": str(expected[4]),
        "workers": "1",
    }
    two = plan_devices(gpus, device=device, precision=precision, batch_size=64, workers=2)
    assert two.strategy == "multi_worker" and two.replicas == 2 * max(1, plan.gpus)
    assert two.global_batch_size == 64 * two.replicas


def test_asking_for_a_missing_gpu_says_what_to_do():
    with pytest.raises(DeviceUnavailableError, match="TensorFlow sees no GPU.*device=auto or cpu"):
        plan_devices(0, device="gpu", batch_size=32)
    with pytest.raises(ValueError, match="Received device='tpu'"):
        plan_devices(0, device="tpu", batch_size=32)
    with pytest.raises(ValueError, match="Received precision='bfloat8'"):
        plan_devices(0, precision="bfloat8", batch_size=32)
    with pytest.raises(ValueError, match="device=.gpus."):
        TrainConfig(device="gpus")
    with pytest.raises(ValueError, match="precision=.half."):
        TrainConfig(precision="half")


def test_applied_sets_the_policy_for_the_block_only():
    plan = DevicePlan("cpu", 0, "default", "mixed_float16", 8)
    with applied(plan) as strategy:
        assert keras.mixed_precision.global_policy().name == "mixed_float16"
        assert strategy.num_replicas_in_sync == 1
        assert keras.layers.Dense(2).compute_dtype == "float16"
    assert keras.mixed_precision.global_policy().name == "float32"
    with pytest.raises(RuntimeError), applied(plan):
        raise RuntimeError("a failing run")
    assert keras.mixed_precision.global_policy().name == "float32"


def test_train_without_a_gpu_refuses_device_gpu_before_any_run(mlflow_store):
    with pytest.raises(DeviceUnavailableError):
        train(TrainConfig(dataset="digits", device="gpu"))
    client = mlflow.MlflowClient(mlflow_store)
    assert client.search_runs([e.experiment_id for e in client.search_experiments()]) == []


def test_a_mixed_precision_run_trains_tags_and_exports_float32(mlflow_store, tmp_path):
    config = TrainConfig(
        dataset="digits",
        epochs=3,
        batch_size=32,
        learning_rate=3e-3,
        precision="mixed_float16",
        export_dir=str(tmp_path / "exports"),
        seed=1,
    )
    result = train(config)
    assert keras.mixed_precision.global_policy().name == "float32"  # restored
    run = mlflow.MlflowClient(mlflow_store).get_run(result.run_id)
    tags = run.data.tags
    assert tags["precision_policy"] == "mixed_float16" and tags["device_count"] == "0"
    assert (
        tags["distribution_strategy"] == "default" and run.data.params["global_batch_size"] == "32"
    )
    assert result.test_metrics["test_accuracy"] > 0.8
    served = tf.saved_model.load(str(result.export_path))
    images = np.zeros((2, 8, 8, 1), np.uint8)
    outputs = served.signatures["serving_default"](images=tf.constant(images))
    probabilities = outputs["probabilities"]
    assert probabilities.dtype == tf.float32
    np.testing.assert_allclose(probabilities.numpy().sum(axis=-1), 1.0, rtol=1e-5)


@pytest.mark.gpu
def test_a_real_gpu_run_uses_mixed_precision(mlflow_store, tmp_path):
    """Runs only where TensorFlow sees a GPU (``pytest -m gpu``)."""
    if not tf.config.list_physical_devices("GPU"):
        pytest.skip("no GPU visible to TensorFlow")
    result = train(TrainConfig(dataset="digits", epochs=3, export_dir=str(tmp_path / "exports")))
    tags = mlflow.MlflowClient(mlflow_store).get_run(result.run_id).data.tags
    assert tags["precision_policy"] == "mixed_float16" and int(tags["device_count"]) >= 1
    assert "CPU" not in tags["device"]
    assert result.test_metrics["test_accuracy"] > 0.8
