import itertools

import keras
import numpy as np
import pytest

from models.ngrams import HashedNGrams, NGramLogits, hashed_ngrams, naive_bayes_log_ratios


def test_every_ngram_of_real_tokens_gets_a_bucket_and_padding_none():
    ids = np.array([[5, 7, 9, 0, 0], [3, 3, 3, 3, 1]])
    buckets = hashed_ngrams(ids, 3, 1000)
    # 5 unigrams + 4 bigrams + 3 trigrams per text
    assert buckets.shape == (2, 12)
    # text 1: 3 real unigrams, 2 real bigrams, 1 real trigram; the rest touch padding
    assert (buckets[0] > 0).tolist() == [1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 0, 0]
    assert (buckets[1] > 0).all() and buckets.max() < 1000
    # one n-gram, one bucket: "3 3" three times, "3 3 3" twice, in text 2
    assert len(set(buckets[1, 5:8])) == 1 and buckets[1, 9] == buckets[1, 10]
    assert buckets[0, 0] != buckets[0, 5] != buckets[0, 9]  # 5 / 5 7 / 5 7 9 differ


def test_the_layer_hashes_as_numpy_does_and_ignores_appended_padding():
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 20000, (4, 30))
    layer = HashedNGrams(3, 2**18)
    np.testing.assert_array_equal(layer(ids).numpy(), hashed_ngrams(ids, 3, 2**18))
    padded = np.concatenate([ids, np.zeros((4, 6), np.int64)], axis=1)
    real = sorted(b for b in hashed_ngrams(padded, 3, 2**18)[0] if b)
    assert real == sorted(hashed_ngrams(ids, 3, 2**18)[0].tolist())
    assert hashed_ngrams(np.array([[4]]), 3, 50).shape == (1, 1)  # too short for bigrams


def test_naive_bayes_ratios_match_a_hand_count():
    buckets = 6
    # bucket ids per text; text 0 holds bucket 2 twice (counted once)
    texts = np.array([[1, 2, 2], [1, 3, 0], [4, 0, 0], [4, 5, 0]])
    labels = np.array([1, 1, 0, 0])
    ratios = naive_bayes_log_ratios(texts, labels, 2, buckets, alpha=1.0)
    positive = 1.0 + np.array([0, 2, 1, 1, 0, 0])  # bucket 0 counts nothing
    negative = 1.0 + np.array([0, 0, 0, 0, 2, 1])
    positive[0] = negative[0] = 1.0
    expected = np.log(positive / positive.sum()) - np.log(negative / negative.sum())
    expected[0] = 0.0
    np.testing.assert_allclose(ratios[:, 0], expected, rtol=1e-6)
    three = naive_bayes_log_ratios(texts, np.array([0, 1, 2, 2]), 3, buckets)
    assert three.shape == (6, 3) and three[1, 0] > 0 and three[1, 2] < 0  # one-vs-rest


def test_logits_sum_the_weights_of_real_ngrams():
    layer = NGramLogits(8, 2)
    layer.build((None, None))
    weights = np.arange(16, dtype=np.float32).reshape(8, 2)
    layer.start_from(weights, 0.5)
    out = layer(np.array([[1, 3, 0, 0], [0, 0, 0, 0]])).numpy()
    np.testing.assert_allclose(out, [0.5 * (weights[1] + weights[3]), [0.0, 0.0]])
    with pytest.raises(ValueError, match=r"shape \(3, 2\).*\(8, 2\)"):
        layer.start_from(np.zeros((3, 2), np.float32), 1.0)


@pytest.mark.parametrize(("layer", "arguments"), [(HashedNGrams, (2, 64)), (NGramLogits, (64, 3))])
def test_config_round_trips(layer, arguments):
    original = layer(*arguments, name="x")
    clone = layer.from_config(original.get_config())
    assert clone.get_config() == original.get_config()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="Received ngrams=0"):
        HashedNGrams(0)
    with pytest.raises(ValueError, match="Received buckets=1"):
        HashedNGrams(2, 1)
    with pytest.raises(ValueError, match="Received outputs=0"):
        NGramLogits(10, 0)


def test_a_bag_of_ngrams_alone_learns_a_bigram_rule():
    # label 1 iff the bigram (2, 3) occurs: unigrams alone cannot tell
    rng = np.random.default_rng(1)
    ids = rng.integers(2, 6, (400, 6))
    labels = np.array([any(a == 2 and b == 3 for a, b in itertools.pairwise(row)) for row in ids])
    x = keras.Input((None,), dtype="int64")
    scores = keras.layers.Activation("sigmoid")(NGramLogits(512)(HashedNGrams(2, 512)(x)))
    model = keras.Model(x, scores)
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
    model.fit(ids, labels, epochs=30, batch_size=64, verbose=0)
    assert model.evaluate(ids, labels, verbose=0)[1] > 0.97
