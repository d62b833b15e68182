"""Stops training the moment the loss stops being a finite number."""

from __future__ import annotations

import math

import keras


class TrainingDivergedError(RuntimeError):
    """The training loss became NaN or infinite.

    Attributes:
        epoch: 0-based epoch in which it happened.
        batch: 0-based batch of that epoch.
        loss: The loss reported (nan, inf or -inf).
    """

    def __init__(self, message: str, epoch: int, batch: int, loss: float):
        super().__init__(message)
        self.epoch = epoch
        self.batch = batch
        self.loss = loss


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Raises `TrainingDivergedError` after the first batch whose loss is NaN or infinite.

    Unlike ``keras.callbacks.TerminateOnNaN``, which ends ``fit`` quietly, this
    ends it with an error that names the epoch and batch and the remedies, so
    the pipeline's run ends FAILED with that reason instead of exporting a
    broken model. Epochs saved before are not touched.

    Args:
        learning_rate: The learning rate in use, quoted in the message.
        clipnorm: The gradient clipping norm in use (0: off), quoted too.
    """

    def __init__(self, learning_rate: float | None = None, clipnorm: float = 0.0):
        super().__init__()
        self.learning_rate = learning_rate
        self.clipnorm = clipnorm
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(loss)
        if math.isfinite(loss):
            return
        remedies = []
        if self.learning_rate:
            remedies.append(f"lower the learning rate (now {self.learning_rate:g}, try 10x less)")
        else:
            remedies.append("lower the learning rate")
        if self.clipnorm:
            remedies.append(f"clip gradients harder (clipnorm is {self.clipnorm:g})")
        else:
            remedies.append("clip gradients, e.g. clipnorm=1.0")
        remedies.append("check the inputs for NaN or infinite values")
        raise TrainingDivergedError(
            f"The training loss became {loss} at epoch {self._epoch + 1}, batch {batch + 1}; "
            f"training stopped. Remedies: {'; '.join(remedies)}.",
            epoch=self._epoch,
            batch=batch,
            loss=loss,
        )
