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
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

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


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            probe = socket.socket()
            probe.bind(("127.0.0.1", 0))
            sockets.append(probe)
        return [probe.getsockname()[1] for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def _stop(processes: Sequence[subprocess.Popen], grace: float = 20.0) -> None:
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _echo(stream, lines: list[str], to=None) -> None:
    """Shows a worker's output as it comes, keeping its lines; result lines are kept only."""
    for line in stream:
        key = line.partition(": ")[0]
        if to is not None or not key.isidentifier():
            print(line, end="", file=to or sys.stdout, flush=True)
        lines.append(line.rstrip("\n"))


class WorkerFailedError(RuntimeError):
    """A worker of a local multi-worker run failed; the others were stopped."""


def launch_local_workers(arguments: Sequence[str], count: int) -> dict[str, str]:
    """Runs ``convseq train ARGUMENTS`` as ``count`` workers of one cluster on 127.0.0.1.

    The chief's output is shown as it comes; each other worker's goes to a
    log file that is shown if it fails. When one worker fails or the
    launcher is interrupted, all are stopped (SIGTERM, then SIGKILL) by
    process group.

    Args:
        arguments: The ``train`` options, e.g. ``["--workers", "2", ...]``.
        count: Workers to start (2 or more).

    Returns:
        The chief's result lines (``run_id: ...``) by name, plus
        ``worker_<i>_weights_sha256`` of each other worker.

    Raises:
        WorkerFailedError: If a worker exits with an error.
    """
    ports = _free_ports(count)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    processes: list[subprocess.Popen] = []
    chief_lines: list[str] = []
    chief_errors: list[str] = []
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="convseq-workers-")))
        logs = [None] + [
            stack.enter_context(open(folder / f"worker-{i}.log", "w+")) for i in range(1, count)
        ]
        try:
            for index in range(count):
                env = dict(os.environ)
                env["TF_CONFIG"] = json.dumps(
                    {"cluster": cluster, "task": {"type": "worker", "index": index}}
                )
                if index:
                    env.pop("MLFLOW_RUN_ID", None)
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "pipelines.cli", "train", *arguments],
                        env=env,
                        stdout=subprocess.PIPE if index == 0 else logs[index],
                        stderr=subprocess.PIPE if index == 0 else subprocess.STDOUT,
                        text=True,
                        start_new_session=True,
                    )
                )
            stack.callback(processes[0].stdout.close)
            stack.callback(processes[0].stderr.close)
            readers = [
                threading.Thread(target=_echo, args=(processes[0].stdout, chief_lines)),
                threading.Thread(
                    target=_echo, args=(processes[0].stderr, chief_errors, sys.stderr)
                ),
            ]
            for reader in readers:
                reader.daemon = True
                reader.start()
            # until all have ended or one has failed: a dead peer would leave the
            # others waiting in a collective operation
            while any(p.poll() is None for p in processes):
                if any(p.poll() not in (None, 0) for p in processes):
                    break
                time.sleep(0.2)
            failed = [i for i, p in enumerate(processes) if p.poll() not in (None, 0)]
            if failed:
                _stop(processes)
            for reader in readers:
                reader.join(timeout=30)
        except BaseException:
            _stop(processes)
            raise
        if failed:
            details = []
            for index in failed:
                if index == 0:
                    tail = "\n".join((chief_lines + chief_errors)[-15:])
                else:
                    logs[index].seek(0)
                    tail = "".join(logs[index].readlines()[-15:])
                details.append(f"worker {index} exited with {processes[index].returncode}:\n{tail}")
            raise WorkerFailedError(
                "A worker of the multi-worker run failed; all workers were stopped. "
                + " | ".join(details)
            )
        results = {}
        for line in chief_lines:
            key, _, value = line.partition(": ")
            if key.isidentifier() and value:
                results[key] = value
        for index in range(1, count):
            logs[index].seek(0)
            for line in logs[index]:
                if line.startswith(f"{WEIGHTS_TAG}: "):
                    results[f"worker_{index}_{WEIGHTS_TAG}"] = line.split(": ", 1)[1].strip()
    return results
