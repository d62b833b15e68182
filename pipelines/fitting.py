"""What every task's training shares: the optimizer with clipping, callbacks, fit."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import keras
import mlflow

from pipelines.checkpoints import EpochCheckpoint
from pipelines.guards import StopOnNonFiniteLoss, TrainingDivergedError
from pipelines.multi_worker import distributed_fit, uses_multi_worker_strategy
from pipelines.tracking import MlflowMetricsCallback, logged_steps

if TYPE_CHECKING:
    from pipelines.config import TrainConfig


def adam(config: TrainConfig, learning_rate: float | None = None) -> keras.optimizers.Adam:
    """Adam at the config's learning rate (or ``learning_rate``) with its gradient clipping."""
    return keras.optimizers.Adam(
        learning_rate or config.learning_rate,
        clipnorm=config.clipnorm or None,
        clipvalue=config.clipvalue or None,
    )


def compile_classifier(model: keras.Model, config: TrainConfig, learning_rate: float) -> None:
    """Compiles with Adam (and the config's gradient clipping) for sparse labels."""
    model.compile(
        optimizer=adam(config, learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


def callbacks(config: TrainConfig, skip_steps=()) -> list[keras.callbacks.Callback]:
    """Per-epoch MLflow metrics, and early stopping with best-weights restore when asked.

    Args:
        config: Gives the early stopping patience.
        skip_steps: Epochs whose metrics the run has logged already.
    """
    chosen: list[keras.callbacks.Callback] = [MlflowMetricsCallback(skip_steps)]
    if config.early_stopping_patience:
        chosen.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss",
                patience=config.early_stopping_patience,
                restore_best_weights=True,
                verbose=1,
            )
        )
    return chosen


def run_checkpoint_folder(config: TrainConfig, run_id: str) -> Path:
    """Where a run keeps its per-epoch checkpoints: ``<checkpoint_dir>/<run_id>``."""
    return Path(config.checkpoint_dir).resolve() / run_id


def _checkpoint_folder(config: TrainConfig) -> Path | None:
    run = mlflow.active_run()
    return None if run is None else run_checkpoint_folder(config, run.info.run_id)


def fit(
    model: keras.Model,
    train,
    validation,
    config: TrainConfig,
    *,
    initial_epoch: int = 0,
    epochs: int | None = None,
    extra_callbacks: list[keras.callbacks.Callback] | None = None,
    phase: str = "train",
) -> dict[str, list[float]]:
    """Fits on tf.data pipelines (already shuffled, seeded) and returns the history.

    Inside an MLflow run, every epoch is checkpointed under
    ``<checkpoint_dir>/<run_id>/<phase>/`` (`pipelines.checkpoints`) and a
    resumed run continues from the newest checkpoint: the epochs already run
    are neither repeated nor logged again. A loss that becomes NaN or
    infinite stops training with `pipelines.guards.TrainingDivergedError`;
    the checkpoints of the epochs before stay. Under a
    ``MultiWorkerMirroredStrategy`` scope the epochs run in
    `pipelines.multi_worker.distributed_fit` with the same callbacks.

    Args:
        model: A compiled model.
        train: Training batches.
        validation: Validation batches.
        config: Gives epochs, early stopping, the learning rate and clipping
            quoted when the loss diverges, and the checkpoint folder.
        initial_epoch: Epoch to start counting from (a second phase).
        epochs: Epoch to stop at (default ``config.epochs``).
        extra_callbacks: Task-specific callbacks run after the shared ones.
        phase: Names this ``fit`` among the run's fits (its checkpoint folder).

    Returns:
        Metric name -> one value per epoch of this phase, restored epochs included.

    Raises:
        pipelines.guards.TrainingDivergedError: If the loss became NaN or infinite.
    """
    epochs = epochs or config.epochs
    learning_rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    guard = StopOnNonFiniteLoss(learning_rate, config.clipnorm)
    folder = _checkpoint_folder(config)
    shared = callbacks(config, logged_steps() if folder is not None else ())
    if folder is not None:
        checkpoint = EpochCheckpoint(folder / phase)
        done, _ = checkpoint.restore(model)
        if checkpoint.complete or done >= epochs:
            print(f"Restored {phase} from its checkpoint after epoch {done}; nothing left to run.")
            return checkpoint.history
        if done:
            print(f"Resuming {phase} after epoch {done} from {checkpoint.folder}.")
        initial_epoch = max(initial_epoch, done)
        # Saved after the epoch's metrics are logged: a kill in between reruns
        # that epoch, whose metrics are then not logged again (logged_steps).
        shared.append(checkpoint)
    chosen = [guard, *shared, *(extra_callbacks or [])]
    try:
        if uses_multi_worker_strategy():
            history = distributed_fit(
                model,
                train,
                validation,
                epochs=epochs,
                initial_epoch=initial_epoch,
                callbacks=chosen,
            )
        else:
            history = model.fit(
                train,
                validation_data=validation,
                initial_epoch=initial_epoch,
                epochs=epochs,
                callbacks=chosen,
                shuffle=False,  # the input pipeline shuffles, seeded
                verbose=2,
            ).history
    except TrainingDivergedError as error:
        if folder is None:
            raise
        latest = checkpoint.latest()
        kept = (
            f" The last good checkpoint ({latest.name}) is kept in {checkpoint.folder}."
            if latest
            else " No epoch had completed, so there is no checkpoint."
        )
        raise TrainingDivergedError(
            str(error) + kept, error.epoch, error.batch, error.loss
        ) from None
    if folder is None:
        return history
    checkpoint.save(checkpoint.epochs_done, complete=True)
    return checkpoint.history
