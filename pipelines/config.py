"""Typed configuration of the training pipeline, passed whole.

The fields of `TrainConfig` are the command-line options of ``convseq train``
and the parameters of the MLproject ``train`` and ``main`` entry points, with
the same names; `pipelines.cli` builds its options from these fields.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shlex
import typing
from collections.abc import Mapping, Sequence

from data.catalog import get_spec
from data.validation import check_fraction
from models.layers.geometry import normalize_padding
from models.recurrent import RecurrentSpec
from models.validation import check_positive_int


def parse_filters(text: str | Sequence[int]) -> tuple[int, ...]:
    """Parses ``"32,64"`` (filters per conv block) into ``(32, 64)``.

    Raises:
        ValueError: If an entry is not a positive integer.
    """
    if not isinstance(text, str):
        values = tuple(text)
    else:
        try:
            values = tuple(int(part) for part in text.split(",") if part.strip())
        except ValueError:
            values = ()
    if not values or not all(isinstance(v, int) and v > 0 for v in values):
        raise ValueError(
            "Invalid value for argument `filters`. Expected comma-separated positive integers, "
            f"one per conv block, e.g. '32,64'. Received filters={text!r}."
        )
    return values


def parse_padding(text: str | int) -> str | int:
    """Parses ``"valid"``, ``"same"`` or an integer ``p`` (``"1"``) for the conv layers.

    Raises:
        ValueError: If the value is none of these.
    """
    mode = normalize_padding(text, 1)
    return mode if isinstance(mode, str) else mode[0]


IMAGE_TASKS = ("classify", "transfer")
SEQUENCE_TASKS = ("sentiment", "tagging", "forecast", "translation", "captioning")
TASKS = IMAGE_TASKS + SEQUENCE_TASKS

# What 0 / "" mean for `dataset`, `epochs`, `batch_size` and `learning_rate`:
# each task's own default, so one `train` entry point serves every task.
TASK_DEFAULTS = {
    "classify": {"dataset": "fashion_mnist", "epochs": 6, "batch_size": 128, "learning_rate": 2e-3},
    "transfer": {"dataset": "fashion_mnist", "epochs": 6, "batch_size": 128, "learning_rate": 2e-3},
    "sentiment": {
        "dataset": "rotten_tomatoes",
        "epochs": 3,
        "batch_size": 64,
        "learning_rate": 2e-3,
    },
    "tagging": {"dataset": "wnut16", "epochs": 12, "batch_size": 32, "learning_rate": 3e-3},
    "forecast": {"dataset": "sunspots", "epochs": 60, "batch_size": 32, "learning_rate": 2e-3},
    "captioning": {"dataset": "shapes", "epochs": 12, "batch_size": 64, "learning_rate": 3e-3},
    "translation": {
        "dataset": "number_words",
        "epochs": 10,
        "batch_size": 64,
        "learning_rate": 3e-3,
    },
}


def parse_task(text: str) -> str:
    """Validates the training task: one of `TASKS`.

    Raises:
        ValueError: On another value.
    """
    if text not in TASKS:
        raise ValueError(
            f"Invalid value for argument `task`. Expected one of {list(TASKS)}. "
            f"Received task={text!r}."
        )
    return text


def parse_bool(text: str | bool) -> bool:
    """Parses ``true``/``false`` (also ``1``/``0``, ``yes``/``no``) for MLflow string parameters.

    Raises:
        ValueError: On another value.
    """
    if isinstance(text, bool):
        return text
    value = str(text).strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise ValueError(f"Expected true or false. Received {text!r}.")


DEVICES = ("auto", "cpu", "gpu")
PRECISIONS = ("auto", "float32", "mixed_float16")
NOT_RUN_PARAMETERS = ("resume_run_id",)


def _parse_choice(name: str, text: str, choices: tuple[str, ...]) -> str:
    value = str(text).strip().lower()
    if value not in choices:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected one of {list(choices)}. "
            f"Received {name}={text!r}."
        )
    return value


def parse_device(text: str) -> str:
    """Validates ``device``: ``auto``, ``cpu`` or ``gpu``.

    Raises:
        ValueError: On another value.
    """
    return _parse_choice("device", text, DEVICES)


def parse_precision(text: str) -> str:
    """Validates ``precision``: ``auto``, ``float32`` or ``mixed_float16``.

    Raises:
        ValueError: On another value.
    """
    return _parse_choice("precision", text, PRECISIONS)


def parse_columns(text: str | Sequence[str]) -> tuple[str, ...]:
    """Parses ``"a,b"`` into ``("a", "b")``; ``""`` is ``()``."""
    if not isinstance(text, str):
        return tuple(text)
    return tuple(part.strip() for part in text.split(",") if part.strip())


def option_field(default, help_text: str, cli_type=None, tasks: tuple[str, ...] = TASKS):
    """A config field that is a command-line option: help, parser and the tasks it applies to."""
    metadata = {"help": help_text, "tasks": tasks}
    if cli_type is not None:
        metadata["cli_type"] = cli_type
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything one training run needs, for every task of the ``train`` entry point.

    Options that belong to some tasks only (``filters`` to the image tasks,
    ``window`` to ``forecast``, ...) must stay at their defaults for the
    others: a changed value that would have no effect is an error.
    ``dataset`` ``""`` and ``epochs``/``batch_size``/``learning_rate`` 0 take
    the task's default from `TASK_DEFAULTS`; the config holds the resolved
    values.

    Attributes:
        task: ``classify``, ``transfer``, ``sentiment``, ``tagging`` or ``forecast``.
        dataset: Catalog name, ``tfds:<name>`` (sentiment, tagging) or a local
            file (CSV/TSV text for sentiment, CoNLL for tagging, CSV for
            forecast); ``""``: the task's default.
        data_dir: An image folder to use instead of ``dataset``.
        image_size: Square size images are resized to (0: the dataset's own).
        epochs: Passes over the training split (0: the task's default).
        batch_size: Examples per training step (0: the task's default).
        learning_rate: Adam learning rate (0: the task's default).
        filters: Filters per conv block; the number of blocks is its length.
        kernel_size: Conv filter size ``f``.
        stride: Conv stride ``s``.
        padding: Conv padding: ``"valid"``, ``"same"`` or an integer ``p``.
        seed: Seed of weights, splits and shuffling.
        export_dir: Folder receiving ``<model_name>/<version>/`` SavedModels.
        registered_model_name: Register the run's ``serving_model`` under this
            name in the MLflow model registry (``""``: not registered).
        max_examples: Use at most this many training and test examples (0: all).
        validation_fraction: Share of the data held out for validation.
        test_fraction: Share of an unsplit dataset held out for testing (the
            tail of a time series).
        clipnorm: Gradient clipping by norm, a remedy for exploding gradients
            (0: off).
        clipvalue: Gradient clipping by value (0: off).
        early_stopping_patience: Stop after this many epochs without a better
            validation loss and restore the best weights (0: off).
        resume_run_id: Continue this MLflow run (killed, interrupted or
            failed) from its last per-epoch checkpoint, in the same run and
            with its own options (``convseq train --resume <run_id>``).
        checkpoint_dir: Folder of per-epoch checkpoints,
            ``<checkpoint_dir>/<run_id>/``; a run's folder is removed once the
            run has finished and exported.
        deterministic: Make reruns with the same ``seed`` bit-identical
            (``tf.config.experimental.enable_op_determinism``; slower on GPU).
        device: ``auto`` (the GPUs TensorFlow sees, else the CPU), ``cpu`` or
            ``gpu`` (an error without one).
        precision: ``auto`` (``mixed_float16`` on a GPU, ``float32`` on the
            CPU), ``float32`` or ``mixed_float16``.
        workers: Classify: processes training one model with
            ``MultiWorkerMirroredStrategy`` (0 or 1: this process alone). Without
            ``TF_CONFIG``, N workers are started on 127.0.0.1; with it (a
            cluster), this process is the worker it names.
        base_weights: Transfer base weights: ``none``, ``imagenet`` or a path.
        fine_tune_blocks: Top base blocks unfrozen for fine-tuning (0: none).
        fine_tune_epochs: Epochs of the fine-tuning phase.
        fine_tune_learning_rate: Learning rate of the fine-tuning phase.
        cell: Recurrent layer: ``lstm``, ``gru`` or ``simple_rnn`` (ours).
        units: Recurrent units per direction.
        layers: Stacked recurrent layers.
        bidirectional: Run the recurrent layers both ways (tagging always does).
        dropout: Dropout on the recurrent layers' inputs.
        recurrent_dropout: Dropout on the recurrent state.
        l1: L1 penalty on kernel and recurrent weights.
        l2: L2 penalty on kernel and recurrent weights.
        embedding_dim: Size of word vectors.
        vocabulary_size: Words kept (the most frequent in the training split).
        sequence_length: Tokens per text, cut or padded.
        text_column: Text column of a CSV/TSV file.
        label_column: Label column of a CSV/TSV file.
        char_features: Tagging: add a character CNN per word.
        window: Forecast: input steps.
        horizon: Forecast: steps predicted at once.
        window_stride: Forecast: steps between training windows.
        time_column: Forecast: time column of a CSV file.
        image_encoder: Captioning: ``small`` (our CNN, trained with the
            decoder) or ``vgg16`` (a frozen VGG16 base, ``base_weights``).
        attention: Translation: ``none``, ``luong`` or ``bahdanau``.
        beam_width: Translation: beams kept while decoding (1: greedy).
        columns: Forecast: value columns, target first (``""``: the dataset's).
    """

    task: str = option_field("classify", f"one of {', '.join(TASKS)}", cli_type=parse_task)
    dataset: str = option_field(
        "",
        "catalog name (fashion_mnist, digits, rotten_tomatoes, wnut16, sunspots, co2, stocks), "
        "tfds:<name>, or a data file; empty: the task's default",
    )
    data_dir: str = option_field(
        "", "image folder root/<class>/<image> to use instead of dataset", tasks=IMAGE_TASKS
    )
    image_size: int = option_field(
        0,
        "resize images to this square size (0: the dataset's own; transfer: at least 32)",
        tasks=(*IMAGE_TASKS, "captioning"),
    )
    epochs: int = option_field(0, "passes over the training split (0: the task's default)")
    batch_size: int = option_field(0, "examples per training step (0: the task's default)")
    learning_rate: float = option_field(0.0, "Adam learning rate (0: the task's default)")
    filters: tuple[int, ...] = option_field(
        (16, 32),
        "filters per conv block, comma-separated, e.g. 16,32",
        cli_type=parse_filters,
        tasks=("classify",),
    )
    kernel_size: int = option_field(3, "conv filter size f", tasks=("classify",))
    stride: int = option_field(1, "conv stride s", tasks=("classify",))
    padding: str | int = option_field(
        "same",
        "conv padding: valid, same or an integer p",
        cli_type=parse_padding,
        tasks=("classify",),
    )
    seed: int = option_field(42, "seed of weights, splits and shuffling")
    export_dir: str = option_field(
        "exports", "folder receiving <model_name>/<version>/ SavedModels"
    )
    registered_model_name: str = option_field(
        "", "register the serving MLflow model under this name (empty: not registered)"
    )
    max_examples: int = option_field(0, "use at most this many train and test examples (0: all)")
    validation_fraction: float = option_field(0.1, "share of the training data held out")
    test_fraction: float = option_field(
        0.1,
        "share of an unsplit dataset held out for test (a series' tail)",
        tasks=SEQUENCE_TASKS,
    )
    clipnorm: float = option_field(0.0, "clip each gradient to this L2 norm (0: off)")
    clipvalue: float = option_field(0.0, "clip each gradient element to [-v, v] (0: off)")
    early_stopping_patience: int = option_field(
        0, "stop after this many epochs without a better val_loss, keep the best weights (0: off)"
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
        False,
        "bit-identical reruns with the same seed: true or false (slower ops on a GPU)",
        cli_type=parse_bool,
    )
    device: str = option_field(
        "auto", "auto (the GPUs TensorFlow sees, else CPU), cpu or gpu", cli_type=parse_device
    )
    precision: str = option_field(
        "auto",
        "auto (mixed_float16 on a GPU, float32 on CPU), float32 or mixed_float16",
        cli_type=parse_precision,
    )
    workers: int = option_field(
        1,
        "classify: worker processes training one model (MultiWorkerMirroredStrategy); N > 1 "
        "starts N on 127.0.0.1, or with TF_CONFIG set this process is the worker it names",
        tasks=("classify",),
    )
    base_weights: str = option_field(
        "none",
        "VGG16 base weights (transfer, captioning with image_encoder=vgg16): none, imagenet "
        "or a file path",
        tasks=("transfer", "captioning"),
    )
    fine_tune_blocks: int = option_field(
        0, "transfer: unfreeze this many top base blocks (0: none)", tasks=("transfer",)
    )
    fine_tune_epochs: int = option_field(
        0, "transfer: epochs of the fine-tuning phase", tasks=("transfer",)
    )
    fine_tune_learning_rate: float = option_field(
        1e-5, "transfer: learning rate of fine-tuning", tasks=("transfer",)
    )
    cell: str = option_field(
        "lstm", "recurrent layer: lstm, gru or simple_rnn", tasks=SEQUENCE_TASKS
    )
    units: int = option_field(64, "recurrent units per direction", tasks=SEQUENCE_TASKS)
    layers: int = option_field(1, "stacked recurrent layers", tasks=SEQUENCE_TASKS)
    bidirectional: bool = option_field(
        False,
        "run the recurrent layers both ways: true or false (tagging is always bidirectional)",
        cli_type=parse_bool,
        tasks=("sentiment", "forecast", "translation"),
    )
    dropout: float = option_field(0.0, "dropout on recurrent layer inputs", tasks=SEQUENCE_TASKS)
    recurrent_dropout: float = option_field(
        0.0, "dropout on the recurrent state", tasks=SEQUENCE_TASKS
    )
    l1: float = option_field(
        0.0, "L1 penalty on kernel and recurrent weights", tasks=SEQUENCE_TASKS
    )
    l2: float = option_field(
        0.0, "L2 penalty on kernel and recurrent weights", tasks=SEQUENCE_TASKS
    )
    embedding_dim: int = option_field(
        64, "size of word vectors", tasks=("sentiment", "tagging", "translation", "captioning")
    )
    vocabulary_size: int = option_field(
        20000,
        "most frequent training words kept",
        tasks=("sentiment", "tagging", "translation", "captioning"),
    )
    sequence_length: int = option_field(
        64, "tokens per text, cut or padded", tasks=("sentiment", "translation", "captioning")
    )
    text_column: str = option_field("text", "text column of a CSV/TSV file", tasks=("sentiment",))
    label_column: str = option_field(
        "label", "label column of a CSV/TSV file", tasks=("sentiment",)
    )
    char_features: bool = option_field(
        True,
        "add a character CNN per word: true or false",
        cli_type=parse_bool,
        tasks=("tagging",),
    )
    window: int = option_field(24, "input steps per forecast", tasks=("forecast",))
    horizon: int = option_field(1, "steps forecast at once", tasks=("forecast",))
    window_stride: int = option_field(1, "steps between training windows", tasks=("forecast",))
    time_column: str = option_field("", "time column of a forecast CSV file", tasks=("forecast",))
    image_encoder: str = option_field(
        "small",
        "captioning: small (our CNN, trained) or vgg16 (frozen base)",
        tasks=("captioning",),
    )
    attention: str = option_field(
        "luong",
        "translation: over the source words; captioning: over image positions. none, luong "
        "or bahdanau",
        tasks=("translation", "captioning"),
    )
    beam_width: int = option_field(
        1,
        "translation, captioning: beams kept while decoding (1: greedy)",
        tasks=("translation", "captioning"),
    )
    columns: tuple[str, ...] = option_field(
        (),
        "value columns, comma-separated, target first (empty: the dataset's)",
        cli_type=parse_columns,
        tasks=("forecast",),
    )

    def __post_init__(self):
        parse_task(self.task)
        self._check_options_apply()
        for name, default in TASK_DEFAULTS[self.task].items():
            if not getattr(self, name) and not (name == "dataset" and self.data_dir):
                object.__setattr__(self, name, default)
        if self.task in IMAGE_TASKS and not self.data_dir:
            get_spec(self.dataset)
        object.__setattr__(self, "filters", parse_filters(self.filters))
        object.__setattr__(self, "padding", parse_padding(self.padding))
        object.__setattr__(self, "columns", parse_columns(self.columns))
        for name in ("bidirectional", "char_features", "deterministic"):
            object.__setattr__(self, name, parse_bool(getattr(self, name)))
        for name in (
            "epochs",
            "batch_size",
            "kernel_size",
            "stride",
            "units",
            "layers",
            "embedding_dim",
            "vocabulary_size",
            "sequence_length",
            "window",
            "horizon",
            "window_stride",
        ):
            check_positive_int(name, getattr(self, name))
        if not self.learning_rate > 0:
            raise ValueError(
                "Invalid value for argument `learning_rate`. Expected a positive number "
                f"(0: the task's default). Received learning_rate={self.learning_rate!r}."
            )
        for name in ("validation_fraction", "test_fraction"):
            check_fraction(name, getattr(self, name))
        for name in (
            "max_examples",
            "image_size",
            "fine_tune_blocks",
            "fine_tune_epochs",
            "early_stopping_patience",
            "workers",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(
                    f"Invalid value for argument `{name}`. Expected 0 or a positive integer. "
                    f"Received {name}={value!r}."
                )
        if self.task == "transfer" and self.image_size and self.image_size < 32:
            raise ValueError(
                "Invalid value for argument `image_size`. The VGG16 base of task=transfer "
                f"needs at least 32 pixels. Received image_size={self.image_size}."
            )
        if not self.fine_tune_learning_rate > 0:
            raise ValueError(
                "Invalid value for argument `fine_tune_learning_rate`. Expected a positive "
                f"number. Received fine_tune_learning_rate={self.fine_tune_learning_rate!r}."
            )
        for name in ("clipnorm", "clipvalue"):
            if not getattr(self, name) >= 0:
                raise ValueError(
                    f"Invalid value for argument `{name}`. Expected 0 (off) or a positive "
                    f"number. Received {name}={getattr(self, name)!r}."
                )
        if self.clipnorm and self.clipvalue:
            raise ValueError(
                "Set at most one of `clipnorm` and `clipvalue` (Keras optimizers take one). "
                f"Received clipnorm={self.clipnorm!r} and clipvalue={self.clipvalue!r}."
            )
        if self.task in SEQUENCE_TASKS:
            self.recurrent_spec()  # checks cell, units, dropout, l1, l2
        if self.image_encoder not in ("small", "vgg16"):
            raise ValueError(
                "Invalid value for argument `image_encoder`. Expected small or vgg16. "
                f"Received image_encoder={self.image_encoder!r}."
            )
        if self.attention not in ("none", "luong", "bahdanau"):
            raise ValueError(
                "Invalid value for argument `attention`. Expected one of none, luong, bahdanau. "
                f"Received attention={self.attention!r}."
            )
        if self.task in ("translation", "captioning") and self.cell == "simple_rnn":
            raise ValueError(
                f"Invalid value for argument `cell`. Task {self.task} takes lstm or gru (the "
                "decoder needs a gated cell to carry its state). Received cell='simple_rnn'."
            )
        if self.task == "captioning" and (self.layers != 1 or self.bidirectional):
            raise ValueError(
                "A caption decoder is one unidirectional layer: leave `layers` at 1 and "
                f"`bidirectional` false. Received layers={self.layers}, "
                f"bidirectional={self.bidirectional}."
            )
        if not self.export_dir:
            raise ValueError("Invalid value for argument `export_dir`. Expected a folder path.")
        if not self.checkpoint_dir:
            raise ValueError(
                "Invalid value for argument `checkpoint_dir`. Expected a folder path "
                "(checkpoints are what a killed run resumes from)."
            )
        object.__setattr__(self, "device", parse_device(self.device))
        object.__setattr__(self, "precision", parse_precision(self.precision))

    def _check_options_apply(self) -> None:
        for field in dataclasses.fields(self):
            if self.task in field.metadata["tasks"]:
                continue
            value = getattr(self, field.name)
            default = field.default
            if field.name == "filters":
                value = parse_filters(value)
            elif field.name == "padding":
                value = parse_padding(value)
            elif field.name == "columns":
                value = parse_columns(value)
            elif isinstance(default, bool):
                value = parse_bool(value)
            if value != default:
                raise ValueError(
                    f"Option `{field.name}` applies to task "
                    f"{' or '.join(field.metadata['tasks'])}, not task={self.task!r}; "
                    f"leave it at its default ({format_option(default)!r}). "
                    f"Received {field.name}={getattr(self, field.name)!r}."
                )

    def recurrent_spec(self) -> RecurrentSpec:
        """The recurrent stack of a sequence task (tagging is always bidirectional)."""
        return RecurrentSpec(
            cell=self.cell,
            units=self.units,
            layers=self.layers,
            bidirectional=self.bidirectional or self.task == "tagging",
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
            l1=self.l1,
            l2=self.l2,
        )

    @classmethod
    def from_params(cls, params: Mapping[str, str], **overrides) -> TrainConfig:
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
        hints = typing.get_type_hints(cls)
        values = {}
        for field in dataclasses.fields(cls):
            if field.name not in params:
                continue
            parse = field.metadata.get("cli_type", hints[field.name])
            if parse is bool:
                parse = parse_bool
            values[field.name] = parse(_unquoted(params[field.name]))
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


def _unquoted(value: str) -> str:
    """A parameter as given: ``mlflow run`` logs ``''`` for an empty string (shell quoting)."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        with contextlib.suppress(ValueError):
            (unquoted,) = shlex.split(value)
            return unquoted
    return value


def format_option(value) -> str:
    """A config value as the command line (and MLflow) spell it: ``16,32``, ``true``."""
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
