"""Typed configuration of the train pipeline, passed whole: `TrainConfig`.

`RunOptions` are the options every task shares (data set, epochs, seed,
tracking, devices, ...). Each task module declares the options it owns
(`pipelines.tasks`); `TrainConfig` is their union, built from the task table,
so adding a task adds its options to ``convseq train``, to the MLproject's
``train`` parameters (checked by a test) and to the README table (checked
too) without touching this module. Each value is parsed once, in
``__post_init__``; an option of another task left at a non-default value is
an error, whatever the task. A task's preset (``Task.preset``, e.g. classify's
``preset=quality``) gives its values to the options left at their defaults.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from common.validation import (
    check_fraction,
    check_non_negative,
    check_non_negative_int,
)
from pipelines.options import (
    choice_parser,
    format_option,
    option_field,
    parse_fields,
    parse_value,
    unquoted,
)
from pipelines.tasks import TASKS

DEVICES = ("auto", "cpu", "gpu")
PRECISIONS = ("auto", "float32", "mixed_float16")
NOT_RUN_PARAMETERS = ("resume_run_id",)
DEFAULTED = ("dataset", "epochs", "batch_size", "learning_rate")  # "" / 0: the task's default

parse_task = choice_parser("task", tuple(TASKS))
parse_device = choice_parser("device", DEVICES)
parse_precision = choice_parser("precision", PRECISIONS)


def either(names: list[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    return " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 2 else names)


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """The options of every task's training run.

    ``dataset`` ``""`` and ``epochs``/``batch_size``/``learning_rate`` 0 take
    the task's default (`pipelines.tasks.base.TaskDefaults`); a config holds
    the resolved values.
    """

    task: str = option_field("classify", f"one of {', '.join(TASKS)}", parse=parse_task)
    dataset: str = option_field(
        "",
        "catalog name (fashion_mnist, digits, rotten_tomatoes, wnut16, sunspots, co2, stocks, "
        "stocks_daily, number_words, shapes, plates, text_lines, captchas, spoken_commands, "
        "spoken_digits, synthetic_faces), tfds:<name>, or a "
        "data file or folder; empty: the task's default",
    )
    epochs: int = option_field(
        0, "passes over the training split (0: the task's default)", check=check_non_negative_int
    )
    batch_size: int = option_field(
        0, "examples per training step (0: the task's default)", check=check_non_negative_int
    )
    learning_rate: float = option_field(
        0.0, "Adam learning rate (0: the task's default)", check=check_non_negative
    )
    seed: int = option_field(42, "seed of weights, splits and shuffling")
    export_dir: str = option_field(
        "exports", "folder receiving <model_name>/<version>/ SavedModels"
    )
    registered_model_name: str = option_field(
        "", "register the serving MLflow model under this name (empty: not registered)"
    )
    max_examples: int = option_field(
        0,
        "use at most this many train and test examples (0: all)",
        check=check_non_negative_int,
    )
    validation_fraction: float = option_field(
        0.1, "share of the training data held out", check=check_fraction
    )
    clipnorm: float = option_field(
        0.0, "clip each gradient to this L2 norm (0: off)", check=check_non_negative
    )
    clipvalue: float = option_field(
        0.0, "clip each gradient element to [-v, v] (0: off)", check=check_non_negative
    )
    early_stopping_patience: int = option_field(
        0,
        "stop after this many epochs without a better val_loss, keep the best weights (0: off)",
        check=check_non_negative_int,
    )
    resume_run_id: str = option_field(
        "",
        "continue this killed or failed MLflow run from its last epoch checkpoint, in the same "
        "run and with its own options (also --resume)",
    )
    checkpoint_dir: str = option_field(
        "checkpoints",
        "folder of per-epoch checkpoints <checkpoint_dir>/<run_id>/ (removed once a run finishes)",
    )
    deterministic: bool = option_field(
        False, "bit-identical reruns with the same seed: true or false (slower ops on a GPU)"
    )
    device: str = option_field(
        "auto", "auto (the GPUs TensorFlow sees, else CPU), cpu or gpu", parse=parse_device
    )
    precision: str = option_field(
        "auto",
        "auto (mixed_float16 on a GPU, float32 on CPU), float32 or mixed_float16",
        parse=parse_precision,
    )

    def __post_init__(self):
        parse_fields(self)
        task = TASKS[self.task]
        self._refuse_options_of_other_tasks(task.option_names())
        self._take_preset(task.preset(self))
        for name in DEFAULTED:
            if not getattr(self, name) and not (name == "dataset" and self.reads_own_files()):
                object.__setattr__(self, name, getattr(task.defaults, name))
        if self.clipnorm and self.clipvalue:
            raise ValueError(
                "Set at most one of `clipnorm` and `clipvalue` (Keras optimizers take one). "
                f"Received clipnorm={self.clipnorm!r} and clipvalue={self.clipvalue!r}."
            )
        for name in ("export_dir", "checkpoint_dir"):
            if not getattr(self, name):
                raise ValueError(
                    f"Invalid value for argument `{name}`. Expected a folder path. "
                    f"Received {name}=''."
                )
        task.check(self)

    def _take_preset(self, values: Mapping) -> None:
        """Options left at their defaults take the task preset's values (set ones win)."""
        fields = {field.name: field for field in dataclasses.fields(self)}
        for name, value in values.items():
            if getattr(self, name) == fields[name].default:
                object.__setattr__(self, name, parse_value(type(self), fields[name], value))

    def reads_own_files(self) -> bool:
        """Whether the run reads a folder of its own instead of ``dataset`` (no default then)."""
        return False

    def _refuse_options_of_other_tasks(self, own: tuple[str, ...]) -> None:
        run_options = {field.name for field in dataclasses.fields(RunOptions)}
        for field in dataclasses.fields(self):
            if field.name in own or field.name in run_options or "help" not in field.metadata:
                continue
            if getattr(self, field.name) != field.default:
                owners = [t.name for t in TASKS.values() if field.name in t.option_names()]
                raise ValueError(
                    f"Option `{field.name}` applies to task {either(owners)}, not "
                    f"task={self.task!r}; leave it at its default "
                    f"({format_option(field.default)!r}). "
                    f"Received {field.name}={format_option(getattr(self, field.name))!r}."
                )

    @property
    def task_options(self):
        """The options the task owns, as the task's own typed dataclass."""
        options = TASKS[self.task].options
        return options(**{f.name: getattr(self, f.name) for f in dataclasses.fields(options)})

    @classmethod
    def from_params(cls, params: Mapping[str, str], **overrides):
        """The config an MLflow run was trained with, from its logged parameters.

        Parameters that are not options of this config (``train_examples``,
        ``resolved_epochs``, ...) are ignored; options the run did not log
        keep their defaults.

        Args:
            params: The run's parameters (strings, as `as_params` logs them).
            **overrides: Values that replace the run's.

        Raises:
            ValueError: If a logged value is not valid for its option.
        """
        values = {
            field.name: unquoted(params[field.name])
            for field in dataclasses.fields(cls)
            if field.name in params
        }
        values.update(overrides)
        return cls(**values)

    def as_params(self) -> dict[str, str]:
        """The config as MLflow parameters, formatted as the command line takes them.

        ``resume_run_id`` is left out: it says how a run was continued, not
        what the run is.
        """
        return {
            field.name: format_option(getattr(self, field.name))
            for field in dataclasses.fields(self)
            if field.name not in NOT_RUN_PARAMETERS
        }


def _task_option_classes() -> tuple[type, ...]:
    classes = []
    for task in TASKS.values():
        if task.options not in classes:
            classes.append(task.options)
    return tuple(classes)


def _check_one_declaration_per_option() -> None:
    """Two classes declaring the same option name would give it two defaults."""
    declared: dict[str, type] = {}
    for option_class in (RunOptions, *_task_option_classes()):
        for klass in reversed(option_class.__mro__):
            for name in getattr(klass, "__annotations__", {}):
                if declared.setdefault(name, klass) is not klass:
                    raise TypeError(
                        f"Option `{name}` is declared in {declared[name].__qualname__} and in "
                        f"{klass.__qualname__}; declare it once (pipelines.tasks.shared_options)."
                    )


_check_one_declaration_per_option()

TrainConfig = dataclasses.make_dataclass(
    "TrainConfig",
    [],
    bases=(*reversed(_task_option_classes()), RunOptions),
    frozen=True,
    namespace={
        "__doc__": (
            "Everything one training run needs: `RunOptions` plus every task's options "
            "(only the chosen task's may differ from their defaults)."
        ),
        "__module__": __name__,
    },
)


def option_owners() -> dict[str, tuple[str, ...]]:
    """For each option of `TrainConfig`, the tasks that use it (every task for a run option)."""
    run_options = {field.name for field in dataclasses.fields(RunOptions)}
    return {
        field.name: tuple(TASKS)
        if field.name in run_options
        else tuple(t.name for t in TASKS.values() if field.name in t.option_names())
        for field in dataclasses.fields(TrainConfig)
    }


def train_options_table() -> str:
    """The README's table of ``convseq train`` options (a test keeps the README equal to it)."""
    owners = option_owners()
    rows = [
        "| option | default | tasks | what it does |",
        "| --- | --- | --- | --- |",
    ]
    by_name = {field.name: field for field in dataclasses.fields(TrainConfig)}
    order = [field.name for field in dataclasses.fields(RunOptions)]
    for task in TASKS.values():
        order += [name for name in task.option_names() if name not in order]
    for field in (by_name[name] for name in order):
        default = format_option(field.default)
        tasks = "all" if owners[field.name] == tuple(TASKS) else ", ".join(owners[field.name])
        rows.append(
            f"| `{field.name}` | `{default}` | {tasks} | {field.metadata['help']} |"
            if default
            else f'| `{field.name}` | "" | {tasks} | {field.metadata["help"]} |'
        )
    return "\n".join(rows) + "\n"
