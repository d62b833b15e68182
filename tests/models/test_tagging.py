import keras
import numpy as np
import pytest
import tensorflow as tf

from models.recurrent import RecurrentSpec
from models.tagging import CharacterCNN, TaggingEncoder, sequence_tagger


def test_one_distribution_per_token_with_padding_masked():
    keras.utils.set_random_seed(1)
    model = sequence_tagger(
        20, 5, embedding_dim=4, recurrent=RecurrentSpec(units=3, bidirectional=True)
    )
    short = model(np.array([[2, 3, 4]])).numpy()
    padded = model(np.array([[2, 3, 4, 0, 0]])).numpy()
    assert padded.shape == (1, 5, 5)
    np.testing.assert_allclose(padded.sum(axis=-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(short, padded[:, :3], atol=1e-6)  # the backward pass skips padding


def test_masked_loss_ignores_padding_labels():
    keras.utils.set_random_seed(2)
    model = sequence_tagger(20, 3, embedding_dim=4, recurrent=RecurrentSpec(units=3))
    model.compile(loss="sparse_categorical_crossentropy")
    ids = np.array([[2, 3, 0, 0]])
    loss_a = model.evaluate(ids, np.array([[1, 2, 0, 0]]), verbose=0)
    loss_b = model.evaluate(ids, np.array([[1, 2, 2, 1]]), verbose=0)
    assert loss_a == pytest.approx(loss_b, rel=1e-6)


def test_character_cnn_matches_a_per_word_reference():
    keras.utils.set_random_seed(3)
    layer = CharacterCNN(12, 4, filters=6)
    char_ids = np.random.default_rng(0).integers(0, 12, size=(2, 3, 5))
    out = layer(char_ids).numpy()
    assert out.shape == (2, 3, 6)
    word = layer.conv(layer.embedding(char_ids[1, 2][np.newaxis])).numpy().max(axis=1)[0]
    np.testing.assert_allclose(out[1, 2], word, rtol=1e-5)
    assert CharacterCNN.from_config(layer.get_config()).filters == 6


def test_tagger_with_characters_runs_under_a_traced_signature():
    model = sequence_tagger(
        10,
        4,
        embedding_dim=4,
        char_vocabulary_size=8,
        recurrent=RecurrentSpec(units=3, bidirectional=True),
    )
    encoder = TaggingEncoder(["ann", "met"], list("anmet"), max_word_length=6)

    @tf.function(input_signature=[tf.TensorSpec((None,), tf.string)])
    def tag(sentences):
        encoded = encoder(sentences)
        return model([encoded["word_ids"], encoded["char_ids"]])

    assert tag(tf.constant(["ann met Bob today", "x"])).shape == (2, 4, 4)


def test_encoder_lowercases_words_and_keeps_character_case():
    encoder = TaggingEncoder(["ann"], ["a", "n", "A"], max_word_length=3)
    encoded = encoder(tf.constant(["Ann zed", "ann"]))
    assert encoded["word_ids"].numpy().tolist() == [[2, 1], [2, 0]]
    assert encoded["char_ids"].numpy()[0].tolist() == [[4, 3, 3], [1, 1, 1]]
    assert encoder.vocabulary_size == 3 and encoder.char_vocabulary_size == 5


def test_bad_arguments():
    with pytest.raises(ValueError, match="Received tags=0"):
        sequence_tagger(10, 0)
    with pytest.raises(ValueError, match="Received char_vocabulary_size=-1"):
        sequence_tagger(10, 3, char_vocabulary_size=-1)
