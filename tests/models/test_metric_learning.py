import keras
import numpy as np
import pytest
import tensorflow as tf

from models.metric_learning import (
    ClassAndCopyLoss,
    SemiHardTripletLoss,
    SupervisedContrastiveLoss,
    pairwise_distances,
)


def batch(size=12, dimension=5, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(classes, size=size)
    embeddings = rng.normal(size=(size, dimension))
    return labels, (embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)).astype(
        np.float32
    )


def triplet_reference(labels, embeddings, margin):
    """FaceNet's semi-hard mining, one anchor-positive pair at a time."""
    distance = np.linalg.norm(embeddings[:, None] - embeddings[None], axis=-1)
    per_anchor = []
    for a in range(len(labels)):
        negatives = [n for n in range(len(labels)) if labels[n] != labels[a]]
        positives = [p for p in range(len(labels)) if p != a and labels[p] == labels[a]]
        if not positives or not negatives:
            continue
        losses = []
        for p in positives:
            farther = [distance[a, n] for n in negatives if distance[a, n] > distance[a, p]]
            chosen = min(farther) if farther else max(distance[a, n] for n in negatives)
            losses.append(max(distance[a, p] - chosen + margin, 0.0))
        per_anchor.append(np.mean(losses))
    return np.mean(per_anchor)


def contrastive_reference(labels, embeddings, temperature):
    logits = embeddings @ embeddings.T / temperature
    per_anchor = []
    for i in range(len(labels)):
        others = [a for a in range(len(labels)) if a != i]
        positives = [p for p in others if labels[p] == labels[i]]
        if not positives:
            continue
        log_z = np.log(np.sum(np.exp(logits[i, others])))
        per_anchor.append(-np.mean([logits[i, p] - log_z for p in positives]))
    return np.mean(per_anchor)


def test_pairwise_distances_and_their_gradient_at_zero():
    x = tf.constant([[0.0, 0.0], [3.0, 4.0], [0.0, 0.0]])
    with tf.GradientTape() as tape:
        tape.watch(x)
        distances = pairwise_distances(x)
    np.testing.assert_allclose(distances, [[0, 5, 0], [5, 0, 5], [0, 5, 0]], atol=1e-5)
    assert np.all(np.isfinite(tape.gradient(distances, x)))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("margin", [0.2, 1.0])
def test_semi_hard_triplet_loss_equals_the_reference(seed, margin):
    labels, embeddings = batch(seed=seed)
    ours = float(SemiHardTripletLoss(margin)(labels, embeddings))
    assert ours == pytest.approx(triplet_reference(labels, embeddings, margin), rel=1e-5)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("temperature", [0.1, 0.5])
def test_supervised_contrastive_loss_equals_the_reference(seed, temperature):
    labels, embeddings = batch(seed=seed)
    ours = float(SupervisedContrastiveLoss(temperature)(labels, embeddings))
    expected = contrastive_reference(labels, embeddings.astype(np.float64), temperature)
    assert ours == pytest.approx(expected, rel=1e-4)


def test_an_example_alone_in_its_class_is_not_an_anchor():
    labels = np.array([0, 0, 1, 1, 2])  # class 2 has no positive
    _, embeddings = batch(5)
    for loss, reference in (
        (SemiHardTripletLoss(0.5), lambda: triplet_reference(labels, embeddings, 0.5)),
        (SupervisedContrastiveLoss(0.2), lambda: contrastive_reference(labels, embeddings, 0.2)),
    ):
        assert float(loss(labels, embeddings)) == pytest.approx(reference(), rel=1e-4)


def test_separated_classes_cost_nothing_and_mixed_ones_do():
    labels = np.array([0, 0, 1, 1])
    apart = np.array([[1, 0], [1, 0], [-1, 0], [-1, 0]], np.float32)
    assert float(SemiHardTripletLoss(0.5)(labels, apart)) == 0.0
    mixed = apart[[0, 2, 1, 3]]  # each positive 2 away, the negatives at 0 and 2: none farther,
    assert float(SemiHardTripletLoss(0.5)(labels, mixed)) == pytest.approx(0.5)  # 2 - 2 + 0.5
    low, high = (float(SupervisedContrastiveLoss(0.1)(labels, e)) for e in (apart, mixed))
    assert low < 1.0 < high


@pytest.mark.parametrize("loss", [SemiHardTripletLoss(0.5), SupervisedContrastiveLoss(0.1)])
def test_training_pulls_classes_apart(loss):
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 16)
    centres = 2.0 * np.eye(8)[:4]  # one direction per class, noise of the same size
    features = (rng.normal(size=(64, 8)) + centres[labels]).astype(np.float32)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(16), keras.layers.UnitNormalization()]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss)
    history = model.fit(features, labels, batch_size=64, epochs=30, verbose=0).history["loss"]
    assert history[-1] < 0.8 * history[0]
    vectors = model.predict(features, verbose=0)
    similarity = vectors @ vectors.T
    same = labels[:, None] == labels[None]
    assert similarity[same].mean() > similarity[~same].mean() + 0.3


@pytest.mark.parametrize(
    ("loss", "argument"),
    [(SemiHardTripletLoss, "margin"), (SupervisedContrastiveLoss, "temperature")],
)
def test_config_round_trip_and_bad_values(loss, argument):
    original = loss(**{argument: 0.3})
    restored = keras.losses.deserialize(keras.losses.serialize(original))
    assert type(restored) is loss and getattr(restored, argument) == 0.3
    for bad in (0, -1.0):
        with pytest.raises(ValueError, match=f"`{argument}`.*Received {argument}={bad!r}"):
            loss(**{argument: bad})


@pytest.mark.parametrize("class_loss", ["triplet", "contrastive"])
def test_class_and_copy_loss_is_the_class_loss_plus_the_weighted_copy_loss(class_loss):
    labels, kind = batch(size=12, dimension=4, seed=3)
    groups = np.tile(np.arange(6), 2)  # images 0-5 and their copies 6-11
    _, copy = batch(size=12, dimension=6, seed=4)
    packed = np.stack([labels, groups], axis=1)
    vectors = np.concatenate([kind * 3, copy], axis=1)  # each part is normalised inside
    loss = ClassAndCopyLoss(4, class_loss=class_loss, margin=0.3, copy_weight=0.5, temperature=0.2)
    classes = (
        triplet_reference(labels, kind, 0.3)
        if class_loss == "triplet"
        else contrastive_reference(labels, kind, 0.2)
    )
    expected = classes + 0.5 * contrastive_reference(groups, copy, 0.2)
    np.testing.assert_allclose(float(loss(packed, vectors)), expected, rtol=1e-5)
    restored = ClassAndCopyLoss.from_config(loss.get_config())
    np.testing.assert_allclose(float(restored(packed, vectors)), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="class_loss.*Received class_loss='arcface'"):
        ClassAndCopyLoss(4, class_loss="arcface")
