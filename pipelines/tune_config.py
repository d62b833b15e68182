"""Typed configuration of the tune pipeline: the train options plus the search.

`TuneConfig` extends `TrainConfig`: its train options (dataset, epochs,
batch size, ``filters``/``kernel_size``/``stride``/``padding`` or
``cell``/``units``/...) are the *default configuration* of the search — the
first trial, which the search has to beat — and the data every trial uses.
The search fields say what is tried. Each field is a ``convseq tune`` option
and a parameter of the MLproject ``tune`` entry point of the same name.
"""

from __future__ import annotations

import dataclasses
import os

from models.layers.geometry import normalize_padding
from models.recurrent import check_cell
from pipelines.config import TrainConfig, option_field, parse_bool, parse_columns
from pipelines.tuners import TUNERS

TUNE_TASKS = ("classify", "sentiment")
OBJECTIVES = ("val_accuracy", "val_loss", "accuracy", "loss")  # what every tuned model reports
DIRECTIONS = ("min", "max")


def _numbers(name: str, text, kind: type) -> tuple:
    parts = parse_columns(text) if isinstance(text, str) else tuple(text)
    try:
        values = tuple(kind(part) for part in parts)
    except (TypeError, ValueError):
        values = ()
    if not values or any(v < 0 for v in values):
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected comma-separated non-negative "
            f"numbers, e.g. '{'3,5,7' if kind is int else '0.001,0.01'}'. Received {name}={text!r}."
        )
    return values


def parse_paddings(text) -> tuple[str, ...]:
    """Parses ``"same,valid,1"`` (paddings to try) into ``("same", "valid", "1")``.

    Raises:
        ValueError: If an entry is not ``valid``, ``same`` or an integer >= 0.
    """
    parts = parse_columns(text) if isinstance(text, str) else tuple(str(p) for p in text)
    try:
        for part in parts:
            normalize_padding(part, 1)
    except ValueError:
        parts = ()
    if not parts:
        raise ValueError(
            "Invalid value for argument `paddings`. Expected comma-separated paddings: "
            f"valid, same or integers p, e.g. 'same,valid,1'. Received paddings={text!r}."
        )
    return parts


@dataclasses.dataclass(frozen=True)
class TuneConfig(TrainConfig):
    """A hyperparameter search: the train options (its default trial) plus the search.

    Attributes:
        tuner: ``random``, ``hyperband`` or ``bayesian``.
        objective: The metric to optimize: ``val_accuracy``, ``val_loss``,
            ``accuracy`` or ``loss``.
        direction: ``max`` or ``min``; ``""``: ``min`` for losses and errors,
            ``max`` otherwise.
        max_trials: Trials to run (the first is the default configuration).
        executions_per_trial: Models trained per trial; their scores are averaged.
        hyperband_factor: Hyperband's reduction factor.
        directory: Folder of searches; the search state lives in
            ``directory/project_name`` and a rerun resumes it.
        project_name: ``""``: ``<task>_<dataset>_<tuner>``.
        overwrite: Delete the saved search and start afresh.
        workers: Worker processes on 127.0.0.1 besides the chief (0: one process).
        trials_per_process: Restart each worker after this many trials (0:
            never). TensorFlow keeps about 8 MB per trained model that
            ``clear_session`` does not release; a fresh process does. With
            ``workers=0`` it runs the search in one worker process.
        kernel_sizes: Filter sizes f tried per conv block (classify).
        strides: Strides s tried per conv block (classify).
        paddings: Paddings tried per conv block: valid, same, integers p (classify).
        filter_choices: Filter counts tried per conv block (classify).
        pool_sizes: Max-pooling sizes tried per block, 0 = none (classify).
        dense_units: Hidden dense units tried (classify).
        cells: Recurrent cells tried (sentiment).
        units_choices: Recurrent units tried (sentiment).
        max_layers: Deepest recurrent stack tried (sentiment).
        embedding_dims: Word vector sizes tried (sentiment).
        clipnorms: Gradient clipping norms tried, 0 = off (sentiment).
        learning_rate_range: ``low,high`` of the learning rate (log scale).
    """

    tuner: str = option_field("random", "random, hyperband or bayesian")
    objective: str = option_field("val_accuracy", "metric to optimize: val_accuracy, val_loss, ...")
    direction: str = option_field("", "max or min (empty: min for losses and errors, else max)")
    max_trials: int = option_field(10, "trials to run; the first is the default configuration")
    executions_per_trial: int = option_field(1, "models trained per trial, scores averaged")
    hyperband_factor: int = option_field(3, "hyperband's reduction factor")
    directory: str = option_field("tuning", "folder of saved searches (a rerun resumes)")
    project_name: str = option_field("", "search name (empty: <task>_<dataset>_<tuner>)")
    overwrite: bool = option_field(
        False, "delete the saved search and start afresh: true or false", cli_type=parse_bool
    )
    workers: int = option_field(
        0, "worker processes on 127.0.0.1 besides the chief (0: one process)"
    )
    trials_per_process: int = option_field(
        0,
        "restart each worker process after this many trials, releasing the memory TensorFlow "
        "keeps per model (0: never; with workers=0, runs one worker)",
    )
    kernel_sizes: str = option_field(
        "3,5,7", "filter sizes f tried per conv block", tasks=("classify",)
    )
    strides: str = option_field("1,2", "strides s tried per conv block", tasks=("classify",))
    paddings: str = option_field(
        "same,valid,1",
        "paddings tried per conv block: valid, same, integers p",
        tasks=("classify",),
    )
    filter_choices: str = option_field(
        "16,32,64", "filter counts tried per block", tasks=("classify",)
    )
    pool_sizes: str = option_field(
        "2,3", "max-pooling sizes tried per block (0: none, costly)", tasks=("classify",)
    )
    dense_units: str = option_field("64,128", "hidden dense units tried", tasks=("classify",))
    cells: str = option_field("lstm,gru,simple_rnn", "recurrent cells tried", tasks=("sentiment",))
    units_choices: str = option_field("32,64,128", "recurrent units tried", tasks=("sentiment",))
    max_layers: int = option_field(2, "deepest recurrent stack tried", tasks=("sentiment",))
    embedding_dims: str = option_field("32,64,128", "word vector sizes tried", tasks=("sentiment",))
    clipnorms: str = option_field(
        "0,1,5", "gradient clipping norms tried (0: off)", tasks=("sentiment",)
    )
    learning_rate_range: str = option_field(
        "0.0005,0.01", "low,high of the learning rate searched (log scale)"
    )

    def __post_init__(self):
        if self.task not in TUNE_TASKS:
            raise ValueError(
                f"Invalid value for argument `task`. The tune pipeline searches "
                f"{list(TUNE_TASKS)}. Received task={self.task!r}."
            )
        super().__post_init__()
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
        if self.tuner not in TUNERS:
            raise ValueError(
                f"Invalid value for argument `tuner`. Expected one of {list(TUNERS)}. "
                f"Received tuner={self.tuner!r}."
            )
        if self.direction not in ("", *DIRECTIONS):
            raise ValueError(
                f"Invalid value for argument `direction`. Expected max, min or empty (inferred). "
                f"Received direction={self.direction!r}."
            )
        if self.objective not in OBJECTIVES:
            raise ValueError(
                f"Invalid value for argument `objective`. Expected one of {list(OBJECTIVES)} "
                f"(the metrics every trial reports). Received objective={self.objective!r}."
            )
        for name in ("max_trials", "executions_per_trial"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"Invalid value for argument `{name}`. Expected a positive integer. "
                    f"Received {name}={value!r}."
                )
        if isinstance(self.trials_per_process, bool) or self.trials_per_process < 0:
            raise ValueError(
                "Invalid value for argument `trials_per_process`. Expected 0 (never restart) "
                f"or a positive integer. Received trials_per_process={self.trials_per_process!r}."
            )
        if not isinstance(self.workers, int) or self.workers < 0:
            raise ValueError(
                "Invalid value for argument `workers`. Expected 0 (one process) or a positive "
                f"integer. Received workers={self.workers!r}."
            )
        if self.hyperband_factor < 2:
            raise ValueError(
                "Invalid value for argument `hyperband_factor`. Expected an integer >= 2. "
                f"Received hyperband_factor={self.hyperband_factor!r}."
            )
        if not self.directory:
            raise ValueError("Invalid value for argument `directory`. Expected a folder path.")
        if self.project_name and (os.sep in self.project_name or self.project_name in (".", "..")):
            raise ValueError(
                "Invalid value for argument `project_name`. Expected a folder name, not a "
                f"path. Received project_name={self.project_name!r}."
            )
        object.__setattr__(self, "overwrite", parse_bool(self.overwrite))
        self.search_space()  # validates the choices
        low, high = self.learning_rate_bounds()
        if not low <= self.learning_rate <= high:
            raise ValueError(
                f"learning_rate={self.learning_rate} (the default trial's) lies outside "
                f"learning_rate_range={self.learning_rate_range!r}; widen the range."
            )

    def learning_rate_bounds(self) -> tuple[float, float]:
        """``(low, high)`` of the searched learning rate.

        Raises:
            ValueError: Unless two numbers with 0 < low < high.
        """
        values = _numbers("learning_rate_range", self.learning_rate_range, float)
        if len(values) != 2 or not 0 < values[0] < values[1]:
            raise ValueError(
                "Invalid value for argument `learning_rate_range`. Expected 'low,high' with "
                f"0 < low < high. Received learning_rate_range={self.learning_rate_range!r}."
            )
        return values

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
        return "min" if any(w in lowered for w in ("loss", "error", "mae", "mse")) else "max"

    def search_space(self) -> dict:
        """The hypermodel arguments of the search, validated.

        Returns:
            Keyword arguments of `CNNHyperModel` (classify) or
            `TextRNNHyperModel` (sentiment), without the data-dependent ones.
        """
        bounds = self.learning_rate_bounds()
        if self.task == "classify":
            defaults = {
                "kernel_size": self.kernel_size,
                "stride": self.stride,
                "padding": str(self.padding),
                "filters": self.filters,
                "pool_size": 2,
                "learning_rate": self.learning_rate,
            }
            return {
                "blocks": len(self.filters),
                "kernel_sizes": tuple(
                    sorted(
                        set(_numbers("kernel_sizes", self.kernel_sizes, int)) | {self.kernel_size}
                    )
                ),
                "strides": tuple(
                    sorted(set(_numbers("strides", self.strides, int)) | {self.stride})
                ),
                "paddings": tuple(
                    dict.fromkeys((*parse_paddings(self.paddings), str(self.padding)))
                ),
                "filters": _numbers("filter_choices", self.filter_choices, int),
                "pool_sizes": tuple(
                    sorted(set(_numbers("pool_sizes", self.pool_sizes, int)) | {2})
                ),
                "dense_units": tuple(
                    sorted(set(_numbers("dense_units", self.dense_units, int)) | {128})
                ),
                "learning_rate_range": bounds,
                "defaults": defaults,
            }
        cells = parse_columns(self.cells)
        for cell in cells:
            check_cell(cell)
        if not cells:
            raise ValueError(f"Invalid value for argument `cells`. Received cells={self.cells!r}.")
        if isinstance(self.max_layers, bool) or not 1 <= self.max_layers:
            raise ValueError(
                "Invalid value for argument `max_layers`. Expected a positive integer. "
                f"Received max_layers={self.max_layers!r}."
            )
        return {
            "cells": tuple(dict.fromkeys((*cells, self.cell))),
            "units": tuple(
                sorted(set(_numbers("units_choices", self.units_choices, int)) | {self.units})
            ),
            "max_layers": max(self.max_layers, self.layers),
            "embedding_dims": tuple(
                sorted(
                    set(_numbers("embedding_dims", self.embedding_dims, int)) | {self.embedding_dim}
                )
            ),
            "clipnorms": tuple(
                sorted(set(_numbers("clipnorms", self.clipnorms, float)) | {self.clipnorm})
            ),
            "learning_rate_range": bounds,
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
        """The train options alone: the default trial's configuration and the data.

        ``workers`` is left out: for a search it counts search processes.
        """
        names = {field.name for field in dataclasses.fields(TrainConfig)} - {"workers"}
        return TrainConfig(**{name: getattr(self, name) for name in names})
