"""Keras Tuner hypermodels: the CNN (filter size, stride, padding, ...), text RNN, embedder, reader.

Fixed structure (input shape, classes, number of conv blocks, the values to
choose from) goes to the validated constructor; every searchable value comes
from ``hp.*`` with a ``default=``, and the defaults form a valid model (Keras
Tuner builds it once in its constructor).

- `CNNHyperModel` (`models.hypermodels.cnn`): `models.small_cnn` searched;
  invalid geometry raises `InvalidGeometryError` before any TensorFlow op;
- `TextRNNHyperModel` (`models.hypermodels.text_rnn`): the sentiment
  classifier's recurrent stack searched;
- `EmbeddingHyperModel` (`models.hypermodels.embedding`): the search task's
  embedder, its vector length, triplet margin and learning rate searched;
- `TextReaderHyperModel` (`models.hypermodels.text_reader`): the OCR
  reader's conv stack (filter size, stride, filters) and recurrent width;
- `models.hypermodels.choices`: the checks of a search space they share.
"""

from models.hypermodels.cnn import CNNHyperModel, InvalidGeometryError
from models.hypermodels.embedding import EmbeddingHyperModel
from models.hypermodels.text_reader import TextReaderHyperModel
from models.hypermodels.text_rnn import TextRNNHyperModel

__all__ = [
    "CNNHyperModel",
    "EmbeddingHyperModel",
    "InvalidGeometryError",
    "TextRNNHyperModel",
    "TextReaderHyperModel",
]
