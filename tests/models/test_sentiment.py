import keras
import numpy as np
import pytest

from models.recurrent import RecurrentSpec
from models.sentiment import sentiment_classifier, text_vectorizer


def test_binary_is_one_sigmoid_unit_and_more_classes_a_softmax():
    binary = sentiment_classifier(50, 2, embedding_dim=4, recurrent=RecurrentSpec(units=3))
    assert binary.output_shape == (None, 1)
    three = sentiment_classifier(50, 3, embedding_dim=4, recurrent=RecurrentSpec(units=3))
    probabilities = three(np.array([[5, 6, 7]]))
    assert probabilities.shape == (1, 3)
    np.testing.assert_allclose(probabilities.numpy().sum(), 1.0, rtol=1e-6)
    # embedding 50x4 + LSTM 4*(4*3 + 3*3 + 3) + dense 3*3 + 3
    assert three.count_params() == 200 + 96 + 12


@pytest.mark.parametrize("cell", ["lstm", "gru", "simple_rnn"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_is_masked(cell, bidirectional):
    keras.utils.set_random_seed(0)
    model = sentiment_classifier(
        30, 2, embedding_dim=4, recurrent=RecurrentSpec(cell, 5, bidirectional=bidirectional)
    )
    short = model(np.array([[3, 4, 5]])).numpy()
    padded = model(np.array([[3, 4, 5, 0, 0, 0]])).numpy()
    np.testing.assert_allclose(short, padded, atol=1e-6)


def test_vectorizer_pads_cuts_and_marks_unknown_words():
    vectorizer = text_vectorizer(10, 4)
    vectorizer.adapt(["a good film", "a bad film", "film"])
    ids = vectorizer(["A GOOD, film!", "terrible", "a a a a a a"]).numpy()
    vocabulary = vectorizer.get_vocabulary()
    assert [vocabulary[i] for i in ids[0][:3]] == ["a", "good", "film"] and ids[0][3] == 0
    assert ids[1].tolist() == [1, 0, 0, 0]
    assert len(ids[2]) == 4


def test_bad_arguments():
    with pytest.raises(ValueError, match="Received classes=1"):
        sentiment_classifier(10, 1)
    with pytest.raises(ValueError, match="Received vocabulary_size=0"):
        sentiment_classifier(0)
    with pytest.raises(ValueError, match="Received sequence_length=0"):
        text_vectorizer(10, 0)
