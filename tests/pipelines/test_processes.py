"""The launchers' process toolkit, with real tiny child processes."""

import os
import socket
import sys
import time

import psutil
import pytest

from pipelines.processes import ChildFailedError, Children, free_ports

# A child that starts a grandchild in its own process group, prints both pids,
# then sleeps: stopping the child's group must stop the grandchild too.
PARENT_OF_SLEEPER = """
import subprocess, sys, time
sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print("grandchild", sleeper.pid, flush=True)
time.sleep(600)
"""
# Ignores SIGTERM: only SIGKILL ends it.
STUBBORN = """
import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
time.sleep(600)
"""
FAILING = """
import sys, time
time.sleep(0.5)
for i in range(40):
    print(f"line {i}")
print("the real reason", file=sys.stderr)
sys.exit(3)
"""


def python(code):
    return [sys.executable, "-c", code]


def wait_for_line(child, prefix, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = child.output if child.log is None else child.log.read_text().splitlines()
        for line in lines:
            if line.startswith(prefix):
                return line
        time.sleep(0.05)
    pytest.fail(f"{child.name} printed no line starting with {prefix!r}")


def gone(pid):
    try:
        process = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return True
    return process.status() == psutil.STATUS_ZOMBIE


def test_free_ports_are_distinct_and_bindable():
    ports = free_ports(5)
    assert len(set(ports)) == 5
    probes = []
    try:
        for port in ports:
            probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            probes.append(probe)
            probe.bind(("127.0.0.1", port))  # raises if taken
    finally:
        for probe in probes:
            probe.close()
    with pytest.raises(ValueError, match="Received count=0"):
        free_ports(0)


def test_a_failed_child_stops_the_others_by_process_group_and_shows_its_tail(tmp_path):
    env = dict(os.environ)
    children = Children("test process", grace=5.0)
    with children:
        sleeper = children.start("sleeper", python(PARENT_OF_SLEEPER), env=env)
        logged = children.start(
            "logged", python(PARENT_OF_SLEEPER), env=env, log=tmp_path / "logged.log"
        )
        grandchildren = [int(wait_for_line(c, "grandchild").split()[1]) for c in (sleeper, logged)]
        children.start("failing", python(FAILING), env=env, log=tmp_path / "failing.log")
        started = time.monotonic()
        with pytest.raises(ChildFailedError) as raised:
            children.watch(finished=children.all_ended)
        took = time.monotonic() - started
    message = str(raised.value)
    assert message.startswith("A test process failed; all were stopped.")
    assert f"failing (pid {children['failing'].process.pid}) exited with status 3" in message
    assert str(tmp_path / "failing.log") in message
    # the last 15 lines: lines 26..39 and the stderr reason, not line 25
    assert message.endswith(
        "line 26\n" + "".join(f"line {i}\n" for i in range(27, 40)) + "the real reason"
    )
    assert "line 25" not in message
    assert [f.name for f in raised.value.failures] == ["failing"]
    # SIGTERM ended the others and their grandchildren at once, not after the grace period
    assert took < 4.0
    for name in ("sleeper", "logged"):
        assert children[name].process.returncode == -15
    for pid in [children[n].process.pid for n in ("sleeper", "logged")] + grandchildren:
        assert gone(pid), pid
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period():
    children = Children("test process", grace=1.5)
    stubborn = children.start("stubborn", python(STUBBORN), env=dict(os.environ))
    quick = children.start("quick", python("import time; time.sleep(600)"), env=dict(os.environ))
    wait_for_line(stubborn, "ready")
    started = time.monotonic()
    children.stop()
    took = time.monotonic() - started
    assert 1.4 <= took < 5.0  # one grace period, then SIGKILL
    assert stubborn.process.returncode == -9
    assert quick.process.returncode == -15
    assert gone(stubborn.process.pid) and gone(quick.process.pid)
    children.stop()  # a second stop is harmless


def test_streamed_output_is_echoed_as_filtered_and_kept(capfd):
    code = (
        "import sys; print('Epoch 1/2 - loss: 0.5'); print('run_id: abc'); "
        "print('oops', file=sys.stderr)"
    )
    with Children("test process", grace=1.0) as children:
        child = children.start(
            "chief",
            python(code),
            env=dict(os.environ),
            show=lambda line: not line.partition(": ")[0].isidentifier(),
        )
        children.watch(finished=children.all_ended)
    out, err = capfd.readouterr()
    assert "Epoch 1/2 - loss: 0.5" in out and "run_id" not in out
    assert "oops" in err
    assert child.stdout == ["Epoch 1/2 - loss: 0.5", "run_id: abc"]
    assert sorted(child.output) == sorted(["Epoch 1/2 - loss: 0.5", "run_id: abc", "oops"])


def test_a_handled_exit_restarts_the_child_with_its_log(tmp_path):
    # exits with 75 twice (counting its starts in a file), then with 0
    counter = tmp_path / "starts"
    code = (
        "import pathlib, sys; p = pathlib.Path(sys.argv[1]); "
        "n = int(p.read_text()) + 1 if p.exists() else 1; p.write_text(str(n)); "
        "print('start', n); sys.exit(75 if n < 3 else 0)"
    )
    restarts = []

    def on_error(child, status):
        if status != 75:
            return False
        restarts.append(children.restart(child.name).process.pid)
        return True

    with Children("test process", grace=1.0) as children:
        # a relative path: the restarted child must run in the same folder
        children.start(
            "worker",
            [*python(code), counter.name],
            env=dict(os.environ),
            log=tmp_path / "w.log",
            cwd=tmp_path,
        )
        children.watch(finished=children.all_ended, on_error=on_error, poll_s=0.05)
    assert len(restarts) == 2 and counter.read_text() == "3"
    assert children["worker"].process.returncode == 0
    assert (tmp_path / "w.log").read_text().split() == ["start", "1", "start", "2", "start", "3"]
    with pytest.raises(ChildFailedError, match="exited with status 75"):
        counter.unlink()
        with Children("test process", grace=1.0) as again:
            again.start("worker", [*python(code), str(counter)], env=dict(os.environ))
            again.watch(finished=again.all_ended, on_error=lambda child, status: False)


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="Received grace=-1"):
        Children("x", grace=-1)
    with Children("x", grace=1.0) as children:
        children.start("a", python("import time; time.sleep(600)"), env=dict(os.environ))
        with pytest.raises(ValueError, match="'a' is still running"):
            children.start("a", python("pass"), env=dict(os.environ))
