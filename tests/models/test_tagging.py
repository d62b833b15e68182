import keras
import numpy as np
import pytest
import tensorflow as tf

from models.layers import CRF
from models.recurrent import RecurrentSpec
from models.tagging import (
    SHAPE_IDS,
    WORD_SHAPES,
    CharacterCNN,
    CRFTagger,
    TaggingEncoder,
    sequence_tagger,
    word_shape_ids,
)


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


SHAPE = {name: i + 1 for i, (name, _) in enumerate(WORD_SHAPES)}
OTHER = len(WORD_SHAPES) + 1


def test_word_shape_ids_take_the_first_matching_shape():
    cases = {
        "http://t.co/x": "url",
        "WWW.x.org": "url",
        "@bob": "mention",
        "#NBA": "hashtag",
        "2010": "number",
        "3:30": "number",
        "NBA": "all_caps",
        "ÉTÉ": "all_caps",
        "Paris": "title",
        "I": "title",
        "Ölü": "title",
        "iPhone": "inner_caps",
        "McDonald": "inner_caps",
        "lol": "lower",
        "b2b": "with_digits",
        "!!": "punctuation",
    }
    ids = word_shape_ids(tf.constant(list(cases))).numpy().tolist()
    assert ids == [SHAPE[name] for name in cases.values()]
    # neither letters only, digits nor punctuation only: the last id; "" is padding
    assert word_shape_ids(tf.constant([["e.g.", ""]])).numpy().tolist() == [[OTHER, 0]]
    assert OTHER == SHAPE_IDS - 1


def test_encoder_and_tagger_with_word_shapes():
    encoder = TaggingEncoder(["ann"], word_shapes=True)
    encoded = encoder(tf.constant(["Ann @bob 2010", "lol"]))
    assert sorted(encoded) == ["shape_ids", "word_ids"]
    expected = [[SHAPE["title"], SHAPE["mention"], SHAPE["number"]], [SHAPE["lower"], 0, 0]]
    assert encoded["shape_ids"].numpy().tolist() == expected
    assert TaggingEncoder.model_inputs(encoded) is encoded  # several inputs: by name
    words_only = TaggingEncoder(["ann"])(tf.constant(["Ann"]))
    assert TaggingEncoder.model_inputs(words_only) is words_only["word_ids"]
    keras.utils.set_random_seed(9)
    model = sequence_tagger(
        encoder.vocabulary_size,
        3,
        embedding_dim=4,
        word_shapes=True,
        recurrent=RecurrentSpec(units=3, bidirectional=True),
    )
    assert [tensor.name for tensor in model.inputs] == ["word_ids", "shape_ids"]
    assert model.get_layer("shape_embedding").embeddings.shape == (SHAPE_IDS, 8)
    out = model(encoder.model_inputs(encoded)).numpy()
    assert out.shape == (2, 3, 3)
    # the shapes reach the output: same words, other shapes, other probabilities
    urls = tf.where(encoded["word_ids"] > 0, SHAPE["url"], 0)
    other = {**encoded, "shape_ids": tf.cast(urls, tf.int64)}
    assert not np.allclose(model(other).numpy()[0], out[0])


def test_bad_arguments():
    with pytest.raises(ValueError, match="Received tags=0"):
        sequence_tagger(10, 0)
    with pytest.raises(ValueError, match="Received char_vocabulary_size=-1"):
        sequence_tagger(10, 3, char_vocabulary_size=-1)
    with pytest.raises(ValueError, match="Received output='hmm'"):
        sequence_tagger(10, 3, output="hmm")
    with pytest.raises(ValueError, match="Received embedding_dropout=1.5"):
        sequence_tagger(10, 3, embedding_dropout=1.5)
    flat = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match=r"Received output shape \(None, 3\)"):
        CRFTagger(flat)


def transition_data(n=96, length=6, seed=0):
    """Word 5 is B, the word after it I whatever it is: only the transition tells I from O."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(2, 10, size=(n, length))
    for row, size in enumerate(rng.integers(3, length + 1, size=n)):
        ids[row, size:] = 0
    tags = np.where(ids == 5, 1, 0)
    tags[:, 1:][(ids[:, :-1] == 5) & (ids[:, 1:] > 0) & (ids[:, 1:] != 5)] = 2
    return ids, tags


def small_crf_tagger(seed=4, units=8):
    keras.utils.set_random_seed(seed)
    return sequence_tagger(
        12,
        3,
        embedding_dim=8,
        recurrent=RecurrentSpec(units=units, bidirectional=True),
        output="crf",
    )


def test_crf_tagger_outputs_the_one_hot_viterbi_path_of_its_scores():
    model = small_crf_tagger()
    ids, _ = transition_data(4)
    path = model(ids).numpy()
    scores = model.scorer(ids)
    expected, _ = model.crf.viterbi(scores, ids > 0)
    assert path.shape == (4, 6, 3) and model.output_shape == (None, None, 3)
    np.testing.assert_array_equal(path.argmax(-1)[ids > 0], expected.numpy()[ids > 0])
    np.testing.assert_array_equal(path.sum(-1), (ids > 0).astype("float32"))  # zeros on padding
    assert isinstance(model.crf, CRF)
    assert model.count_params() == model.scorer.count_params() + 3 * 3 + 2 * 3


def test_crf_tagger_loss_is_the_mean_sentence_nll_and_ignores_padding():
    model = small_crf_tagger(seed=5)
    model.compile(optimizer="adam")
    ids, tags = transition_data(8)
    scores = model.scorer(ids)
    nll = -model.crf.log_likelihood(scores, tags, ids > 0).numpy()
    evaluated = model.evaluate(ids, tags, batch_size=8, verbose=0, return_dict=True)
    assert evaluated["loss"] == pytest.approx(nll.mean(), rel=1e-5)
    noisy = np.where(ids > 0, tags, 2)  # labels on padding change nothing
    again = model.evaluate(ids, noisy, batch_size=8, verbose=0, return_dict=True)
    assert again["loss"] == pytest.approx(evaluated["loss"], rel=1e-6)
    # accuracy counts real tokens only
    predicted = model.predict(ids, verbose=0).argmax(-1)
    assert evaluated["accuracy"] == pytest.approx((predicted == tags)[ids > 0].mean(), abs=1e-6)


@pytest.mark.slow
def test_crf_tagger_learns_a_transition_rule():
    model = small_crf_tagger(seed=6)
    model.compile(optimizer=keras.optimizers.Adam(0.05))
    ids, tags = transition_data(192, seed=1)
    history = model.fit(ids, tags, epochs=6, batch_size=32, verbose=0).history
    assert history["loss"][-1] < history["loss"][0] / 5
    test_ids, test_tags = transition_data(64, seed=2)
    predicted = model.predict(test_ids, verbose=0).argmax(-1)
    assert (predicted == test_tags)[test_ids > 0].mean() >= 0.99
    transitions = model.crf.transitions.numpy()
    assert transitions[1, 2] > transitions[0, 2]  # I follows B, not O


def test_crf_tagger_config_round_trip():
    model = small_crf_tagger(seed=7)
    clone = CRFTagger.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    ids, _ = transition_data(3)
    np.testing.assert_array_equal(clone(ids), model(ids))
    assert clone.name == model.name


@pytest.mark.slow
def test_crf_tagger_trains_under_mixed_precision():
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = small_crf_tagger(seed=8)
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
        assert type(model.optimizer).__name__ == "LossScaleOptimizer"
        ids, tags = transition_data(32)
        assert model.scorer.get_layer("bidirectional_1").compute_dtype == "float16"
        assert model(ids).dtype == "float32" and model.crf.transitions.dtype == "float32"
        before = model.crf.transitions.numpy().copy()
        history = model.fit(ids, tags, batch_size=8, epochs=3, verbose=0).history
        assert np.isfinite(history["loss"]).all()
        assert not np.array_equal(before, model.crf.transitions.numpy())
    finally:
        keras.mixed_precision.set_global_policy(previous)
