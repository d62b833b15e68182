"""The text RNN hypermodel: the recurrent stack of the sentiment classifier, searched."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import keras
import keras_tuner

from common.recurrent import CELL_NAMES, parse_cells
from common.validation import check_positive_int
from models.hypermodels.choices import check_choices, check_default_in, check_range
from models.recurrent import RecurrentSpec
from models.sentiment import sentiment_classifier


class TextRNNHyperModel(keras_tuner.HyperModel):
    """`models.sentiment_classifier` over token ids with its recurrent stack searched.

    Hyperparameters: ``cell`` (our ``simple_rnn``, ``lstm``, ``gru``),
    ``units``, ``bidirectional``, ``layers`` (depth), ``embedding_dim``,
    ``learning_rate`` (log scale) and ``clipnorm`` (0: no clipping).

    Args:
        vocabulary_size: Size of the token id space.
        classes: Number of classes (2: one sigmoid output).
        cells: Cells to choose from.
        units: Units per direction to choose from.
        max_layers: Deepest stack tried (1 .. max_layers).
        embedding_dims: Word vector sizes to choose from.
        learning_rate_range: ``(low, high)``, searched on a log scale.
        clipnorms: Gradient clipping norms to choose from (0.0: off).
        defaults: Default configuration: ``cell``, ``units``,
            ``bidirectional``, ``layers``, ``embedding_dim``,
            ``learning_rate``, ``clipnorm``; missing keys take ``lstm``, 64,
            False, 1, 64, 2e-3, 0.0.
        name: Model name.

    Raises:
        ValueError: On a bad argument or a default outside its choices.
    """

    def __init__(
        self,
        vocabulary_size: int,
        classes: int = 2,
        *,
        cells: Sequence[str] = CELL_NAMES,
        units: Sequence[int] = (32, 64, 128),
        max_layers: int = 2,
        embedding_dims: Sequence[int] = (32, 64, 128),
        learning_rate_range: Sequence[float] = (5e-4, 1e-2),
        clipnorms: Sequence[float] = (0.0, 1.0, 5.0),
        defaults: Mapping | None = None,
        name: str = "sentiment",
    ):
        super().__init__(name=name)
        check_positive_int("vocabulary_size", vocabulary_size)
        check_positive_int("max_layers", max_layers)
        self.vocabulary_size = vocabulary_size
        self.classes = classes
        self.cells = check_choices("cells", parse_cells(cells, "cells"), str)
        self.units = check_choices("units", units, int)
        self.max_layers = max_layers
        self.embedding_dims = check_choices("embedding_dims", embedding_dims, int)
        self.clipnorms = tuple(
            float(c) for c in check_choices("clipnorms", clipnorms, (int, float))
        )
        defaults = dict(defaults or {})
        self.defaults = {
            "cell": check_default_in("cells", defaults.get("cell", "lstm"), self.cells),
            "units": check_default_in("units", defaults.get("units", 64), self.units),
            "bidirectional": bool(defaults.get("bidirectional", False)),
            "layers": int(defaults.get("layers", 1)),
            "embedding_dim": check_default_in(
                "embedding_dims", defaults.get("embedding_dim", 64), self.embedding_dims
            ),
            "learning_rate": float(defaults.get("learning_rate", 2e-3)),
            "clipnorm": check_default_in(
                "clipnorms", float(defaults.get("clipnorm", 0.0)), self.clipnorms
            ),
        }
        if not 1 <= self.defaults["layers"] <= max_layers:
            raise ValueError(
                f"Invalid default layers={self.defaults['layers']}: expected 1 .. "
                f"max_layers={max_layers}."
            )
        self.learning_rate_range = check_range(
            "learning_rate_range", learning_rate_range, self.defaults["learning_rate"]
        )

    def default_values(self) -> dict:
        """The default configuration as hyperparameter values."""
        return dict(self.defaults)

    def geometry_problem(self, values: Mapping) -> str | None:
        """Recurrent models have no geometry to get wrong: always None."""
        return None

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        """Builds and compiles the text classifier of a trial."""
        cell = hp.Choice("cell", self.cells, default=self.defaults["cell"])
        units = hp.Choice("units", self.units, default=self.defaults["units"])
        bidirectional = hp.Boolean("bidirectional", default=self.defaults["bidirectional"])
        layers = hp.Int("layers", 1, self.max_layers, default=self.defaults["layers"])
        embedding_dim = hp.Choice(
            "embedding_dim", self.embedding_dims, default=self.defaults["embedding_dim"]
        )
        learning_rate = hp.Float(
            "learning_rate",
            *self.learning_rate_range,
            sampling="log",
            default=self.defaults["learning_rate"],
        )
        clipnorm = hp.Choice("clipnorm", self.clipnorms, default=self.defaults["clipnorm"])
        model = sentiment_classifier(
            self.vocabulary_size,
            self.classes,
            embedding_dim=embedding_dim,
            recurrent=RecurrentSpec(
                cell=cell, units=units, layers=layers, bidirectional=bidirectional
            ),
            name=self.name,
        )
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate, clipnorm=clipnorm or None),
            loss="binary_crossentropy" if self.classes == 2 else "sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model
