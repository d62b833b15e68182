import keras
import numpy as np
import pytest

from models.conv_front import ConvSpec
from models.layers import Conv1D
from models.ngrams import hashed_ngrams, naive_bayes_log_ratios
from models.recurrent import RecurrentSpec
from models.sentiment import sentiment_classifier, start_ngrams_from_naive_bayes, text_vectorizer


def small_classifier(cell="lstm", bidirectional=False, kernel_size=3, filters=6):
    """A small seeded classifier behind two Conv1D layers (none with ``filters`` 0)."""
    keras.utils.set_random_seed(0)
    return sentiment_classifier(
        30,
        2,
        embedding_dim=4,
        recurrent=RecurrentSpec(cell, 5, bidirectional=bidirectional),
        conv=ConvSpec(filters, kernel_size, layers=2),
    )


def test_binary_is_one_sigmoid_unit_and_more_classes_a_softmax():
    binary = sentiment_classifier(50, 2, embedding_dim=4, recurrent=RecurrentSpec(units=3))
    assert binary.output_shape == (None, 1)
    three = sentiment_classifier(50, 3, embedding_dim=4, recurrent=RecurrentSpec(units=3))
    probabilities = three(np.array([[5, 6, 7]]))
    assert probabilities.shape == (1, 3)
    np.testing.assert_allclose(probabilities.numpy().sum(), 1.0, rtol=1e-6)
    # embedding 50x4 + LSTM 4*(4*3 + 3*3 + 3) + dense 3*3 + 3
    assert three.count_params() == 200 + 96 + 12


@pytest.mark.parametrize(("cell", "kernel_size"), [("lstm", 3), ("gru", 4), ("simple_rnn", 5)])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("conv_filters", [0, 6], ids=["no_conv", "conv_front"])
def test_padding_is_masked(cell, kernel_size, bidirectional, conv_filters):
    model = small_classifier(cell, bidirectional, kernel_size, conv_filters)
    short = model(np.array([[3, 4, 5]])).numpy()
    padded = model(np.array([[3, 4, 5, 0, 0, 0]])).numpy()
    np.testing.assert_allclose(short, padded, atol=1e-6)
    batched = model(np.array([[3, 4, 5, 0, 0, 0], [7, 8, 9, 10, 11, 12]])).numpy()
    np.testing.assert_allclose(batched[:1], short, atol=1e-6)
    assert abs(model(np.array([[3, 4, 6]])).numpy() - short).max() > 1e-5  # the text matters


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


def test_conv_front_is_our_conv1d_read_by_the_recurrent_stack():
    model = small_classifier()
    convs = [layer for layer in model.layers if isinstance(layer, Conv1D)]
    assert [layer.name for layer in convs] == ["conv1d_1", "conv1d_2"]
    assert [layer.padding for layer in convs] == ["same", "same"]
    assert model.get_layer("conv1d_2").output.shape == (None, None, 6)
    assert model.get_layer("lstm_1").cell.kernel.shape == (6, 4 * 5)  # reads the 6 filters
    # embedding 30x4 + conv 3*4*6 + 6 + conv 3*6*6 + 6 + LSTM 4*(6*5 + 5*5 + 5) + dense 5 + 1
    assert model.count_params() == 120 + 78 + 114 + 240 + 6
    assert model.output_shape == (None, 1)


def test_without_conv_front_the_model_has_no_conv_layer():
    model = sentiment_classifier(30, 2, embedding_dim=4, recurrent=RecurrentSpec(units=5))
    assert not [layer for layer in model.layers if isinstance(layer, Conv1D)]
    assert [layer.name for layer in model.layers][1:] == ["embedding", "lstm_1", "probability"]


def test_conv_front_would_read_the_padding_vector_without_zeroing():
    # Why the front zeroes padding steps: id 0's embedding is not zero, and a
    # "same" convolution at the last word reads the step after it.
    model = small_classifier()
    embedding, conv = model.get_layer("embedding"), model.get_layer("conv1d_1")
    assert np.abs(embedding.embeddings.numpy()[0]).max() > 1e-3
    features = keras.Model(model.input, conv.output)
    short, padded = (features(np.array([ids])).numpy() for ids in ([3, 4, 5], [3, 4, 5, 0]))
    np.testing.assert_allclose(padded[:, :3], short, atol=1e-6)
    unzeroed = conv(embedding.embeddings.numpy()[np.array([[3, 4, 5, 0]])]).numpy()
    assert np.abs(unzeroed[:, 2] - short[:, 2]).max() > 1e-4


def test_conv_front_model_saves_and_reloads(tmp_path):
    model = small_classifier("gru")
    ids = np.array([[3, 4, 5, 0, 0], [9, 8, 7, 6, 5]])
    model.save(tmp_path / "s.keras")
    reloaded = keras.saving.load_model(tmp_path / "s.keras")
    np.testing.assert_allclose(reloaded(ids).numpy(), model(ids).numpy(), atol=1e-6)


def cnn_classifier(ngrams=2, classes=2):
    keras.utils.set_random_seed(0)
    return sentiment_classifier(
        30,
        classes,
        embedding_dim=4,
        encoder="cnn",
        cnn_filters=3,
        cnn_kernel_sizes=(2, 3),
        ngrams=ngrams,
        ngram_buckets=64,
    )


@pytest.mark.parametrize("ngrams", [0, 2])
def test_cnn_encoder_ignores_padding_and_reads_the_text(ngrams):
    model = cnn_classifier(ngrams)
    short = model(np.array([[3, 4, 5]])).numpy()
    padded = model(np.array([[3, 4, 5, 0, 0, 0]])).numpy()
    np.testing.assert_allclose(short, padded, atol=1e-6)
    assert abs(model(np.array([[3, 4, 6]])).numpy() - short).max() > 1e-5


def test_cnn_encoder_is_one_conv1d_per_width_max_pooled():
    model = cnn_classifier(ngrams=0)
    convs = [layer for layer in model.layers if isinstance(layer, Conv1D)]
    assert [(c.kernel_size, c.filters, c.padding) for c in convs] == [
        ((2,), 3, "same"),
        ((3,), 3, "same"),
    ]
    assert model.get_layer("widths").output.shape == (None, 6)
    # embedding 30x4 + conv 2*4*3 + 3 + conv 3*4*3 + 3 + dense 6 + 1
    assert model.count_params() == 120 + 27 + 39 + 7


def test_ngrams_add_their_logits_and_start_from_naive_bayes():
    model = cnn_classifier(ngrams=2, classes=3)
    layer = model.get_layer("ngram_logits")
    assert layer.get_weights()[0].shape == (64, 3) and not layer.get_weights()[0].any()
    ids = np.array([[3, 4, 0], [5, 6, 7], [8, 8, 0]])
    start_ngrams_from_naive_bayes(model, ids, np.array([0, 1, 2]), scale=0.5)
    expected = 0.5 * naive_bayes_log_ratios(hashed_ngrams(ids, 2, 64), np.array([0, 1, 2]), 3, 64)
    np.testing.assert_allclose(layer.get_weights()[0], expected)
    # the model's logits are the encoder's plus the n-grams' weights summed
    encoder_logits = keras.Model(model.input, model.get_layer("encoder_logits").output)
    logits = np.log(model(ids).numpy())
    ngram_part = np.array(
        [expected[[b for b in row if b]].sum(axis=0) for row in hashed_ngrams(ids, 2, 64)]
    )
    combined = encoder_logits(ids).numpy() + ngram_part
    softmax = np.exp(combined) / np.exp(combined).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(np.exp(logits), softmax, rtol=1e-5)
    unchanged = sentiment_classifier(30, 2, embedding_dim=4, recurrent=RecurrentSpec(units=3))
    before = [w.copy() for w in unchanged.get_weights()]
    start_ngrams_from_naive_bayes(unchanged, ids, np.array([0, 1, 1]))  # no n-grams: no-op
    assert all((a == b).all() for a, b in zip(before, unchanged.get_weights()))


def test_bad_encoder_arguments():
    with pytest.raises(ValueError, match="Received encoder='mlp'"):
        sentiment_classifier(10, encoder="mlp")
    with pytest.raises(ValueError, match=r"Received cnn_kernel_sizes=\(\)"):
        sentiment_classifier(10, encoder="cnn", cnn_kernel_sizes=())
    with pytest.raises(ValueError, match="Received ngrams=-1"):
        sentiment_classifier(10, ngrams=-1)
