"""The processes of a distributed search: Keras Tuner's chief/worker protocol, local or cluster.

Keras Tuner runs one search over several processes when each has
``KERASTUNER_TUNER_ID`` (``chief`` for the oracle server, any other name for a
worker), ``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT``.
`launch_search_processes` starts a chief and N workers on 127.0.0.1 with
`pipelines.processes.Children` (one log file each under
``directory/project_name/logs``), restarts a worker that exits with
`pipelines.tuners.RECYCLE_EXIT_CODE` while the chief still serves, and stops
all of them by process group if one fails. On a cluster the user sets those
variables on each machine; `distributed_role` reads them and `find_parent`
finds the parent run the chief opened.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import mlflow

from pipelines.options import format_option
from pipelines.processes import Children, free_ports
from pipelines.trial_runs import PROJECT_TAG, TrialRuns
from pipelines.tune_config import TuneConfig
from pipelines.tuners import RECYCLE_EXIT_CODE

PARENT_ENV = "CONVSEQ_TUNE_PARENT_RUN_ID"
CHIEF_ID = "chief"
TUNER_ENV = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")
PARENT_WAIT_S = 120.0
CHIEF_EXIT_WAIT_S = 60.0  # the chief checks every 20 s whether every worker was told to stop
CHIEF_BIND_S = 1.0  # lets the oracle server bind before workers call it
STOP_GRACE_S = 10.0


def distributed_role() -> str | None:
    """``chief``, ``worker`` or None, from Keras Tuner's environment variables.

    Raises:
        ValueError: If ``KERASTUNER_TUNER_ID`` is set without the oracle's
            address, or the other way round.
    """
    present = {name: os.environ.get(name) for name in TUNER_ENV}
    if not any(present.values()):
        return None
    missing = [name for name, value in present.items() if not value]
    if missing:
        raise ValueError(
            f"A distributed search needs all of {list(TUNER_ENV)}; {missing} are not set. "
            "Set them on every machine (chief: KERASTUNER_TUNER_ID=chief), or unset them all "
            "for a one-process search."
        )
    return "chief" if present["KERASTUNER_TUNER_ID"] == CHIEF_ID else "worker"


def find_parent(config: TuneConfig) -> str:
    """The parent run id a worker logs under: from the launcher, or the chief's project tag.

    Raises:
        RuntimeError: If no RUNNING parent run of the search appears in
            `PARENT_WAIT_S` seconds.
    """
    given = os.environ.get(PARENT_ENV)
    if given:
        return given
    deadline = time.monotonic() + PARENT_WAIT_S
    while True:
        runs = mlflow.search_runs(
            search_all_experiments=True,
            filter_string=f"tags.`{PROJECT_TAG}` = '{config.search_name}' "
            "and attributes.status = 'RUNNING'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
            output_format="list",
        )
        if runs:
            return runs[0].info.run_id
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"No RUNNING parent run tagged {PROJECT_TAG}={config.search_name!r} at "
                f"{mlflow.get_tracking_uri()} after {PARENT_WAIT_S:.0f} s: start the chief "
                "(KERASTUNER_TUNER_ID=chief) with the same project_name and tracking URI first."
            )
        time.sleep(2.0)


def cli_arguments(config: TuneConfig) -> list[str]:
    """``--name value`` pairs that rebuild ``config`` on the ``convseq tune`` command line."""
    arguments = []
    for field in dataclasses.fields(config):
        arguments += [f"--{field.name}", format_option(getattr(config, field.name))]
    return arguments


def _search_done(children: Children) -> bool:
    """Every worker ended (a recycled one only once the chief has ended too)."""
    status = children.status()
    workers = [code for name, code in status.items() if name != CHIEF_ID]
    if not all(code in (0, RECYCLE_EXIT_CODE) for code in workers):
        return False
    return all(code == 0 for code in workers) or status[CHIEF_ID] is not None


def launch_search_processes(
    config: TuneConfig, count: int, trial_runs: TrialRuns, project_dir: Path
) -> dict[str, Path]:
    """Starts the chief and ``count`` workers on 127.0.0.1 and waits for them.

    A worker that exits with `RECYCLE_EXIT_CODE` (it ran its
    ``trials_per_process``) is started again while the chief still serves;
    the restarts are logged to the active run as ``worker_restarts``.

    Args:
        config: The search; each process runs it with ``search_workers=0``.
        count: Workers to start besides the chief (1 or more).
        trial_runs: The parent run the workers log their trials under.
        project_dir: The search folder; the logs go to its ``logs`` folder.

    Returns:
        The log file of each process, by name.

    Raises:
        ValueError: If ``count`` is not a positive integer.
        pipelines.processes.ChildFailedError: If a process fails; all are
            stopped, and the message names it and shows its last lines.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(
            "Invalid value for argument `count`. Expected a positive integer. "
            f"Received count={count!r}."
        )
    child_config = dataclasses.replace(config, search_workers=0, overwrite=False)
    command = [sys.executable, "-m", "pipelines.cli", "tune", *cli_arguments(child_config)]
    environment = {key: value for key, value in os.environ.items() if key != "MLFLOW_RUN_ID"}
    environment.update(
        {
            "KERASTUNER_ORACLE_IP": "127.0.0.1",
            "KERASTUNER_ORACLE_PORT": str(free_ports(1)[0]),
            PARENT_ENV: trial_runs.parent_run_id,
            "MLFLOW_TRACKING_URI": trial_runs.tracking_uri,
            "MLFLOW_EXPERIMENT_ID": mlflow.get_run(trial_runs.parent_run_id).info.experiment_id,
        }
    )
    log_dir = project_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    names = [CHIEF_ID] + [f"tuner{i}" for i in range(count)]
    restarts = 0

    with Children("search process", grace=STOP_GRACE_S) as children:

        def recycle(child, status: int) -> bool:
            nonlocal restarts
            if status != RECYCLE_EXIT_CODE or child.name == CHIEF_ID:
                return False
            if children[CHIEF_ID].process.poll() is None:
                children.restart(child.name)
                restarts += 1
            return True

        for name in names:
            log = log_dir / f"{name}.log"
            log.write_text("", encoding="utf-8")
            children.start(name, command, env={**environment, "KERASTUNER_TUNER_ID": name}, log=log)
            if name == CHIEF_ID:
                time.sleep(CHIEF_BIND_S)
        children.watch(finished=lambda: _search_done(children), on_error=recycle, poll_s=0.5)
        with contextlib.suppress(subprocess.TimeoutExpired):
            # the chief's oracle state is already saved; it exits once it sees the end
            children[CHIEF_ID].process.wait(CHIEF_EXIT_WAIT_S)
    if restarts:
        mlflow.log_metric("worker_restarts", restarts)
    return {name: log_dir / f"{name}.log" for name in names}
