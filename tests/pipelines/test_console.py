"""Quiet output: TensorFlow's native start-up lines hidden unless verbose, all else kept."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.console import configure_output, is_start_up_line, native_stderr_filtered

REPO_ROOT = Path(__file__).resolve().parents[2]

# What TensorFlow 2.21 prints at import and first op on a CPU-only machine, and the
# older timestamped form of the oneDNN notice.
START_UP_LINES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796143936.845704    6981 cudart_stub.cc:31] Could not find cuda drivers on "
    "your machine, GPU will not be used.",
    "I0000 00:00:1796143936.950226    6981 cpu_feature_guard.cc:227] This TensorFlow binary is "
    "optimized to use available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow "
    "with the appropriate compiler flags.",
    "E0000 00:00:1796143945.714445    6981 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
    "CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)",
    "2024-05-01 10:00:00.123456: I tensorflow/core/util/port.cc:113] oneDNN custom operations "
    "are on. You may see slightly different numerical results.",
]
KEPT_LINES = [
    "F0000 00:00:1796143945.714445    6981 shape_util.cc:9] Check failed: rank >= 0",
    "Traceback (most recent call last):",
    "UserWarning: Skipped 1 file(s) in pics that are not images or fail to decode: a.png.",
    "Epoch 1/3",
]

_SCRIPT = """
import sys
from pipelines.console import configure_output, is_start_up_line
configure_output({verbose})
import tensorflow as tf
print(float(tf.reduce_sum(tf.ones((2, 2)))), len(tf.config.list_physical_devices("GPU")))
print("kept: after the import", file=sys.stderr)
print(any(type(f).__name__ == "_QuietTensorFlowImport" for f in sys.meta_path))
"""


def run_script(verbose: bool):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"}  # the flag, not the variable, decides
    completed = subprocess.run(
        [sys.executable, "-c", _SCRIPT.format(verbose=verbose)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    total, gpus, hook_left = completed.stdout.split()
    assert (float(total), hook_left) == (4.0, "False")
    return completed.stderr.splitlines(), int(gpus)


def test_start_up_lines_are_recognised_and_others_are_not():
    assert [is_start_up_line(line) for line in START_UP_LINES] == [True] * len(START_UP_LINES)
    assert [is_start_up_line(line) for line in KEPT_LINES] == [False] * len(KEPT_LINES)


def test_filtered_block_writes_back_only_what_is_not_start_up_noise(capfd):
    with pytest.raises(RuntimeError, match="import failed"):
        with native_stderr_filtered():
            for line in START_UP_LINES[:3] + KEPT_LINES[:2] + START_UP_LINES[3:] + KEPT_LINES[2:]:
                os.write(2, f"{line}\n".encode())
            raise RuntimeError("import failed")  # what was captured still comes back
    assert capfd.readouterr().err.splitlines() == KEPT_LINES


def test_quiet_output_hides_tensorflow_start_up_lines():
    lines, _ = run_script(verbose=False)
    assert [line for line in lines if is_start_up_line(line)] == []
    assert "kept: after the import" in lines


@pytest.mark.slow  # a second TensorFlow start-up in a subprocess: make test-slow
def test_verbose_output_shows_them():
    lines, gpus = run_script(verbose=True)
    shown = [line for line in lines if is_start_up_line(line)]
    assert shown, lines
    if not gpus:  # TensorFlow's CUDA build on a machine without a GPU says so
        assert any("Could not find cuda drivers" in line for line in shown), shown
        assert any("absl::InitializeLog()" in line for line in shown), shown


def test_verbose_must_be_a_bool():
    with pytest.raises(ValueError, match="Received verbose='yes'"):
        configure_output("yes")
