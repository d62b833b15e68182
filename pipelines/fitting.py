"""What every task's training shares: the optimizer with clipping, callbacks, fit."""

from __future__ import annotations

import keras

from pipelines.config import TrainConfig
from pipelines.tracking import MlflowMetricsCallback


def adam(config: TrainConfig, learning_rate: float | None = None) -> keras.optimizers.Adam:
    """Adam at the config's learning rate (or ``learning_rate``) with its gradient clipping."""
    return keras.optimizers.Adam(
        learning_rate or config.learning_rate,
        clipnorm=config.clipnorm or None,
        clipvalue=config.clipvalue or None,
    )


def callbacks(config: TrainConfig) -> list[keras.callbacks.Callback]:
    """Per-epoch MLflow metrics, and early stopping with best-weights restore when asked."""
    chosen: list[keras.callbacks.Callback] = [MlflowMetricsCallback()]
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


def fit(
    model: keras.Model,
    train,
    validation,
    config: TrainConfig,
    *,
    initial_epoch: int = 0,
    epochs: int | None = None,
    extra_callbacks: list[keras.callbacks.Callback] | None = None,
) -> dict[str, list[float]]:
    """Fits on tf.data pipelines (already shuffled, seeded) and returns the history.

    Args:
        model: A compiled model.
        train: Training batches.
        validation: Validation batches.
        config: Gives epochs and early stopping.
        initial_epoch: Epoch to start counting from (a second phase).
        epochs: Epoch to stop at (default ``config.epochs``).
        extra_callbacks: Task-specific callbacks run after the shared ones.

    Returns:
        Metric name -> one value per epoch run.
    """
    return model.fit(
        train,
        validation_data=validation,
        initial_epoch=initial_epoch,
        epochs=epochs or config.epochs,
        callbacks=callbacks(config) + list(extra_callbacks or []),
        shuffle=False,  # the input pipeline shuffles, seeded
        verbose=2,
    ).history
