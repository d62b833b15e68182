"""Per-epoch checkpoints: what a killed run resumes from, and the run lock."""

import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from pipelines.checkpoints import EpochCheckpoint, RunLockedError, run_lock


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), keras.layers.Dense(2)])
    model.compile(keras.optimizers.Adam(0.01), "mse")
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(64, 4)).astype("float32"), rng.normal(size=(64, 2)).astype("float32")


def test_keeps_only_the_newest_epoch_and_restores_weights_optimizer_and_history(tmp_path):
    x, y = _data()
    model = _model()
    checkpoint = EpochCheckpoint(tmp_path / "train")
    model.fit(x, y, batch_size=16, epochs=3, callbacks=[checkpoint], verbose=0)
    assert sorted(p.name for p in (tmp_path / "train").iterdir()) == [
        "epoch-0003.json",
        "epoch-0003.weights.h5",
    ]
    fresh = _model(seed=1)
    restored = EpochCheckpoint(tmp_path / "train")
    done, history = restored.restore(fresh)
    assert done == 3 and len(history["loss"]) == 3 and not restored.complete
    for ours, theirs in zip(fresh.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert int(fresh.optimizer.iterations) == int(model.optimizer.iterations) == 12
    for ours, theirs in zip(fresh.optimizer.variables, model.optimizer.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    # continuing from the restored state equals never stopping
    model.fit(x, y, batch_size=16, epochs=4, initial_epoch=3, shuffle=False, verbose=0)
    fresh.fit(x, y, batch_size=16, epochs=4, initial_epoch=3, shuffle=False, verbose=0)
    for ours, theirs in zip(fresh.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_a_kill_while_saving_leaves_the_previous_epoch_readable(tmp_path):
    x, y = _data()
    model = _model()
    checkpoint = EpochCheckpoint(tmp_path)
    model.fit(x, y, epochs=2, callbacks=[checkpoint], verbose=0)
    # what a kill during the third save leaves: the json, a partial weights file
    (tmp_path / "epoch-0003.json").write_text('{"epochs": 3, "history": {}}')
    (tmp_path / ".tmp-0003.weights.h5").write_bytes(b"partial")
    assert checkpoint.epochs_saved() == [2]
    assert EpochCheckpoint(tmp_path).restore(_model(seed=3))[0] == 2


def test_nothing_saved_restores_nothing(tmp_path):
    assert EpochCheckpoint(tmp_path / "none").restore(_model()) == (0, {})
    with pytest.raises(ValueError, match="folder"):
        EpochCheckpoint("")


HOLDER = """
import sys, time
from pipelines.checkpoints import run_lock
with run_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_a_live_holder_blocks_the_lock_and_a_killed_one_releases_it(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "run")],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunLockedError, match=f"process {holder.pid}"):
            with run_lock(tmp_path / "run"):
                pass
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)
        holder.stdout.close()
    deadline = time.monotonic() + 10
    with run_lock(tmp_path / "run") as folder:
        assert folder == tmp_path / "run" and time.monotonic() < deadline
        assert (folder / "lock").read_text() == str(os.getpid())
