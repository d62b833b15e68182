import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from models.layers import CRF


def path_scores(potentials, transitions, start, end, length):
    """Every tag path of the first ``length`` steps and its score, by enumeration."""
    tags = potentials.shape[-1]
    paths = list(itertools.product(range(tags), repeat=length))
    scores = []
    for path in paths:
        score = start[path[0]] + end[path[-1]]
        score += sum(potentials[t, tag] for t, tag in enumerate(path))
        score += sum(transitions[a, b] for a, b in itertools.pairwise(path))
        scores.append(score)
    return paths, np.array(scores)


def random_crf(tags, seed):
    rng = np.random.default_rng(seed)
    crf = CRF()
    crf.build((None, None, tags))
    weights = [rng.normal(size=(tags, tags)), rng.normal(size=tags), rng.normal(size=tags)]
    crf.set_weights([w.astype("float32") for w in weights])
    return crf, weights


@pytest.fixture
def batch():
    """Two sentences over 3 tags: 4 real steps, and 2 real steps then padding."""
    rng = np.random.default_rng(7)
    potentials = rng.normal(size=(2, 4, 3)).astype("float32")
    tags = np.array([[0, 2, 1, 1], [2, 0, 1, 2]])
    mask = np.array([[True] * 4, [True, True, False, False]])
    return potentials, tags, mask


def test_log_likelihood_equals_the_brute_force_sum_over_every_path(batch):
    potentials, tags, mask = batch
    crf, (transitions, start, end) = random_crf(3, seed=1)
    ours = crf.log_likelihood(potentials, tags, mask).numpy()
    for row, length in enumerate(mask.sum(axis=1)):
        paths, scores = path_scores(potentials[row], transitions, start, end, length)
        log_z = np.log(np.exp(scores).sum())
        gold = scores[paths.index(tuple(tags[row, :length]))]
        assert ours[row] == pytest.approx(gold - log_z, abs=1e-4)
        # probabilities of all paths sum to one
        assert np.exp(scores - log_z).sum() == pytest.approx(1.0)


def test_gradients_are_observed_minus_expected_counts(batch):
    """d log p / d U[t, k] = [y_t = k] - P(y_t = k); d / d A[a, b]: pair counts, likewise."""
    potentials, tags, mask = batch
    crf, (transitions, start, end) = random_crf(3, seed=9)
    scores = tf.constant(potentials)
    with tf.GradientTape() as tape:
        tape.watch(scores)
        total = tf.reduce_sum(crf.log_likelihood(scores, tags, mask))
    grad_scores, grad_transitions = tape.gradient(total, [scores, crf.transitions])
    expected_scores, expected_transitions = np.zeros_like(potentials), np.zeros((3, 3))
    for row, length in enumerate(mask.sum(axis=1)):
        paths, path_score = path_scores(potentials[row], transitions, start, end, length)
        probabilities = np.exp(path_score - np.log(np.exp(path_score).sum()))
        for path, weight in [(tuple(tags[row, :length]), 1.0), *zip(paths, -probabilities)]:
            for t, tag in enumerate(path):
                expected_scores[row, t, tag] += weight
            for a, b in itertools.pairwise(path):
                expected_transitions[a, b] += weight
    # padded steps (row 1, steps 2-3) get no gradient
    np.testing.assert_allclose(grad_scores.numpy(), expected_scores, atol=1e-4)
    np.testing.assert_allclose(grad_transitions.numpy(), expected_transitions, atol=1e-4)


def test_viterbi_is_the_argmax_over_every_path(batch):
    potentials, _, mask = batch
    crf, (transitions, start, end) = random_crf(3, seed=2)
    ids, best = crf.viterbi(potentials, mask)
    for row, length in enumerate(mask.sum(axis=1)):
        paths, scores = path_scores(potentials[row], transitions, start, end, length)
        assert ids.numpy()[row, :length].tolist() == list(paths[int(scores.argmax())])
        assert best.numpy()[row] == pytest.approx(scores.max(), abs=1e-4)
    assert ids.numpy()[1, 2:].tolist() == [0, 0]  # padding


def test_padding_changes_nothing(batch):
    potentials, tags, mask = batch
    crf, _ = random_crf(3, seed=3)
    short = crf.log_likelihood(potentials[1:, :2], tags[1:, :2]).numpy()
    # garbage scores and tags on the padded steps are ignored
    noisy = potentials.copy()
    noisy[1, 2:] = 50.0
    padded = crf.log_likelihood(noisy, tags, mask).numpy()
    assert padded[1] == pytest.approx(short[0], abs=1e-5)
    ids, _ = crf.viterbi(noisy, mask)
    assert ids.numpy()[1, :2].tolist() == crf.viterbi(potentials[1:, :2])[0].numpy()[0].tolist()


def test_empty_and_single_step_sentences():
    crf, (_, start, end) = random_crf(2, seed=4)
    empty = np.zeros((2, 0, 2), "float32")
    assert crf.log_likelihood(empty, np.zeros((2, 0), int)).numpy().tolist() == [0.0, 0.0]
    assert crf.viterbi(empty)[0].shape == (2, 0)
    one = np.array([[[0.5, 0.1]]], "float32")
    scores = start + end + one[0, 0]
    assert crf.viterbi(one)[0].numpy().tolist() == [[int(scores.argmax())]]
    expected = scores[1] - np.log(np.exp(scores).sum())
    assert crf.log_likelihood(one, [[1]]).numpy()[0] == pytest.approx(expected, abs=1e-5)


def test_layer_output_is_the_one_hot_viterbi_path_and_keeps_the_mask(batch):
    potentials, _, mask = batch
    crf, _ = random_crf(3, seed=5)
    out = crf(potentials, mask=mask)
    ids, _ = crf.viterbi(potentials, mask)
    assert out.shape == (2, 4, 3)
    np.testing.assert_array_equal(out.numpy().argmax(-1)[mask], ids.numpy()[mask])
    np.testing.assert_array_equal(out.numpy().sum(-1), mask.astype("float32"))
    assert crf.compute_mask(potentials, mask) is mask
    assert len(crf.weights) == 3 and crf.count_params() == 9 + 3 + 3


def test_traces_into_a_graph_with_unknown_lengths(batch):
    potentials, tags, mask = batch
    crf, _ = random_crf(3, seed=6)
    spec = tf.TensorSpec((None, None, 3), tf.float32)

    @tf.function(input_signature=[spec, tf.TensorSpec((None, None), tf.bool)])
    def decode(p, m):
        return crf.viterbi(p, m)[0]

    np.testing.assert_array_equal(decode(potentials, mask), crf.viterbi(potentials, mask)[0])


def test_config_round_trip():
    crf = CRF(transitions_initializer="ones", name="tags_crf")
    clone = CRF.from_config(crf.get_config())
    clone.build((None, None, 4))
    assert clone.name == "tags_crf"
    np.testing.assert_array_equal(clone.get_weights()[0], np.ones((4, 4)))


def test_one_training_step_lowers_the_loss(batch):
    potentials, tags, mask = batch
    keras.utils.set_random_seed(0)
    crf = CRF()
    scores = tf.Variable(potentials)
    crf.build(potentials.shape)
    optimizer = keras.optimizers.SGD(0.1)
    losses = []
    for _ in range(2):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(crf.log_likelihood(scores, tags, mask))
        variables = [scores, *crf.trainable_variables]
        optimizer.apply(tape.gradient(loss, variables), variables)
        losses.append(float(loss))
    assert losses[1] < losses[0]


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match=r"Expected potentials of shape \(batch, time, tags\)"):
        CRF().build((None, 5))
    crf, _ = random_crf(3, seed=8)
    with pytest.raises(ValueError, match="built for 3 tags"):
        crf.viterbi(np.zeros((1, 2, 4), "float32"))
