"""Keeping the weights of the epoch a task's own validation score likes best.

Some tasks judge an epoch by a score Keras does not compute (tagging's
entity F1, OCR's character error rate). `BestEpoch` scores the model after
every epoch, logs the scores as per-epoch MLflow metrics, and restores the
best epoch's weights when training ends, whatever stopped it.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import mlflow

from pipelines.tracking import MlflowMetricsCallback, logged_steps

MODES = ("max", "min")


class BestEpoch(keras.callbacks.Callback):
    """Scores the model after each epoch and restores the weights of the best one.

    The first of equal scores wins. A resumed run chooses among the epochs it
    ran after resuming; the epochs it had logged are not logged twice.

    Args:
        score: ``epoch -> {metric: value}``: the epoch's validation scores.
        monitor: The metric of those that decides the best epoch.
        mode: ``"max"`` (higher is better) or ``"min"``.

    Attributes:
        best: The best value of ``monitor`` so far (``None`` before the first epoch).
        best_epoch: Its epoch, counted from 0.
    """

    def __init__(self, score: Callable[[int], dict[str, float]], monitor: str, mode: str = "max"):
        super().__init__()
        if mode not in MODES:
            raise ValueError(
                f"Invalid value for argument `mode`. Expected one of {MODES}. "
                f"Received mode={mode!r}."
            )
        self.score, self.monitor, self.mode = score, monitor, mode
        self.best: float | None = None
        self.best_epoch: int | None = None
        self._best_weights = None
        logged = logged_steps(monitor) if mlflow.active_run() else ()
        self._logger = MlflowMetricsCallback(logged)

    def _better(self, value: float) -> bool:
        if self.best is None:
            return True
        return value > self.best if self.mode == "max" else value < self.best

    def on_epoch_end(self, epoch, logs=None):
        scores = self.score(epoch)
        if self.monitor not in scores:
            raise KeyError(f"The epoch score has no {self.monitor!r}; it gave {sorted(scores)}.")
        self._logger.on_epoch_end(epoch, scores)
        if self._better(scores[self.monitor]):
            self.best, self.best_epoch = float(scores[self.monitor]), epoch
            self._best_weights = self.model.get_weights()

    def on_train_end(self, logs=None):
        if self._best_weights is not None:
            self.model.set_weights(self._best_weights)
