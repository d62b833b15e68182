"""What every task module declares: `Task`, the small interface of a task.

A task module (``pipelines/tasks/<task>.py``) defines the options it owns (a
frozen dataclass of `pipelines.options.option_field` fields, built from the
shared groups in `pipelines.tasks.shared_options` where several tasks take the
same option), its defaults, and four functions: ``load_data``,
``build_model``, ``train`` (load, build, fit, then log its metrics and plots
and export for serving) and ``check`` (checks across options). Task modules
import TensorFlow inside those functions only, so that ``convseq --help``
(which reads every task's options) stays fast.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any


@dataclasses.dataclass(frozen=True)
class TaskDefaults:
    """What ``dataset`` ``""`` and ``epochs``/``batch_size``/``learning_rate`` 0 mean for a task.

    Attributes:
        dataset: The catalog dataset trained on by default.
        epochs: Passes over the training split.
        batch_size: Examples per step.
        learning_rate: Adam's learning rate.
    """

    dataset: str
    epochs: int
    batch_size: int
    learning_rate: float


def no_checks(config) -> None:
    """The ``check`` of a task whose options are valid one by one."""


def no_preset(config) -> dict[str, Any]:
    """The ``preset`` of a task without presets: no option takes another default."""
    return {}


@dataclasses.dataclass(frozen=True)
class Task:
    """One application of the train pipeline.

    Attributes:
        name: The value of the ``task`` option.
        summary: One line for help texts.
        options: The frozen dataclass of the options this task owns (its
            fields are ``convseq train`` options and MLproject parameters).
        defaults: Its `TaskDefaults`.
        load_data: ``(config, locations) -> data``: the splits, ready for
            ``build_model`` and training.
        build_model: ``(config, data) -> keras.Model``: the compiled model
            (for an encoder-decoder, its training model).
        train: ``(config, locations) -> TaskOutcome``: trains, evaluates,
            logs metrics and plots and exports, inside the active MLflow run;
            what `pipelines.train` calls. It takes ``load_data`` and
            ``build_model`` as its first steps; tools and tests call those
            alone (e.g. to see what an option changes).
        check: ``(config) -> None``: raises ``ValueError`` on options that
            are valid alone but not together.
        preset: ``(config) -> {option: value}``: the values the config's
            preset (an option of the task) gives the options left at their
            defaults; options set to anything else keep their value.
    """

    name: str
    summary: str
    options: type
    defaults: TaskDefaults
    load_data: Callable[..., Any]
    build_model: Callable[..., Any]
    train: Callable[..., Any]
    check: Callable[[Any], None] = no_checks
    preset: Callable[[Any], dict[str, Any]] = no_preset

    def option_names(self) -> tuple[str, ...]:
        """The names of the options this task owns."""
        return tuple(field.name for field in dataclasses.fields(self.options))
