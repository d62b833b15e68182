"""What a faces run does once its embedder is trained: threshold, evaluate, plot, log, export.

- The threshold: the most accurate cut of the validation people's pairs
  (`pipelines.face_verification.best_threshold`), logged as the metric
  ``validation_threshold`` with the false-accept rate it had there
  (``validation_far``).
- Test metrics on the test people: ``test_verification_accuracy`` (LFW's
  10-fold protocol; ``_standard_error`` the ± LFW results quote),
  ``test_roc_auc``, ``test_tar_at_far_1pct`` and ``test_tar_at_far_0_1pct``,
  ``test_rank1_accuracy`` (each person's first photo enrolled in a gallery
  of all the test people, `pipelines.face_gallery`, their other photos asked).
- ``plots/roc.png``: the test ROC curve, false-accept rate on a log axis.
- Exports: ``embed`` (`pipelines.export_search.export_embedder`; the run's
  ``saved_model`` and MLflow ``serving_model``) and ``verify``
  (`pipelines.export_faces.export_verifier`, the ``verify_saved_model``
  artifacts and the ``verify_export_path`` tag).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import keras
    from matplotlib.figure import Figure

    from pipelines.config import TrainConfig
    from pipelines.face_data import FaceData, PairRows
    from pipelines.tracking import TaskOutcome

VERIFY_ARTIFACTS = "verify_saved_model"
VERIFY_EXPORT_TAG = "verify_export_path"
THRESHOLD_METRIC = "validation_threshold"
FARS = {"1pct": 1e-2, "0_1pct": 1e-3}
"""Metric suffix -> the false-accept rate the true-accept rate is read at."""


def pair_scores(vectors: np.ndarray, pairs: PairRows) -> np.ndarray:
    """The cosine of each pair's two embeddings."""
    from pipelines.face_verification import cosine_scores

    return cosine_scores(vectors[pairs.first], vectors[pairs.second])


def verification_metrics(scores: np.ndarray, pairs: PairRows) -> dict[str, float]:
    """10-fold accuracy (and its standard error), ROC AUC and TAR at each of `FARS`."""
    from pipelines.face_verification import roc_auc, tar_at_far, ten_fold_accuracy

    folds = ten_fold_accuracy(scores, pairs.same, pairs.folds)
    metrics = {
        "verification_accuracy": folds["accuracy"],
        "verification_accuracy_standard_error": folds["accuracy_standard_error"],
        "roc_auc": roc_auc(scores, pairs.same),
    }
    for suffix, far in FARS.items():
        metrics[f"tar_at_far_{suffix}"] = tar_at_far(scores, pairs.same, far)
    return metrics


def face_metrics(vectors: np.ndarray, labels: np.ndarray, pairs: PairRows) -> dict[str, float]:
    """`verification_metrics` and ``rank1_accuracy`` of one set's embeddings."""
    from pipelines.face_gallery import rank1_identification

    metrics = verification_metrics(pair_scores(vectors, pairs), pairs)
    metrics["rank1_accuracy"] = rank1_identification(vectors, labels)["rank1_accuracy"]
    return metrics


def chosen_threshold(vectors: np.ndarray, pairs: PairRows) -> tuple[float, float]:
    """``(threshold, false-accept rate)``: the most accurate cut of these pairs, and its FAR."""
    from pipelines.face_verification import best_threshold

    scores = pair_scores(vectors, pairs)
    threshold = best_threshold(scores, pairs.same)
    return threshold, float(np.mean(scores[~pairs.same] > threshold))


def roc_figure(scores: np.ndarray, same: np.ndarray, threshold: float) -> Figure:
    """The ROC curve, false-accept rate on a log axis, with the validation threshold marked."""
    from matplotlib.figure import Figure

    from pipelines.face_verification import roc_auc, roc_curve

    far, tar, thresholds = roc_curve(scores, same)
    figure = Figure(figsize=(6, 4.5))
    axes = figure.subplots()
    floor = 1 / max(1, int((~np.asarray(same)).sum()))
    axes.plot(np.maximum(far, floor), tar, label=f"AUC {roc_auc(scores, same):.4f}")
    at = np.flatnonzero(thresholds > threshold)[-1]
    axes.plot(max(far[at], floor), tar[at], "o", label=f"validation threshold {threshold:.3f}")
    axes.set(
        xscale="log",
        xlim=(floor, 1),
        ylim=(0, 1.01),
        xlabel="false-accept rate (different people accepted)",
        ylabel="true-accept rate (same person accepted)",
        title="Face verification ROC, test people",
    )
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="lower right")
    figure.tight_layout()
    return figure


def finish_faces(config: TrainConfig, data: FaceData, embedder: keras.Model) -> TaskOutcome:
    """Chooses the threshold, evaluates, plots, logs and exports, in the active run.

    Returns:
        A `TaskOutcome` whose export is the ``embed`` SavedModel.
    """
    import mlflow

    from pipelines.export_faces import export_verifier
    from pipelines.export_search import export_embedder
    from pipelines.tracking import TaskOutcome, log_export
    from pipelines.visual_search import embed_images

    validation = embed_images(embedder, data.validation.images, config.batch_size)
    threshold, far = chosen_threshold(validation, data.validation_pairs)
    test = embed_images(embedder, data.test.images, config.batch_size)
    metrics = face_metrics(test, data.test.labels, data.test_pairs)
    test_metrics = {f"test_{name}": value for name, value in metrics.items()}
    mlflow.log_metrics({**test_metrics, THRESHOLD_METRIC: threshold, "validation_far": far})
    mlflow.log_figure(
        roc_figure(pair_scores(test, data.test_pairs), data.test_pairs.same, threshold),
        "plots/roc.png",
    )
    embed_path = export_embedder(embedder, config.export_dir, f"{data.name}_embed")
    log_export(embed_path, data.test.images[:2], config.registered_model_name)
    verify_path = export_verifier(
        embedder,
        threshold,
        config.export_dir,
        f"{data.name}_verify",
        {"validation_far": far, "image_size": config.image_size, "aligned": config.align},
    )
    mlflow.log_artifacts(str(verify_path), VERIFY_ARTIFACTS)
    mlflow.set_tag(VERIFY_EXPORT_TAG, str(verify_path.resolve()))
    print(f"verify SavedModel: {verify_path.resolve()} (threshold {threshold:.4f})")
    return TaskOutcome(embed_path, test_metrics)
