"""Typed configuration of the training pipeline, passed whole.

The fields of `TrainConfig` are the command-line options of ``convseq train``
and the parameters of the MLproject ``train`` and ``main`` entry points, with
the same names; `pipelines.cli` builds its options from these fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from data.catalog import get_spec
from models.layers.geometry import normalize_padding
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


TASKS = ("classify", "transfer")


def parse_task(text: str) -> str:
    """Validates the training task: ``classify`` (a CNN from scratch) or ``transfer``.

    Raises:
        ValueError: On another value.
    """
    if text not in TASKS:
        raise ValueError(
            f"Invalid value for argument `task`. Expected one of {list(TASKS)}. "
            f"Received task={text!r}."
        )
    return text


def _field(default, help_text: str, cli_type=None):
    metadata = {"help": help_text}
    if cli_type is not None:
        metadata["cli_type"] = cli_type
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything one image-classification training run needs.

    Attributes:
        task: ``classify`` (a CNN from scratch) or ``transfer`` (frozen VGG16
            base, new head, optional fine-tuning).
        dataset: Catalog dataset name (``fashion_mnist``, ``digits``).
        data_dir: An image folder to use instead of ``dataset``.
        image_size: Square size images are resized to (0: the dataset's own).
        epochs: Passes over the training split.
        batch_size: Examples per training step.
        learning_rate: Adam learning rate.
        filters: Filters per conv block; the number of blocks is its length.
        kernel_size: Conv filter size ``f``.
        stride: Conv stride ``s``.
        padding: Conv padding: ``"valid"``, ``"same"`` or an integer ``p``.
        seed: Seed of weights, validation split and shuffling.
        export_dir: Folder receiving ``<model_name>/<version>/`` SavedModels.
        max_examples: Use at most this many training and test examples (0: all).
        validation_fraction: Share of the training split held out for validation.
        clipnorm: Gradient clipping by norm, a remedy for exploding gradients
            (0: off).
        clipvalue: Gradient clipping by value (0: off).
        base_weights: Transfer base weights: ``none``, ``imagenet`` or a path.
        fine_tune_blocks: Top base blocks unfrozen for fine-tuning (0: none).
        fine_tune_epochs: Epochs of the fine-tuning phase.
        fine_tune_learning_rate: Learning rate of the fine-tuning phase.
    """

    task: str = _field(
        "classify",
        "classify (CNN from scratch) or transfer (frozen VGG16 base + new head)",
        cli_type=parse_task,
    )
    dataset: str = _field("fashion_mnist", "catalog dataset: fashion_mnist or digits")
    data_dir: str = _field("", "image folder root/<class>/<image> to use instead of dataset")
    image_size: int = _field(
        0, "resize images to this square size (0: the dataset's own; transfer: at least 32)"
    )
    epochs: int = _field(6, "passes over the training split")
    batch_size: int = _field(128, "examples per training step")
    learning_rate: float = _field(2e-3, "Adam learning rate")
    filters: tuple[int, ...] = _field(
        (16, 32), "filters per conv block, comma-separated, e.g. 16,32", cli_type=parse_filters
    )
    kernel_size: int = _field(3, "conv filter size f")
    stride: int = _field(1, "conv stride s")
    padding: str | int = _field(
        "same", "conv padding: valid, same or an integer p", cli_type=parse_padding
    )
    seed: int = _field(42, "seed of weights, validation split and shuffling")
    export_dir: str = _field("exports", "folder receiving <model_name>/<version>/ SavedModels")
    max_examples: int = _field(0, "use at most this many train and test examples (0: all)")
    validation_fraction: float = _field(0.1, "share of the training split held out")
    clipnorm: float = _field(0.0, "clip each gradient to this L2 norm (0: off)")
    clipvalue: float = _field(0.0, "clip each gradient element to [-v, v] (0: off)")
    base_weights: str = _field("none", "transfer base weights: none, imagenet or a file path")
    fine_tune_blocks: int = _field(0, "transfer: unfreeze this many top base blocks (0: none)")
    fine_tune_epochs: int = _field(0, "transfer: epochs of the fine-tuning phase")
    fine_tune_learning_rate: float = _field(1e-5, "transfer: learning rate of fine-tuning")

    def __post_init__(self):
        parse_task(self.task)
        if not self.data_dir:
            get_spec(self.dataset)
        object.__setattr__(self, "filters", parse_filters(self.filters))
        object.__setattr__(self, "padding", parse_padding(self.padding))
        for name in ("epochs", "batch_size", "kernel_size", "stride"):
            check_positive_int(name, getattr(self, name))
        if not self.learning_rate > 0:
            raise ValueError(
                "Invalid value for argument `learning_rate`. Expected a positive number. "
                f"Received learning_rate={self.learning_rate!r}."
            )
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(
                "Invalid value for argument `validation_fraction`. Expected a value in "
                f"(0, 1). Received validation_fraction={self.validation_fraction!r}."
            )
        for name in ("max_examples", "image_size", "fine_tune_blocks", "fine_tune_epochs"):
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
        if not self.export_dir:
            raise ValueError("Invalid value for argument `export_dir`. Expected a folder path.")

    def as_params(self) -> dict[str, str]:
        """The config as MLflow parameters, formatted as the command line takes them."""
        params = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            params[field.name] = (
                ",".join(map(str, value)) if field.name == "filters" else str(value)
            )
        return params
