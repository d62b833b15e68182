"""Where a run trains (CPU, one GPU, several GPUs) and at which precision.

`plan_devices` is the decision, a pure function of what was asked and what
TensorFlow sees, so it is tested without a GPU; `applied` carries a plan
out: the Keras dtype policy, the device, and the ``tf.distribute`` strategy
whose scope the model is built in.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Iterator

import keras
import tensorflow as tf

from pipelines.config import parse_device, parse_precision

logger = logging.getLogger(__name__)


class DeviceUnavailableError(ValueError):
    """The device asked for is not there; the message says what TensorFlow sees."""


@dataclasses.dataclass(frozen=True)
class DevicePlan:
    """How one training process uses its machine.

    Attributes:
        device: ``cpu`` or ``gpu``.
        gpus: GPUs used by this process (0 on the CPU).
        strategy: ``default`` (one device), ``mirrored`` (several local GPUs)
            or ``multi_worker`` (several processes, ``TF_CONFIG``).
        precision: Keras dtype policy: ``float32`` or ``mixed_float16``.
        batch_size: Examples per replica and step (the ``batch_size`` option).
        workers: Processes training together (1: this one alone).
    """

    device: str
    gpus: int
    strategy: str
    precision: str
    batch_size: int
    workers: int = 1

    @property
    def replicas(self) -> int:
        """Model copies that each take ``batch_size`` examples per step."""
        if self.strategy == "multi_worker":
            return self.workers * max(1, self.gpus)
        return max(1, self.gpus) if self.strategy == "mirrored" else 1

    @property
    def global_batch_size(self) -> int:
        """Examples per step over all replicas: the batch size the input pipeline uses."""
        return self.batch_size * self.replicas

    def tags(self) -> dict[str, str]:
        """The plan as MLflow run tags."""
        return {
            "precision_policy": self.precision,
            "distribution_strategy": self.strategy,
            "replicas": str(self.replicas),
            "workers": str(self.workers),
        }


def plan_devices(
    gpu_count: int,
    *,
    device: str = "auto",
    precision: str = "auto",
    batch_size: int,
    workers: int = 1,
) -> DevicePlan:
    """Decides device, strategy, precision and batch scaling for one process.

    * ``device=auto`` uses the GPUs when there are any, ``cpu`` never does,
      ``gpu`` requires one.
    * ``precision=auto`` is ``mixed_float16`` on a GPU (float16 math, float32
      variables and outputs, loss scaling) and ``float32`` on the CPU, where
      float16 is emulated and slower.
    * Several GPUs train with ``MirroredStrategy``: each takes ``batch_size``
      examples, so the global batch is ``batch_size`` times the GPU count
      (the learning rate is left as given).
    * Several workers train with ``MultiWorkerMirroredStrategy`` over all
      their devices; the global batch is ``batch_size`` times the replicas.

    Args:
        gpu_count: GPUs TensorFlow sees.
        device: ``auto``, ``cpu`` or ``gpu``.
        precision: ``auto``, ``float32`` or ``mixed_float16``.
        batch_size: Examples per replica and step.
        workers: Processes of the run (``TF_CONFIG``'s worker count).

    Returns:
        A `DevicePlan`.

    Raises:
        DeviceUnavailableError: If ``device=gpu`` and there is no GPU.
        ValueError: On an unknown device or precision.
    """
    device, precision = parse_device(device), parse_precision(precision)
    if device == "gpu" and gpu_count == 0:
        raise DeviceUnavailableError(
            "device=gpu, but TensorFlow sees no GPU (tf.config.list_physical_devices('GPU') "
            "is empty): install a CUDA build of TensorFlow (pip install 'tensorflow[and-cuda]') "
            "and check nvidia-smi, or use device=auto or cpu."
        )
    gpus = 0 if device == "cpu" else gpu_count
    if precision == "auto":
        precision = "mixed_float16" if gpus else "float32"
    if workers > 1:
        strategy = "multi_worker"
    else:
        strategy = "mirrored" if gpus > 1 else "default"
    return DevicePlan(
        device="gpu" if gpus else "cpu",
        gpus=gpus,
        strategy=strategy,
        precision=precision,
        batch_size=batch_size,
        workers=workers,
    )


def visible_gpu_count() -> int:
    """GPUs TensorFlow sees."""
    return len(tf.config.list_physical_devices("GPU"))


def _hide_gpus() -> contextlib.AbstractContextManager:
    """Keeps TensorFlow off the GPUs: hidden if not yet in use, else a CPU device scope."""
    if not tf.config.list_physical_devices("GPU"):
        return contextlib.nullcontext()
    try:
        tf.config.set_visible_devices([], "GPU")
        return contextlib.nullcontext()
    except RuntimeError:  # GPUs already initialized in this process
        return tf.device("/CPU:0")


@contextlib.contextmanager
def applied(plan: DevicePlan) -> Iterator[tf.distribute.Strategy]:
    """Carries out a plan for the block: dtype policy, device and strategy scope.

    The global Keras dtype policy is restored afterwards.

    Yields:
        The ``tf.distribute.Strategy`` whose scope is entered.
    """
    if plan.precision == "mixed_float16" and plan.device == "cpu":
        logger.warning("precision=mixed_float16 on the CPU: float16 is emulated and slower there.")
    previous_policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(plan.precision)
    try:
        with contextlib.ExitStack() as stack:
            if plan.device == "cpu":
                stack.enter_context(_hide_gpus())
            if plan.strategy == "multi_worker":
                strategy = tf.distribute.MultiWorkerMirroredStrategy()
            elif plan.strategy == "mirrored":
                strategy = tf.distribute.MirroredStrategy()
            else:
                strategy = tf.distribute.get_strategy()
            stack.enter_context(strategy.scope())
            yield strategy
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
