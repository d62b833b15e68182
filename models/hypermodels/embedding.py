"""The search task's embedder with its vector length, loss margin and learning rate searched."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import keras
import keras_tuner

from common.validation import check_positive
from models.cnn import small_cnn
from models.embedding import embedding_model
from models.hypermodels.choices import check_choices, check_default_in, check_range
from models.metric_learning import CLASS_LOSSES, ClassAndCopyLoss


class EmbeddingHyperModel(keras_tuner.HyperModel):
    """`models.embedding.embedding_model` (class and copy parts) on a fixed `small_cnn` backbone.

    Hyperparameters: ``embedding_size`` (the whole vector; half class part,
    half copy part), ``margin`` (the triplet loss's; only with
    ``class_loss="triplet"``) and ``learning_rate`` (log scale).

    Args:
        input_shape: ``(height, width, channels)`` of the uint8 images.
        geometry: The backbone's `small_cnn` arguments (``filters``,
            ``kernel_size``, ``strides``, ``padding``).
        embedding_sizes: Vector lengths to choose from (even).
        margins: Triplet margins to choose from.
        learning_rate_range: ``(low, high)``, searched on a log scale.
        defaults: ``embedding_size``, ``margin``, ``learning_rate`` of the
            default configuration (each among its choices).
        class_loss: ``"triplet"`` or ``"contrastive"`` (`ClassAndCopyLoss`).
        copy_weight: Weight of the copy part's loss.
        copy_score_weight: Weight of the copy part's cosine in a dot product
            (`models.embedding.embedding_model`'s ``copy_weight``).
        temperature: Temperature of the contrastive losses.
        name: Model name.

    Raises:
        ValueError: On a bad argument or a default outside its choices.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        *,
        geometry: Mapping,
        embedding_sizes: Sequence[int] = (64, 128, 256),
        margins: Sequence[float] = (0.2, 0.5, 1.0),
        learning_rate_range: Sequence[float] = (5e-4, 1e-2),
        defaults: Mapping,
        class_loss: str = "triplet",
        copy_weight: float = 1.0,
        copy_score_weight: float = 1.0,
        temperature: float = 0.1,
        name: str = "embedder_tuned",
    ):
        super().__init__(name=name)
        self.input_shape = tuple(input_shape)
        self.geometry = dict(geometry)
        self.embedding_sizes = check_choices("embedding_sizes", embedding_sizes, int)
        odd = [size for size in self.embedding_sizes if size < 2 or size % 2]
        if odd:
            raise ValueError(
                "Invalid value for argument `embedding_sizes`. Expected even lengths of at least "
                f"2 (half class part, half copy part). Received {odd}."
            )
        self.margins = check_choices("margins", margins, (int, float))
        if class_loss not in CLASS_LOSSES:
            raise ValueError(
                f"Invalid value for argument `class_loss`. Expected one of "
                f"{', '.join(CLASS_LOSSES)}. Received class_loss={class_loss!r}."
            )
        self.class_loss = class_loss
        self.copy_weight = copy_weight
        self.copy_score_weight = check_positive("copy_score_weight", copy_score_weight)
        self.temperature = temperature
        self.defaults = {
            "embedding_size": check_default_in(
                "embedding_sizes", defaults["embedding_size"], self.embedding_sizes
            ),
            "margin": check_default_in("margins", defaults["margin"], self.margins),
            "learning_rate": float(defaults["learning_rate"]),
        }
        self.learning_rate_range = check_range(
            "learning_rate_range", learning_rate_range, self.defaults["learning_rate"]
        )

    def default_values(self) -> dict:
        """The default configuration as hyperparameter values."""
        values = dict(self.defaults)
        if self.class_loss != "triplet":
            values.pop("margin")
        return values

    def geometry_problem(self, values: Mapping) -> str | None:
        """None: the backbone is fixed, so every trial's geometry is the default's."""
        return None

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        """Builds and compiles a trial's embedder."""
        size = hp.Choice(
            "embedding_size", self.embedding_sizes, default=self.defaults["embedding_size"]
        )
        margin = (
            hp.Choice("margin", self.margins, default=self.defaults["margin"])
            if self.class_loss == "triplet"
            else self.defaults["margin"]
        )
        learning_rate = hp.Float(
            "learning_rate",
            *self.learning_rate_range,
            sampling="log",
            default=self.defaults["learning_rate"],
        )
        half = size // 2
        backbone = small_cnn(
            include_top=False, input_shape=self.input_shape, name=f"{self.name}_backbone",
            **self.geometry,
        )  # fmt: skip
        model = embedding_model(
            backbone,
            half,
            name=self.name,
            copy_dimension=half,
            copy_weight=self.copy_score_weight,
        )
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss=ClassAndCopyLoss(
                half,
                class_loss=self.class_loss,
                margin=margin,
                copy_weight=self.copy_weight,
                temperature=self.temperature,
            ),
        )
        return model
