"""Per-epoch checkpoints a killed run resumes from, and the lock of a run being trained.

A training run keeps its checkpoints in ``<checkpoint_dir>/<run_id>/<phase>/``
(``phase`` names one ``fit`` of the run: ``train``, or ``head`` and
``fine_tune`` for transfer learning). After each epoch, `EpochCheckpoint`
writes the model's weights and optimizer state (``epoch-NNNN.weights.h5``)
and the history so far (``epoch-NNNN.json``), then removes the epoch before.
Files are written under a temporary name and renamed, and the weights file is
written last, so a process killed at any moment leaves the previous complete
epoch readable: `restore` takes the newest epoch whose two files exist.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import keras

_EPOCH_FILE = re.compile(r"^epoch-(\d{4,})\.weights\.h5$")


class RunLockedError(RuntimeError):
    """Another live process is training the run whose checkpoints were asked for."""


@contextlib.contextmanager
def run_lock(folder: str | os.PathLike) -> Iterator[Path]:
    """Holds an exclusive lock on a run's checkpoint folder while the run trains.

    The lock is an ``flock`` on ``<folder>/lock``: the operating system
    releases it when the process ends, however it ends (SIGKILL included), so
    a killed run can be resumed at once while a live one cannot be resumed
    twice.

    Args:
        folder: The run's checkpoint folder (created if missing).

    Yields:
        The folder.

    Raises:
        RunLockedError: If a live process holds the lock; names its PID.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    handle = open(folder / "lock", "a+")  # noqa: SIM115 (held for the whole block)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise RunLockedError(
                f"The run whose checkpoints are in {folder} is being trained by process "
                f"{holder}. Wait for it to end, or stop it (kill {holder}) and resume again."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield folder
    finally:
        handle.close()  # releases the lock


def _replace_atomically(write, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    write(temporary)
    os.replace(temporary, path)


class EpochCheckpoint(keras.callbacks.Callback):
    """Saves weights, optimizer state and history after every epoch; restores the newest.

    Unlike ``keras.callbacks.BackupAndRestore``, the epoch number is part of
    the weights file's name, so weights and epoch can never disagree after a
    kill, the history of the epochs already run comes back with them (a
    resumed run still plots its whole training curves), and nothing is
    deleted when training ends: the run removes its checkpoints once it has
    finished and exported.

    Args:
        folder: Where this phase's checkpoints live.
        history: The history of the epochs before this ``fit`` (restored).

    Example:
        >>> checkpoint = EpochCheckpoint("checkpoints/<run_id>/train")
        >>> done, history = checkpoint.restore(model)
        >>> model.fit(data, initial_epoch=done, epochs=5, callbacks=[checkpoint])
    """

    def __init__(self, folder: str | os.PathLike, history: dict[str, list[float]] | None = None):
        super().__init__()
        if not str(folder):
            raise ValueError("Invalid value for argument `folder`. Expected a folder path.")
        self.folder = Path(folder)
        self.history: dict[str, list[float]] = {k: list(v) for k, v in (history or {}).items()}
        self.complete = False
        self.epochs_done = 0

    def epochs_saved(self) -> list[int]:
        """Completed epochs (1-based counts) with both files present, oldest first."""
        if not self.folder.is_dir():
            return []
        counts = []
        for path in self.folder.iterdir():
            match = _EPOCH_FILE.match(path.name)
            if match and (self.folder / f"epoch-{match.group(1)}.json").is_file():
                counts.append(int(match.group(1)))
        return sorted(counts)

    def restore(self, model: keras.Model) -> tuple[int, dict[str, list[float]]]:
        """Loads the newest checkpoint into a compiled model, if there is one.

        Args:
            model: The same architecture as the one saved, compiled (its
                optimizer is built so that its state can be loaded).

        Returns:
            ``(epochs_done, history)``: ``(0, {})`` when nothing was saved.
            ``complete`` is set when that ``fit`` had ended normally.
        """
        saved = self.epochs_saved()
        if not saved:
            return 0, {}
        epochs = saved[-1]
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        model.load_weights(self.folder / f"epoch-{epochs:04d}.weights.h5")
        state = json.loads((self.folder / f"epoch-{epochs:04d}.json").read_text("utf-8"))
        self.history = {k: list(v) for k, v in state["history"].items()}
        self.complete = bool(state.get("complete", False))
        self.epochs_done = epochs
        return epochs, self.history

    def save(self, epochs: int, complete: bool = False) -> Path:
        """Writes the model's state after ``epochs`` completed epochs; removes older ones.

        Returns:
            The weights file written.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = self.folder / f"epoch-{epochs:04d}"
        state = json.dumps({"epochs": epochs, "complete": complete, "history": self.history})
        _replace_atomically(lambda p: p.write_text(state, "utf-8"), Path(f"{stem}.json"))
        weights = Path(f"{stem}.weights.h5")
        # Keras insists on the .weights.h5 suffix, so the temporary name keeps it.
        temporary = self.folder / f".tmp-{epochs:04d}.weights.h5"
        self.model.save_weights(temporary, overwrite=True)
        os.replace(temporary, weights)
        for older in self.epochs_saved():
            if older != epochs:
                (self.folder / f"epoch-{older:04d}.weights.h5").unlink(missing_ok=True)
                (self.folder / f"epoch-{older:04d}.json").unlink(missing_ok=True)
        return weights

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.epochs_done = epoch + 1
        self.save(self.epochs_done)

    def latest(self) -> Path | None:
        """The newest weights file, or None."""
        saved = self.epochs_saved()
        return self.folder / f"epoch-{saved[-1]:04d}.weights.h5" if saved else None
