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


MIRRORED_ON_TWO_CPUS = """
import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
from sklearn.datasets import load_digits

from models import small_cnn
from pipelines.config import TrainConfig
from pipelines.fitting import fit
from pipelines.fitting import compile_classifier

config = TrainConfig(dataset="digits", epochs=8, learning_rate=3e-3)
digits = load_digits()
images = (digits.images[..., None] * 16).astype("uint8")
labels = digits.target
train = tf.data.Dataset.from_tensor_slices((images[:1500], labels[:1500])).shuffle(1500, seed=0)
for strategy in (
    tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]),  # global batch 64: 32 per replica
    tf.distribute.get_strategy(),
):
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = small_cnn(input_shape=(8, 8, 1), classes=10, filters=(16, 32))
        compile_classifier(model, config, config.learning_rate)
    history = fit(model, train.batch(64), None, config)
    correct = np.mean(model.predict(images[1500:], verbose=0).argmax(-1) == labels[1500:])
    epochs = len(history["loss"])
    print("replicas", strategy.num_replicas_in_sync, "accuracy", correct, "epochs", epochs)
"""


def test_mirrored_strategy_trains_our_model_on_two_replicas(tmp_path, process_environment):
    """The several-GPU path (MirroredStrategy) on two logical CPUs, in a fresh process.

    Same data, seed and global batch on two replicas and on one device: the
    same number of epochs and accuracy within a few points.
    """
    import subprocess
    import sys

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    completed = subprocess.run(
        [sys.executable, "-c", MIRRORED_ON_TWO_CPUS],
        cwd=tmp_path,
        env=process_environment(uri),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    runs = [line.split() for line in completed.stdout.splitlines() if line.startswith("replicas")]
    (two, one) = ({w[0]: w[1] for w in zip(r[::2], r[1::2], strict=True)} for r in runs)
    assert (two["replicas"], one["replicas"]) == ("2", "1")
    assert two["epochs"] == one["epochs"] == "8"
    assert float(two["accuracy"]) > 0.7 and float(one["accuracy"]) > 0.7
    assert abs(float(two["accuracy"]) - float(one["accuracy"])) < 0.06
    assert not (tmp_path / "mlflow.db").exists()  # fit outside a run logs nothing
