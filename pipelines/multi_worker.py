"""Training one model on several worker processes with ``MultiWorkerMirroredStrategy``.

``convseq train --workers N`` (task ``classify``) without ``TF_CONFIG``
launches N worker processes on 127.0.0.1, each running the same command
with its own ``TF_CONFIG`` (worker 0 is the chief). On a cluster the user
sets ``TF_CONFIG`` on each machine and runs the same command there.

Every worker runs the whole pipeline, so every collective operation happens
on all of them in the same order. Only the chief's outputs are kept: its
MLflow run (parameters, per-epoch metrics, checkpoints, test metrics) and its
export; the other workers write theirs to a scratch folder that is removed.

Keras 3's ``Model.fit`` fails under this strategy (keras-team/keras#20585:
the trainer reduces ``PerReplica`` values it cannot), so `distributed_fit`
is a training loop of its own around ``strategy.run``: each replica computes
the summed loss of its share of the global batch divided by the global batch
size, the optimizer all-reduces (sums) the gradients, and loss and accuracy
are summed over the replicas. It calls the same Keras callbacks ``fit``
would (metrics to MLflow, checkpoints, early stopping, the NaN guard).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from pipelines.processes import ChildFailedError, Children, free_ports

WEIGHTS_TAG = "weights_sha256"


@dataclasses.dataclass(frozen=True)
class WorkerRole:
    """This process's place in a ``TF_CONFIG`` cluster.

    Attributes:
        index: Worker index; 0 is the chief.
        count: Workers in the cluster.
    """

    index: int
    count: int

    @property
    def is_chief(self) -> bool:
        """Worker 0 logs to MLflow, checkpoints and exports."""
        return self.index == 0


def worker_role(environment: dict[str, str] | None = None) -> WorkerRole | None:
    """The role ``TF_CONFIG`` gives this process, or None when it is not set.

    Raises:
        ValueError: If ``TF_CONFIG`` is not JSON with ``cluster.worker`` and a
            ``worker`` task whose index is in range.
    """
    text = (environment if environment is not None else os.environ).get("TF_CONFIG", "")
    if not text.strip():
        return None
    try:
        spec = json.loads(text)
        workers = spec["cluster"]["worker"]
        task = spec["task"]
        index = int(task["index"])
    except (ValueError, KeyError, TypeError):
        raise ValueError(
            "TF_CONFIG is not a cluster description like "
            '{"cluster": {"worker": ["host1:port", "host2:port"]}, '
            f'"task": {{"type": "worker", "index": 0}}}}. Received TF_CONFIG={text!r}.'
        ) from None
    if task.get("type") != "worker" or not 0 <= index < len(workers):
        raise ValueError(
            "TF_CONFIG must name a worker task with an index into cluster.worker (worker 0 is "
            f"the chief; no separate chief task). Received task={task!r} for "
            f"{len(workers)} workers."
        )
    return WorkerRole(index=index, count=len(workers))


def weights_digest(model: keras.Model) -> str:
    """SHA-256 of all the model's weights, in order: equal only if bit-identical."""
    digest = hashlib.sha256()
    for weight in model.weights:
        digest.update(np.ascontiguousarray(keras.ops.convert_to_numpy(weight)).tobytes())
    return digest.hexdigest()


def _per_worker(strategy: tf.distribute.Strategy, dataset, global_batch_size: int):
    """Full global batches only, split by element over the workers (DATA sharding)."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    whole = dataset.unbatch().batch(global_batch_size, drop_remainder=True).with_options(options)
    return strategy.experimental_distribute_dataset(whole)


def _global_batch_size(dataset) -> int:
    spec = dataset.element_spec[0]
    size = spec.shape[0]
    if size is None:
        for images, _ in dataset.take(1):
            return int(images.shape[0])
    return int(size)


def distributed_fit(
    model: keras.Model,
    train,
    validation,
    *,
    epochs: int,
    initial_epoch: int = 0,
    callbacks: Sequence[keras.callbacks.Callback] = (),
) -> dict[str, list[float]]:
    """Trains a compiled classifier under the current ``MultiWorkerMirroredStrategy``.

    Args:
        model: A classifier (softmax outputs, integer labels) built and
            compiled in the strategy's scope.
        train: Batches of the global batch size (the same on every worker,
            shuffled with the same seed); partial batches are dropped.
        validation: Validation batches; every worker evaluates all of them
            locally (no collectives), so decisions such as early stopping
            agree everywhere.
        epochs: Epoch to stop at.
        initial_epoch: Epoch to start at (a resumed run).
        callbacks: Keras callbacks, called as ``fit`` calls them.

    Returns:
        ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy`` per epoch run.
    """
    strategy = tf.distribute.get_strategy()
    global_batch = _global_batch_size(train)
    optimizer = model.optimizer
    with strategy.scope():
        if not optimizer.built:
            optimizer.build(model.trainable_variables)
    scales_loss = hasattr(optimizer, "scale_loss")

    def replica_step(images, labels):
        with tf.GradientTape() as tape:
            probabilities = model(images, training=True)
            per_example = keras.losses.sparse_categorical_crossentropy(labels, probabilities)
            loss = tf.reduce_sum(per_example) / global_batch
            if model.losses:
                loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
            scaled = optimizer.scale_loss(loss) if scales_loss else loss
        gradients = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        predicted = tf.argmax(probabilities, axis=-1, output_type=labels.dtype)
        correct = tf.reduce_sum(tf.cast(tf.equal(predicted, labels), tf.float32))
        count = tf.cast(tf.size(labels), tf.float32)
        return tf.reduce_sum(per_example), correct, count

    @tf.function
    def train_step(images, labels):
        results = strategy.run(replica_step, args=(images, labels))
        return [strategy.reduce(tf.distribute.ReduceOp.SUM, r, axis=None) for r in results]

    @tf.function
    def evaluate_batch(images, labels):
        probabilities = model(images, training=False)
        per_example = keras.losses.sparse_categorical_crossentropy(labels, probabilities)
        predicted = tf.argmax(probabilities, axis=-1, output_type=labels.dtype)
        correct = tf.reduce_sum(tf.cast(tf.equal(predicted, labels), tf.float32))
        return tf.reduce_sum(per_example), correct, tf.cast(tf.size(labels), tf.float32)

    batches = _per_worker(strategy, train, global_batch)
    history: dict[str, list[float]] = {}
    callback_list = keras.callbacks.CallbackList(list(callbacks), model=model)
    model.stop_training = False
    callback_list.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        started = time.monotonic()
        callback_list.on_epoch_begin(epoch)
        totals = np.zeros(3)
        for batch, (images, labels) in enumerate(batches):
            callback_list.on_train_batch_begin(batch)
            totals += [float(t) for t in train_step(images, labels)]
            batch_logs = {"loss": totals[0] / totals[2], "accuracy": totals[1] / totals[2]}
            callback_list.on_train_batch_end(batch, batch_logs)
        evaluated = np.zeros(3)
        for images, labels in validation:
            evaluated += [float(t) for t in evaluate_batch(images, labels)]
        logs = {
            "loss": totals[0] / totals[2],
            "accuracy": totals[1] / totals[2],
            "val_loss": evaluated[0] / evaluated[2],
            "val_accuracy": evaluated[1] / evaluated[2],
        }
        print(
            f"Epoch {epoch + 1}/{epochs} - {time.monotonic() - started:.1f}s - "
            + " - ".join(f"{k}: {v:.4f}" for k, v in logs.items()),
            flush=True,
        )
        callback_list.on_epoch_end(epoch, logs)
        for key, value in logs.items():
            history.setdefault(key, []).append(float(value))
        if model.stop_training:
            break
    callback_list.on_train_end()
    return history


def uses_multi_worker_strategy() -> bool:
    """Whether the strategy in scope is a ``MultiWorkerMirroredStrategy``."""
    return isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy)


@contextlib.contextmanager
def non_chief_scratch(role: WorkerRole) -> Iterator[dict[str, str]]:
    """For a non-chief worker: a scratch MLflow store and folders, removed afterwards.

    Yields:
        Option overrides (``export_dir``, ``checkpoint_dir``,
        ``registered_model_name``) pointing into the scratch folder; the
        tracking URI and ``MLFLOW_RUN_ID`` are switched for the block.
    """
    import mlflow

    saved = {name: os.environ.get(name) for name in ("MLFLOW_TRACKING_URI", "MLFLOW_RUN_ID")}
    with tempfile.TemporaryDirectory(prefix=f"convseq-worker{role.index}-") as folder:
        uri = f"sqlite:///{Path(folder) / 'mlflow.db'}"
        os.environ["MLFLOW_TRACKING_URI"] = uri
        os.environ.pop("MLFLOW_RUN_ID", None)
        previous_uri = mlflow.get_tracking_uri()
        mlflow.set_tracking_uri(uri)
        try:
            yield {
                "export_dir": str(Path(folder) / "exports"),
                "checkpoint_dir": str(Path(folder) / "checkpoints"),
                "registered_model_name": "",
            }
        finally:
            mlflow.set_tracking_uri(previous_uri)
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


class WorkerFailedError(ChildFailedError):
    """A worker of a local multi-worker run failed; the others were stopped."""


def _is_shown(line: str) -> bool:
    """Result lines (``run_id: ...``) are kept for the launcher to print once."""
    return not line.partition(": ")[0].isidentifier()


def launch_local_workers(arguments: Sequence[str], count: int) -> dict[str, str]:
    """Runs ``convseq train ARGUMENTS`` as ``count`` workers of one cluster on 127.0.0.1.

    The chief's output is shown as it comes (its result lines are returned
    instead); each other worker's goes to a log file that is shown if it
    fails. When one worker fails or the launcher is interrupted, all are
    stopped by process group (`pipelines.processes.Children`): a dead peer
    would leave the others waiting in a collective operation.

    Args:
        arguments: The ``train`` options, e.g. ``["--workers", "2", ...]``.
        count: Workers to start (2 or more).

    Returns:
        The chief's result lines (``run_id: ...``) by name, plus
        ``worker_<i>_weights_sha256`` of each other worker.

    Raises:
        ValueError: If ``count`` is below 2.
        WorkerFailedError: If a worker exits with an error.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 2:
        raise ValueError(
            "Invalid value for argument `count`. Expected 2 or more workers. "
            f"Received count={count!r}."
        )
    ports = free_ports(count)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    command = [sys.executable, "-m", "pipelines.cli", "train", *arguments]
    with (
        tempfile.TemporaryDirectory(prefix="convseq-workers-") as folder,
        Children("worker of the multi-worker run") as children,
    ):
        for index in range(count):
            env = dict(os.environ)
            env["TF_CONFIG"] = json.dumps(
                {"cluster": cluster, "task": {"type": "worker", "index": index}}
            )
            if index:
                env.pop("MLFLOW_RUN_ID", None)
            log = Path(folder) / f"worker-{index}.log" if index else None
            children.start(f"worker {index}", command, env=env, log=log, show=_is_shown)
        try:
            children.watch(finished=children.all_ended)
        except ChildFailedError as error:
            # the logs are in a scratch folder that goes away: the message keeps their tails
            failures = [dataclasses.replace(f, log=None) for f in error.failures]
            raise WorkerFailedError(children.what, failures) from None
        children.stop()  # ends the chief's output readers
        results = {}
        for line in children["worker 0"].stdout:
            key, _, value = line.partition(": ")
            if key.isidentifier() and value:
                results[key] = value
        for index in range(1, count):
            log = children[f"worker {index}"].log
            for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
                if line.startswith(f"{WEIGHTS_TAG}: "):
                    results[f"worker_{index}_{WEIGHTS_TAG}"] = line.split(": ", 1)[1].strip()
    return results
