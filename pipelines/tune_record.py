"""What a search folder remembers: the settings its trials were trained with, and its parent run.

A search lives in ``directory/project_name`` (Keras Tuner's state) and a rerun
of the same command continues it. Two records make that safe:

- ``search_settings.json``: the trial settings
  (`pipelines.tune_config.TuneConfig.trial_settings`) and the tracking URI.
  `claim_search_folder` refuses a rerun whose settings differ, since its new
  trials would not be comparable with the saved ones (other epochs, data,
  search space, objective, ...) or would be logged to another store than the
  saved ones; ``max_trials`` may grow, and the search then continues.
- ``mlflow_parent_run.json``: the parent run that holds the trials' child
  runs, so that `search_parent_run` continues it (or adopts its children).
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import mlflow
from mlflow.entities import RunStatus

from pipelines.devices import DevicePlan
from pipelines.options import unquoted
from pipelines.tracking import environment_tags, log_new_params, tracked_run
from pipelines.trial_runs import PROJECT_TAG, TrialRuns
from pipelines.tune_config import TuneConfig

logger = logging.getLogger(__name__)

PARENT_RECORD = "mlflow_parent_run.json"
SETTINGS_RECORD = "search_settings.json"
TRACKING_URI_SETTING = "tracking_uri"


def _read_json(path: Path) -> dict | None:
    with contextlib.suppress(OSError, ValueError):
        record = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(record, dict):
            return record
    return None


def has_trials(project_dir: Path) -> bool:
    """Whether Keras Tuner saved a search state or a trial in the folder."""
    return (project_dir / "oracle.json").exists() or any(project_dir.glob("trial_*"))


def search_settings(config: TuneConfig, tracking_uri: str) -> dict[str, str]:
    """The settings a search folder records: the trial settings and the tracking URI."""
    return {**config.trial_settings(), TRACKING_URI_SETTING: tracking_uri}


def claim_search_folder(config: TuneConfig) -> Path:
    """The search folder of ``config``, checked against its records and recorded.

    With ``overwrite`` the folder is deleted first. A folder with saved trials
    continues only with the settings it recorded; ``max_trials``, the process
    counts and the output folders may differ (see `TuneConfig`).

    Returns:
        ``directory/project_name``, existing, with ``search_settings.json``.

    Raises:
        ValueError: If the saved trials were trained with other settings,
            listing each differing option (saved -> now) and the ways out.
    """
    project_dir = Path(config.directory) / config.search_name
    if config.overwrite and project_dir.exists():
        shutil.rmtree(project_dir)
    current = search_settings(config, mlflow.get_tracking_uri())
    if has_trials(project_dir):
        saved = _read_json(project_dir / SETTINGS_RECORD)
        if saved is None:
            raise ValueError(
                f"The saved search {project_dir} has no record of the settings its trials were "
                f"trained with ({SETTINGS_RECORD}), so new trials might not be comparable. "
                "Choose another search with --project_name <other>, or start afresh with "
                "--overwrite true."
            )
        differing = [
            f"{name}: {saved.get(name)!r} -> {current.get(name)!r}"
            for name in sorted(saved.keys() | current.keys())
            if saved.get(name) != current.get(name)
        ]
        if differing:
            raise ValueError(
                f"The saved search {project_dir} was run with other settings; its trials "
                f"would not be comparable with new ones: {'; '.join(differing)}. Rerun with "
                "the saved settings to continue it (only max_trials, the process counts and "
                "the output folders may change), choose another search with "
                "--project_name <other>, or start afresh with --overwrite true."
            )
    project_dir.mkdir(parents=True, exist_ok=True)
    (project_dir / SETTINGS_RECORD).write_text(
        json.dumps(current, indent=1, sort_keys=True), encoding="utf-8"
    )
    return project_dir


def _reopens(earlier: str, config: TuneConfig) -> bool:
    """Whether the earlier parent run was logged with exactly these options."""
    with contextlib.suppress(mlflow.exceptions.MlflowException):
        logged = mlflow.MlflowClient().get_run(earlier).data.params
        return all(
            unquoted(logged.get(name, "")) == value for name, value in config.as_params().items()
        )
    return False


@contextlib.contextmanager
def search_parent_run(
    config: TuneConfig, project_dir: Path, plan: DevicePlan
) -> Iterator[TrialRuns]:
    """The parent run of a search: new, or the one an earlier attempt of it left.

    The earlier parent run (same tracking URI) is continued when it was
    logged with the same options (a killed search resumed by the same
    command). Otherwise — under ``mlflow run`` (a new run each time), or with
    another ``max_trials`` — a new parent run adopts the earlier one's
    children, and the earlier one gets a ``resumed_by`` tag (and is marked
    KILLED if it was left RUNNING). Child runs left RUNNING by a killed
    attempt are marked KILLED. The run ends like any tracked run (FINISHED,
    FAILED with the reason, KILLED on an interrupt).

    Args:
        config: The search.
        project_dir: Its folder (`claim_search_folder`).
        plan: How this process trains (its tags and global batch are logged).

    Yields:
        The `TrialRuns` of the parent.
    """
    record = _read_json(project_dir / PARENT_RECORD) or {}
    tracking_uri = mlflow.get_tracking_uri()
    earlier = record.get("run_id") if record.get("tracking_uri") == tracking_uri else None
    reopen = earlier if earlier and _reopens(earlier, config) else None
    with tracked_run(run_name=config.search_name, run_id=reopen) as run:
        run_id = run.info.run_id
        (project_dir / PARENT_RECORD).write_text(
            json.dumps({"run_id": run_id, "tracking_uri": tracking_uri}), encoding="utf-8"
        )
        log_new_params(config.as_params())
        log_new_params({"global_batch_size": plan.global_batch_size})
        mlflow.set_tags(
            {
                **environment_tags(use_gpus=plan.gpus > 0),
                **plan.tags(),
                PROJECT_TAG: config.search_name,
            }
        )
        trial_runs = TrialRuns(run_id, tracking_uri)
        if earlier and earlier != run_id:
            client = mlflow.MlflowClient(tracking_uri)
            with contextlib.suppress(mlflow.exceptions.MlflowException):
                moved = trial_runs.adopt(earlier)
                mlflow.set_tag("resumed_from", earlier)
                client.set_tag(earlier, "resumed_by", run_id)
                if client.get_run(earlier).info.status == "RUNNING":
                    client.set_terminated(earlier, RunStatus.to_string(RunStatus.KILLED))
                logger.info("Resuming search %s: adopted %d child runs", config.search_name, moved)
        closed = trial_runs.close_interrupted()
        if closed:
            logger.info("Marked %d interrupted trial runs KILLED: %s", len(closed), closed)
        yield trial_runs
