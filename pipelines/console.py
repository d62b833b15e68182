"""What a ``convseq`` command prints: quiet by default, everything with ``--verbose``.

TensorFlow's C++ code writes start-up lines to stderr: CPU-instruction and
oneDNN notices, "Could not find cuda drivers" on a machine without a GPU,
"failed call to cuInit", and absl's "All log messages before
absl::InitializeLog() is called are written to STDERR". Two mechanisms
write them:

- TensorFlow's own logging, which ``TF_CPP_MIN_LOG_LEVEL`` filters when it
  is set before TensorFlow is imported;
- absl logging in the libraries TensorFlow loads while it is imported, which
  reads no environment variable (neither ``TF_CPP_MIN_LOG_LEVEL`` nor
  ``GLOG_minloglevel`` changes it). So the first ``import tensorflow`` runs
  with file descriptor 2 captured, and every captured line that is not an
  absl INFO, WARNING or ERROR line is written back to stderr.

``TF_ENABLE_ONEDNN_OPTS`` is left alone: it changes numerics; only its
notice is hidden. Progress bars, warnings and errors of convseq, Keras and
MLflow are not touched.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile
from collections.abc import Iterator

# Severity letter, date or "0000", time, thread id, file:line] — absl's and TensorFlow's format.
_NATIVE_LOG_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d [\d:.]+: )?[IWE]\d{0,4} ?[\d:.]*\s+\d*\s*[\w/.-]+:\d+\] "
)
_START_UP_LINES = (
    re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called"),
    # The second line of the CPU-instruction notice carries no log prefix.
    re.compile(r"^To enable the following instructions: .* rebuild TensorFlow"),
)
QUIET_TF_LOG_LEVEL = "3"  # TensorFlow's logging: hide INFO, WARNING and ERROR lines
VERBOSE_TF_LOG_LEVEL = "0"


def is_start_up_line(line: str) -> bool:
    """Whether a stderr line is a native INFO/WARNING/ERROR log line that quiet output hides.

    Fatal (``F``) lines and anything not in the native log format are kept.
    """
    return bool(_NATIVE_LOG_LINE.match(line)) or any(
        pattern.match(line) for pattern in _START_UP_LINES
    )


@contextlib.contextmanager
def native_stderr_filtered() -> Iterator[None]:
    """Captures file descriptor 2 for the block; then writes back what `is_start_up_line` keeps.

    Native code (and Python) writing to stderr inside the block is captured;
    the kept lines reach ``sys.stderr`` when the block ends, in order, also
    when it raises.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode("utf-8", "replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if not is_start_up_line(line))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Runs the first ``import tensorflow`` inside `native_stderr_filtered`, then steps aside."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow":
            return None
        _remove_import_hook()
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        def quiet_exec_module(module):
            try:
                with native_stderr_filtered():
                    exec_module(module)
            finally:
                del loader.exec_module  # the loader's own method again

        loader.exec_module = quiet_exec_module
        return spec


def _remove_import_hook() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietTensorFlowImport)]


def configure_output(verbose: bool) -> None:
    """Hides TensorFlow's native start-up lines unless ``verbose``; call before TensorFlow loads.

    Quiet: ``TF_CPP_MIN_LOG_LEVEL=3`` and the first ``import tensorflow`` of
    the process filtered (`native_stderr_filtered`). Verbose:
    ``TF_CPP_MIN_LOG_LEVEL=0`` and nothing filtered. Both override a
    ``TF_CPP_MIN_LOG_LEVEL`` already in the environment (``make`` sets 2):
    the flag is the switch. Once TensorFlow is imported, a later call changes
    nothing it has already printed.

    Args:
        verbose: Whether to show every native log line.

    Raises:
        ValueError: If ``verbose`` is not a bool.

    Example:
        >>> configure_output(verbose=False)  # doctest: +SKIP
        >>> import tensorflow  # no start-up lines on stderr  # doctest: +SKIP
    """
    if not isinstance(verbose, bool):
        raise ValueError(
            f"Invalid value for argument `verbose`. Expected True or False. Received "
            f"verbose={verbose!r}."
        )
    _remove_import_hook()
    if verbose:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = VERBOSE_TF_LOG_LEVEL
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = QUIET_TF_LOG_LEVEL
    if "tensorflow" not in sys.modules:
        sys.meta_path.insert(0, _QuietTensorFlowImport())
