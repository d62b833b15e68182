"""Typed configuration of the tune pipeline: the train options plus the search.

`TuneConfig` extends `TrainConfig`: its train options (dataset, epochs,
batch size, ``filters``/``kernel_size``/``stride``/``padding`` or
``cell``/``units``/...) are the *default configuration* of the search — the
first trial, which the search has to beat — and the data every trial uses.
The search fields say what is tried. Each field is a ``convseq tune`` option
and a parameter of the MLproject ``tune`` entry point of the same name; each
value is parsed once, by its field's parser, when the config is made.
"""

from __future__ import annotations

import dataclasses
import os

from common.recurrent import parse_cells
from common.validation import check_non_negative_int, check_positive_int
from pipelines.config import TrainConfig, either
from pipelines.options import choice_parser, option_field
from pipelines.search_tuning import RETRIEVAL_K
from pipelines.tune_parsers import (
    TUNERS,
    check_factor,
    check_folder,
    check_folder_name,
    parse_float_choices,
    parse_int_choices,
    parse_learning_rate_range,
    parse_paddings,
)

TUNE_TASKS = ("classify", "sentiment", "search", "ocr")
# What each task's trials report, its default objective first.
TASK_OBJECTIVES = {
    "classify": ("val_accuracy", "val_loss", "accuracy", "loss"),
    "sentiment": ("val_accuracy", "val_loss", "accuracy", "loss"),
    "search": (
        f"val_map_at_{RETRIEVAL_K}",
        f"val_precision_at_{RETRIEVAL_K}",
        "val_loss",
        "loss",
    ),
    "ocr": ("val_cer", "val_exact_accuracy", "val_loss", "loss"),
}
OBJECTIVES = tuple(dict.fromkeys(name for names in TASK_OBJECTIVES.values() for name in names))
DIRECTIONS = ("min", "max")
# The search-space options each task's hypermodel reads; other tasks' stay at their defaults.
SEARCH_OPTIONS = {
    "classify": (
        "kernel_sizes",
        "strides",
        "paddings",
        "filter_choices",
        "pool_sizes",
        "dense_units",
    ),
    "sentiment": ("cells", "units_choices", "max_layers", "embedding_dims", "clipnorms"),
    "search": ("embedding_sizes", "margins"),
    "ocr": ("kernel_sizes", "strides", "filter_choices", "units_choices"),
}
# Options that change neither what a trial trains nor how it is scored: how many
# trials, how many processes run them, whether to start afresh, where results go.
NOT_TRIAL_SETTINGS = (
    "max_trials",
    "search_workers",
    "trials_per_process",
    "workers",
    "overwrite",
    "directory",
    "project_name",
    "export_dir",
    "registered_model_name",
    "checkpoint_dir",
    "resume_run_id",
)


@dataclasses.dataclass(frozen=True)
class TuneConfig(TrainConfig):
    """A hyperparameter search: the train options (its default trial) plus the search.

    The *trial settings* (`trial_settings`) are every option except
    `NOT_TRIAL_SETTINGS`: how many trials, how many processes run them
    (``search_workers``, ``trials_per_process``, the training ``workers``),
    ``overwrite`` and where things go (``directory``, ``project_name``,
    ``export_dir``, ``registered_model_name``). Trials trained with other
    trial settings are not comparable, so a saved search only continues with
    its own (`pipelines.tune_record`).

    Attributes:
        tuner: ``random``, ``hyperband`` or ``bayesian``.
        objective: The metric to optimize, one the task's trials report
            (`TASK_OBJECTIVES`); ``""``: the task's default (``val_accuracy``,
            ``val_map_at_10`` for search: validation images searched among
            the training images, by class; ``val_cer`` for ocr).
        direction: ``max`` or ``min``; ``""``: ``min`` for losses and errors,
            ``max`` otherwise.
        max_trials: Trials to run (the first is the default configuration); a
            rerun with more continues the saved search.
        executions_per_trial: Models trained per trial; their scores are averaged.
        hyperband_factor: Hyperband's reduction factor.
        directory: Folder of searches; the search state lives in
            ``directory/project_name`` and a rerun resumes it.
        project_name: ``""``: ``<task>_<dataset>_<tuner>``.
        overwrite: Delete the saved search and start afresh.
        search_workers: Search processes on 127.0.0.1 besides the chief (0:
            one process). Not the train option ``workers`` (processes training
            one model), which a search leaves at 1.
        trials_per_process: Restart each search process after this many
            trials (0: never). TensorFlow keeps about 8 MB per trained model
            that ``clear_session`` does not release; a fresh process does.
            With ``search_workers=0`` it runs the search in one worker process.
        kernel_sizes: Filter sizes f tried per conv block (classify; ocr: one for all blocks).
        strides: Strides s tried per conv block (classify; ocr: one for all blocks).
        paddings: Paddings tried per conv block: valid, same, integers p (classify).
        filter_choices: Filter counts tried per conv block (classify, ocr).
        pool_sizes: Max-pooling sizes tried per block, 0 = none (classify).
        dense_units: Hidden dense units tried (classify).
        cells: Recurrent cells tried (sentiment).
        units_choices: Recurrent units tried (sentiment, ocr).
        max_layers: Deepest recurrent stack tried (sentiment).
        embedding_dims: Word vector sizes tried (sentiment).
        clipnorms: Gradient clipping norms tried, 0 = off (sentiment).
        embedding_sizes: Search vector lengths tried (search; even).
        margins: Triplet loss margins tried (search, embedder=triplet).
        learning_rate_range: ``(low, high)`` of the learning rate (log scale).
    """

    tuner: str = option_field(
        "random", "random, hyperband or bayesian", parse=choice_parser("tuner", TUNERS)
    )
    objective: str = option_field(
        "",
        "metric to optimize (empty: the task's default): classify and sentiment: "
        "val_accuracy, val_loss, accuracy or loss; search: val_map_at_10, "
        "val_precision_at_10, val_loss or loss; ocr: val_cer, val_exact_accuracy, val_loss or loss",
        parse=choice_parser("objective", ("", *OBJECTIVES)),
    )
    direction: str = option_field(
        "",
        "max or min (empty: min for losses and errors, else max)",
        parse=choice_parser("direction", ("", *DIRECTIONS)),
    )
    max_trials: int = option_field(
        10,
        "trials to run, the first the default configuration (more: continue a saved search)",
        check=check_positive_int,
    )
    executions_per_trial: int = option_field(
        1, "models trained per trial, scores averaged", check=check_positive_int
    )
    hyperband_factor: int = option_field(3, "hyperband's reduction factor", check=check_factor)
    directory: str = option_field(
        "tuning", "folder of saved searches (a rerun resumes)", check=check_folder
    )
    project_name: str = option_field(
        "", "search name (empty: <task>_<dataset>_<tuner>)", check=check_folder_name
    )
    overwrite: bool = option_field(False, "delete the saved search and start afresh: true or false")
    search_workers: int = option_field(
        0,
        "search processes on 127.0.0.1 besides the chief (0: one process)",
        check=check_non_negative_int,
    )
    trials_per_process: int = option_field(
        0,
        "restart each search process after this many trials, releasing the memory TensorFlow "
        "keeps per model (0: never; with search_workers=0, runs one worker)",
        check=check_non_negative_int,
    )
    kernel_sizes: tuple[int, ...] = option_field(
        (3, 5, 7),
        "classify: filter sizes f tried per conv block; ocr: for all blocks",
        parse=parse_int_choices,
    )
    strides: tuple[int, ...] = option_field(
        (1, 2),
        "classify: strides s tried per conv block; ocr: for all blocks",
        parse=parse_int_choices,
    )
    paddings: tuple[str, ...] = option_field(
        ("same", "valid", "1"),
        "classify: paddings tried per conv block: valid, same, integers p",
        parse=parse_paddings,
    )
    filter_choices: tuple[int, ...] = option_field(
        (16, 32, 64), "classify, ocr: filter counts tried per block", parse=parse_int_choices
    )
    pool_sizes: tuple[int, ...] = option_field(
        (2, 3),
        "classify: max-pooling sizes tried per block (0: none, costly)",
        parse=parse_int_choices,
    )
    dense_units: tuple[int, ...] = option_field(
        (64, 128), "classify: hidden dense units tried", parse=parse_int_choices
    )
    cells: tuple[str, ...] = option_field(
        ("lstm", "gru", "simple_rnn"), "sentiment: recurrent cells tried", parse=parse_cells
    )
    units_choices: tuple[int, ...] = option_field(
        (32, 64, 128), "sentiment, ocr: recurrent units tried", parse=parse_int_choices
    )
    max_layers: int = option_field(
        2, "sentiment: deepest recurrent stack tried", check=check_positive_int
    )
    embedding_dims: tuple[int, ...] = option_field(
        (32, 64, 128), "sentiment: word vector sizes tried", parse=parse_int_choices
    )
    clipnorms: tuple[float, ...] = option_field(
        (0.0, 1.0, 5.0),
        "sentiment: gradient clipping norms tried (0: off)",
        parse=parse_float_choices,
    )
    embedding_sizes: tuple[int, ...] = option_field(
        (64, 128, 256), "search: search vector lengths tried (even)", parse=parse_int_choices
    )
    margins: tuple[float, ...] = option_field(
        (0.2, 0.5, 1.0),
        "search: triplet loss margins tried (embedder=triplet)",
        parse=parse_float_choices,
    )
    learning_rate_range: tuple[float, float] = option_field(
        (0.0005, 0.01),
        "low,high of the learning rate searched (log scale)",
        parse=parse_learning_rate_range,
    )

    def __post_init__(self):
        if str(self.task).strip().lower() not in TUNE_TASKS:
            raise ValueError(
                f"Invalid value for argument `task`. The tune pipeline searches "
                f"{list(TUNE_TASKS)}. Received task={self.task!r}."
            )
        super().__post_init__()
        reported = TASK_OBJECTIVES[self.task]
        if not self.objective:
            object.__setattr__(self, "objective", reported[0])
        elif self.objective not in reported:
            raise ValueError(
                f"Invalid value for argument `objective`. Task {self.task} trials report "
                f"{', '.join(reported)}. Received objective={self.objective!r}."
            )
        if self.task == "search" and self.embedder == "classifier":
            raise ValueError(
                "Invalid value for argument `embedder`. A search tunes the metric-learned "
                "embedder (triplet or contrastive), not the classifier's features. "
                "Received embedder='classifier'."
            )
        if self.resume_run_id:
            raise ValueError(
                "`resume_run_id` applies to train, not tune: a search resumes from "
                f"directory/project_name ({self.directory}/{self.search_name}) when the same "
                f"command is run again. Received resume_run_id={self.resume_run_id!r}."
            )
        if self.checkpoint_dir != "checkpoints":
            raise ValueError(
                "`checkpoint_dir` applies to train, not tune: each trial's checkpoint lives in "
                f"directory/project_name. Received checkpoint_dir={self.checkpoint_dir!r}."
            )
        if self.workers > 1:
            raise ValueError(
                "Invalid value for argument `workers`. A search trains each trial in one "
                "process (workers=1); to run trials in parallel, use search_workers. "
                f"Received workers={self.workers!r}."
            )
        if self.preset != "default":
            raise ValueError(
                "`preset` applies to train, not tune: a search builds its trials from the "
                f"search space (models.small_cnn). Received preset={self.preset!r}."
            )
        low, high = self.learning_rate_range
        if not low <= self.learning_rate <= high:
            raise ValueError(
                f"learning_rate={self.learning_rate} (the default trial's) lies outside "
                f"learning_rate_range={self.learning_rate_range!r}; widen the range."
            )

    def _refuse_options_of_other_tasks(self, own: tuple[str, ...]) -> None:
        others = {n for names in SEARCH_OPTIONS.values() for n in names}
        for name in sorted(others - set(SEARCH_OPTIONS[self.task])):
            if getattr(self, name) != self.__dataclass_fields__[name].default:
                owners = [task for task, names in SEARCH_OPTIONS.items() if name in names]
                raise ValueError(
                    f"Option `{name}` is searched for task {either(owners)}, not "
                    f"task={self.task!r}; leave it at its default. "
                    f"Received {name}={getattr(self, name)!r}."
                )
        tune_options = tuple(
            field.name
            for field in dataclasses.fields(self)
            if field.name not in TrainConfig.__dataclass_fields__
        )
        super()._refuse_options_of_other_tasks((*own, *tune_options))

    @property
    def search_name(self) -> str:
        """The project folder name of this search."""
        dataset = os.path.basename(str(self.dataset).rstrip("/")).replace(":", "_") or "data"
        return self.project_name or f"{self.task}_{dataset}_{self.tuner}"

    @property
    def objective_direction(self) -> str:
        """``max`` or ``min``: the given direction, or inferred from the metric name."""
        if self.direction:
            return self.direction
        lowered = self.objective.lower()
        if lowered.endswith("_cer") or any(w in lowered for w in ("loss", "error", "mae", "mse")):
            return "min"
        return "max"

    def trial_settings(self) -> dict[str, str]:
        """The options that shape a trial, as the command line spells them (see the class)."""
        return {
            name: value
            for name, value in self.as_params().items()
            if name not in NOT_TRIAL_SETTINGS
        }

    def search_space(self) -> dict:
        """The hypermodel arguments of the search; the default trial's values are always in it.

        Returns:
            Keyword arguments of `CNNHyperModel` (classify),
            `TextRNNHyperModel` (sentiment), `EmbeddingHyperModel` (search) or
            `TextReaderHyperModel` (ocr), without the data-dependent ones.
        """
        if self.task == "classify":
            return {
                "blocks": len(self.filters),
                "kernel_sizes": tuple(sorted({*self.kernel_sizes, self.kernel_size})),
                "strides": tuple(sorted({*self.strides, self.stride})),
                "paddings": tuple(dict.fromkeys((*self.paddings, str(self.padding)))),
                "filters": self.filter_choices,
                "pool_sizes": tuple(sorted({*self.pool_sizes, 2})),
                "dense_units": tuple(sorted({*self.dense_units, 128})),
                "learning_rate_range": self.learning_rate_range,
                "defaults": {
                    "kernel_size": self.kernel_size,
                    "stride": self.stride,
                    "padding": str(self.padding),
                    "filters": self.filters,
                    "pool_size": 2,
                    "learning_rate": self.learning_rate,
                },
            }
        if self.task == "ocr":
            return {
                "blocks": len(self.filters),
                "kernel_sizes": tuple(sorted({*self.kernel_sizes, self.kernel_size})),
                "strides": tuple(sorted({*self.strides, self.stride})),
                "filters": tuple(sorted({*self.filter_choices, *self.filters})),
                "units": tuple(sorted({*self.units_choices, self.units})),
                "learning_rate_range": self.learning_rate_range,
                "defaults": {
                    "kernel_size": self.kernel_size,
                    "stride": self.stride,
                    "filters": self.filters,
                    "units": self.units,
                    "learning_rate": self.learning_rate,
                },
            }
        if self.task == "search":
            return {
                "embedding_sizes": tuple(sorted({*self.embedding_sizes, self.embedding_size})),
                "margins": tuple(sorted({*self.margins, self.margin})),
                "learning_rate_range": self.learning_rate_range,
                "defaults": {
                    "embedding_size": self.embedding_size,
                    "margin": self.margin,
                    "learning_rate": self.learning_rate,
                },
            }
        return {
            "cells": tuple(dict.fromkeys((*self.cells, self.cell))),
            "units": tuple(sorted({*self.units_choices, self.units})),
            "max_layers": max(self.max_layers, self.layers),
            "embedding_dims": tuple(sorted({*self.embedding_dims, self.embedding_dim})),
            "clipnorms": tuple(sorted({*self.clipnorms, self.clipnorm})),
            "learning_rate_range": self.learning_rate_range,
            "defaults": {
                "cell": self.cell,
                "units": self.units,
                "bidirectional": self.bidirectional,
                "layers": self.layers,
                "embedding_dim": self.embedding_dim,
                "learning_rate": self.learning_rate,
                "clipnorm": self.clipnorm,
            },
        }

    def train_config(self) -> TrainConfig:
        """The train options alone: the default trial's configuration and the data."""
        names = {field.name for field in dataclasses.fields(TrainConfig)}
        return TrainConfig(**{name: getattr(self, name) for name in names})
