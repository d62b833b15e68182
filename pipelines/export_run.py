"""The export entry point: a trained run's SavedModel as the next version of an export folder.

``convseq export --run_id <id>`` (``mlflow run . -e export -P run_id=<id>``)
copies the ``saved_model`` artifacts a training run logged into
``<export_dir>/<model_name>/<next version>/``, staged and renamed into
place like every export: an existing version is never touched and an
interrupted export leaves no partial version folder. Works for every task,
since every training run logs its SavedModel.

Importing this module loads neither TensorFlow nor MLflow (``convseq
--help`` reads `ExportConfig`); `export_run` imports MLflow when it runs.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.export_versions import write_versioned
from pipelines.options import option_field, parse_fields

if TYPE_CHECKING:
    import mlflow

SAVED_MODEL_ARTIFACTS = "saved_model"


@dataclasses.dataclass(frozen=True)
class ExportConfig:
    """What to export and where.

    Attributes:
        run_id: The training run whose SavedModel is exported.
        export_dir: Root folder of exports.
        model_name: Subfolder of the model (``""``: the folder the training
            run exported to, e.g. ``fashion_mnist_cnn``).
    """

    run_id: str = option_field("", "the training run whose SavedModel is exported")
    export_dir: str = option_field("exports", "root folder of <model_name>/<version>/ exports")
    model_name: str = option_field("", "model folder (empty: the training run's)")

    def __post_init__(self):
        parse_fields(self)
        if not self.run_id.strip():
            raise ValueError(
                "Invalid value for argument `run_id`. Expected the id of a training run "
                "(`convseq train` prints it; the MLflow UI shows it). "
                f"Received run_id={self.run_id!r}."
            )
        if not self.export_dir.strip():
            raise ValueError(
                "Invalid value for argument `export_dir`. Expected a folder path. "
                f"Received export_dir={self.export_dir!r}."
            )
        if "/" in self.model_name or self.model_name in (".", ".."):
            raise ValueError(
                "Invalid value for argument `model_name`. Expected a folder name. "
                f"Received model_name={self.model_name!r}."
            )


def _training_run(run_id: str) -> mlflow.entities.Run:
    import mlflow

    try:
        return mlflow.MlflowClient().get_run(run_id)
    except mlflow.exceptions.MlflowException as error:
        raise ValueError(
            f"No run {run_id!r} at {mlflow.get_tracking_uri()} ({error.message.splitlines()[0]}). "
            "Check the run id and MLFLOW_TRACKING_URI."
        ) from None


def export_run(config: ExportConfig) -> Path:
    """Exports a training run's SavedModel as the next version; returns its folder.

    Raises:
        ValueError: If the run does not exist or logged no SavedModel.
    """
    import mlflow

    from pipelines.tracking import log_new_params, tracked_run

    run = _training_run(config.run_id)
    logged = mlflow.MlflowClient().list_artifacts(config.run_id, SAVED_MODEL_ARTIFACTS)
    if not any(Path(a.path).name == "saved_model.pb" for a in logged):
        raise ValueError(
            f"Run {config.run_id!r} (status {run.info.status}) logged no SavedModel under "
            f"'{SAVED_MODEL_ARTIFACTS}/'; only runs that finished training can be exported."
        )
    exported_to = run.data.tags.get("export_path", "")
    model_name = config.model_name or Path(exported_to).parent.name or run.info.run_name

    def write(path: Path) -> None:
        download = path.parent / "download"
        mlflow.artifacts.download_artifacts(
            run_id=config.run_id, artifact_path=SAVED_MODEL_ARTIFACTS, dst_path=str(download)
        )
        shutil.move(str(download / SAVED_MODEL_ARTIFACTS), str(path))

    with tracked_run(run_name=f"export_{model_name}"):
        log_new_params(dataclasses.asdict(config))
        path = write_versioned(write, config.export_dir, model_name)
        mlflow.set_tags({"export_path": str(path.resolve()), "exported_from_run": config.run_id})
    return path
