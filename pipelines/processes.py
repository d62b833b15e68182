"""Child processes of a local launcher: ports, start, watch, stop together, show a failure.

Both local launchers use it: ``convseq train --workers N`` (N
``MultiWorkerMirroredStrategy`` workers, `pipelines.multi_worker`) and
``convseq tune --search_workers N`` (an oracle chief and N search workers,
`pipelines.tune_launch`). Every child starts in a process group of its own
(``start_new_session=True``), so stopping it stops whatever it started too:
`Children.stop` sends SIGTERM to every group, waits one grace period for all
of them together, then sends SIGKILL to the groups still alive. When a child
fails, `Children.watch` stops the others and raises `ChildFailedError`
naming the child, its exit status and the last lines of its output.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

GRACE_S = 20.0  # between SIGTERM and SIGKILL, for all children together
TAIL_LINES = 15
POLL_S = 0.2


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct TCP ports on ``host`` that nothing listens on right now.

    All probe sockets stay bound until every port is found, so the ports
    differ; they are released before returning, for the children to bind.

    Raises:
        ValueError: If ``count`` is not a positive integer.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(
            f"Invalid value for argument `count`. Expected a positive integer. "
            f"Received count={count!r}."
        )
    probes = []
    try:
        for _ in range(count):
            probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            probes.append(probe)
            probe.bind((host, 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


@dataclasses.dataclass
class Child:
    """One started child process.

    Attributes:
        name: What the launcher calls it (``chief``, ``worker 1``, ...).
        command: Its command line.
        env: Its environment.
        process: The running (or ended) process; replaced by `Children.restart`.
        log: The file receiving its output, or None when it is streamed.
        output: Its streamed output lines, stdout and stderr as they came.
        stdout: Its streamed stdout lines only.
        show: Which streamed stdout lines are echoed to this process's stdout.
        readers: The threads reading its streamed output.
        cwd: Its working folder (None: the launcher's).
    """

    name: str
    command: Sequence[str]
    env: Mapping[str, str]
    process: subprocess.Popen
    log: Path | None = None
    output: list[str] = dataclasses.field(default_factory=list)
    stdout: list[str] = dataclasses.field(default_factory=list)
    show: Callable[[str], bool] | None = None
    readers: list[threading.Thread] = dataclasses.field(default_factory=list)
    cwd: str | Path | None = None

    def tail(self, lines: int = TAIL_LINES) -> str:
        """The last ``lines`` lines of its output (its log file, or the streamed lines)."""
        if self.log is None:
            return "\n".join(self.output[-lines:])
        with contextlib.suppress(OSError):
            text = self.log.read_text(encoding="utf-8", errors="replace")
            return "\n".join(text.splitlines()[-lines:])
        return ""


@dataclasses.dataclass(frozen=True)
class Failure:
    """A child that exited with an error.

    Attributes:
        name: The child's name.
        pid: Its process id.
        status: Its exit status (negative: killed by that signal).
        tail: The last lines of its output.
        log: Its log file, if it wrote to one.
    """

    name: str
    pid: int
    status: int
    tail: str
    log: Path | None = None

    def describe(self) -> str:
        """``NAME (pid P) exited with status S; the end of LOG:`` and the tail."""
        where = f"the end of {self.log}" if self.log else "the end of its output"
        status = f"{self.name} (pid {self.pid}) exited with status {self.status}"
        return f"{status}; {where}:\n{self.tail}"


class ChildFailedError(RuntimeError):
    """A child of a launcher failed; every child was stopped.

    Attributes:
        failures: The children that exited with an error.
    """

    def __init__(self, what: str, failures: Sequence[Failure]):
        self.failures = tuple(failures)
        details = "\n".join(failure.describe() for failure in self.failures)
        super().__init__(f"A {what} failed; all were stopped.\n{details}")


def _read(stream, child: Child, is_stdout: bool) -> None:
    for line in stream:
        text = line.rstrip("\n")
        child.output.append(text)
        if is_stdout:
            child.stdout.append(text)
            if child.show is not None and not child.show(text):
                continue
        print(text, file=sys.stdout if is_stdout else sys.stderr, flush=True)


def _group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


class Children:
    """The children of one launcher, stopped together on any exit (a context manager).

    Args:
        what: What a child is, for error messages (``worker``, ``search process``).
        grace: Seconds between SIGTERM and SIGKILL, for all children together.

    Raises:
        ValueError: If ``grace`` is negative.

    Example:
        >>> with Children("worker") as children:  # doctest: +SKIP
        ...     children.start("a", [sys.executable, "-c", "pass"], env=dict(os.environ))
        ...     children.watch(finished=children.all_ended)
    """

    def __init__(self, what: str, grace: float = GRACE_S):
        if not grace >= 0:
            raise ValueError(
                "Invalid value for argument `grace`. Expected seconds >= 0. "
                f"Received grace={grace!r}."
            )
        self.what = what
        self.grace = grace
        self.children: dict[str, Child] = {}

    def __enter__(self) -> Children:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __getitem__(self, name: str) -> Child:
        return self.children[name]

    def start(
        self,
        name: str,
        command: Sequence[str],
        *,
        env: Mapping[str, str],
        log: Path | None = None,
        show: Callable[[str], bool] | None = None,
        cwd: str | Path | None = None,
    ) -> Child:
        """Starts a child in a process group of its own.

        Args:
            name: Its name; unique among the children.
            command: Its command line.
            env: Its whole environment.
            log: A file its stdout and stderr are appended to; None streams
                them to this process's stdout and stderr, keeping the lines.
            show: For streamed output: which stdout lines to echo (all if None).
            cwd: Its working folder (this process's if None).

        Returns:
            The started `Child`.

        Raises:
            ValueError: If a child called ``name`` is still running.
        """
        earlier = self.children.get(name)
        if earlier is not None and earlier.process.poll() is None:
            raise ValueError(
                f"Invalid value for argument `name`. A child called {name!r} is still running "
                f"(pid {earlier.process.pid})."
            )
        if log is not None:
            with open(log, "a", encoding="utf-8") as sink:
                process = subprocess.Popen(
                    list(command),
                    env=dict(env),
                    cwd=cwd,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            child = Child(name, tuple(command), dict(env), process, log=Path(log), cwd=cwd)
        else:
            process = subprocess.Popen(
                list(command),
                env=dict(env),
                cwd=cwd,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                start_new_session=True,
            )
            child = Child(name, tuple(command), dict(env), process, show=show, cwd=cwd)
            for stream, is_stdout in ((process.stdout, True), (process.stderr, False)):
                reader = threading.Thread(
                    target=_read, args=(stream, child, is_stdout), daemon=True
                )
                reader.start()
                child.readers.append(reader)
        self.children[name] = child
        return child

    def restart(self, name: str) -> Child:
        """Starts ``name`` again with the same command, environment, log and folder."""
        child = self.children[name]
        self._finish_reading(child)
        return self.start(
            name, child.command, env=child.env, log=child.log, show=child.show, cwd=child.cwd
        )

    def status(self) -> dict[str, int | None]:
        """Each child's exit status, None while it runs."""
        return {name: child.process.poll() for name, child in self.children.items()}

    def all_ended(self) -> bool:
        """Whether every child has exited."""
        return all(code is not None for code in self.status().values())

    def watch(
        self,
        *,
        finished: Callable[[], bool],
        on_error: Callable[[Child, int], bool] | None = None,
        poll_s: float = POLL_S,
    ) -> None:
        """Waits until ``finished()``; stops every child and raises if one fails.

        Args:
            finished: Called every ``poll_s`` seconds; True ends the watch.
            on_error: Called once per process that exits with a non-zero
                status; True means the launcher handled it (e.g. restarted
                the child), False that it is a failure.
            poll_s: Seconds between checks.

        Raises:
            ChildFailedError: If a child exits with an error that ``on_error``
                does not handle; every child is stopped first.
        """
        handled: set[int] = set()
        while True:
            failures = []
            for child in list(self.children.values()):
                process = child.process
                code = process.poll()
                if code in (None, 0) or id(process) in handled:
                    continue
                if on_error is not None and on_error(child, code):
                    handled.add(id(process))
                    continue
                failures.append(child)
            if failures:
                self.stop()
                raise ChildFailedError(
                    self.what,
                    [
                        Failure(c.name, c.process.pid, c.process.returncode, c.tail(), c.log)
                        for c in failures
                    ],
                )
            if finished():
                return
            time.sleep(poll_s)

    def stop(self) -> None:
        """Stops every child's process group: SIGTERM, one grace period, then SIGKILL.

        Groups whose leader has already exited are signalled too: what the
        child started is stopped with it. Safe to call more than once.
        """
        children = list(self.children.values())
        for child in children:
            _signal_group(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        alive = children
        while alive and time.monotonic() < deadline:
            alive = [c for c in alive if c.process.poll() is None or _group_alive(c.process.pid)]
            if alive:
                time.sleep(0.05)
        for child in alive:
            _signal_group(child.process.pid, signal.SIGKILL)
        for child in children:
            child.process.wait()
            self._finish_reading(child)

    @staticmethod
    def _finish_reading(child: Child) -> None:
        for reader in child.readers:
            reader.join(timeout=30)
        for stream in (child.process.stdout, child.process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
