import keras
import numpy as np
import pytest
import tensorflow as tf

from models import small_cnn
from models.conv_diagnostics import (
    conv_block_outputs,
    feature_maps,
    first_conv_filters,
    grad_cam,
)

SIZE = 16  # quadrants of 8 x 8
QUADRANTS = {0: (slice(0, 8), slice(0, 8)), 1: (slice(0, 8), slice(8, 16))}
QUADRANTS |= {2: (slice(8, 16), slice(0, 8)), 3: (slice(8, 16), slice(8, 16))}


def _square(image: np.ndarray, quadrant: int, rng) -> None:
    top = (quadrant // 2) * 8 + rng.integers(0, 5)
    left = (quadrant % 2) * 8 + rng.integers(0, 5)
    image[top : top + 4, left : left + 4] = 255


def top_left_images(count: int, seed: int, distractor: bool) -> tuple[np.ndarray, np.ndarray]:
    """Dim noise; class 1 has a bright 4 x 4 square in the top-left quadrant, class 0 none.

    With ``distractor`` every image also has an equally bright square in
    another quadrant, which tells the classes nothing apart.
    """
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 60, (count, SIZE, SIZE, 1)).astype(np.uint8)
    labels = rng.integers(0, 2, count)
    for image, label in zip(images, labels):
        if distractor:
            _square(image, rng.integers(1, 4), rng)
        if label:
            _square(image, 0, rng)
    return images, labels


def trained_cnn(images: np.ndarray, labels: np.ndarray, head: str = "flatten") -> keras.Model:
    """A tiny `small_cnn` fitted for a few seconds; its top flattens, or averages (``"gap"``)."""
    keras.utils.set_random_seed(0)
    if head == "flatten":
        model = small_cnn(
            input_shape=(SIZE, SIZE, 1), classes=2, filters=(8, 16), dense_units=16, dropout=0.0
        )
    else:  # block2_conv1 straight into global average pooling
        base = small_cnn(
            input_shape=(SIZE, SIZE, 1), include_top=False, filters=(8, 16), pool_size=(2, 0)
        )
        pooled = keras.layers.GlobalAveragePooling2D()(base.output)
        model = keras.Model(base.input, keras.layers.Dense(2, activation="softmax")(pooled))
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(images, labels, batch_size=32, epochs=8, verbose=0)
    return model


def in_quadrant(heatmaps: np.ndarray, quadrant: int) -> tuple[float, np.ndarray]:
    """Share of heat maps peaking in the quadrant, and each map's share of its mass there."""
    rows, columns = QUADRANTS[quadrant]
    peaks = [np.unravel_index(h.argmax(), h.shape) for h in heatmaps]
    peaked = np.mean(
        [rows.start <= r < rows.stop and columns.start <= c < columns.stop for r, c in peaks]
    )
    mass = heatmaps[:, rows, columns].sum(axis=(1, 2)) / heatmaps.sum(axis=(1, 2))
    return float(peaked), mass


@pytest.mark.parametrize(
    ("head", "pool_gradients"), [("gap", True), ("flatten", False)], ids=["grad_cam", "hirescam"]
)
def test_the_map_peaks_in_the_top_left_quadrant_that_decides_the_class(head, pool_gradients):
    model = trained_cnn(*top_left_images(800, seed=1, distractor=False), head=head)
    images, labels = top_left_images(200, seed=2, distractor=False)
    assert np.mean(model.predict(images, verbose=0).argmax(axis=1) == labels) >= 0.97

    decided = images[labels == 1]
    heatmaps, classes = grad_cam(model, decided, pool_gradients=pool_gradients)
    assert heatmaps.shape == (len(decided), SIZE, SIZE)
    assert classes.tolist() == [1] * len(decided)
    assert heatmaps.min() >= 0.0
    np.testing.assert_allclose(heatmaps.max(axis=(1, 2)), 1.0, atol=1e-6)  # none empty
    peaked, mass = in_quadrant(heatmaps, 0)
    assert peaked >= 0.95
    assert np.median(mass) >= 0.6  # a quadrant is a quarter of the image


@pytest.mark.slow
def test_hirescam_finds_the_deciding_square_next_to_an_equally_bright_one():
    model = trained_cnn(*top_left_images(800, seed=1, distractor=True))
    images, labels = top_left_images(200, seed=2, distractor=True)
    assert np.mean(model.predict(images, verbose=0).argmax(axis=1) == labels) >= 0.97
    decided = images[labels == 1]
    heatmaps, _ = grad_cam(model, decided, pool_gradients=False)
    peaked, mass = in_quadrant(heatmaps, 0)
    assert peaked >= 0.95 and np.median(mass) >= 0.6
    # Grad-CAM weighs a channel by one averaged gradient, so a channel that
    # sees both squares lights both: behind a flatten head it cannot tell
    # them apart as well (why a run's figure shows both methods).
    pooled, _ = grad_cam(model, decided)
    assert in_quadrant(pooled, 0)[0] < peaked


def test_grad_cam_and_hirescam_agree_behind_global_average_pooling():
    # With a GAP head the gradient is the same at every position: the two methods coincide.
    keras.utils.set_random_seed(0)
    base = small_cnn(
        input_shape=(SIZE, SIZE, 1), include_top=False, filters=(4, 8), pool_size=(2, 0)
    )
    outputs = keras.layers.Dense(3, activation="softmax")(
        keras.layers.GlobalAveragePooling2D()(base.output)
    )
    model = keras.Model(base.input, outputs)
    images, _ = top_left_images(4, seed=4, distractor=True)
    pooled, classes = grad_cam(model, images, layer_name="block2_conv1")
    positional, same = grad_cam(model, images, layer_name="block2_conv1", pool_gradients=False)
    assert classes.tolist() == same.tolist()
    np.testing.assert_allclose(pooled, positional, atol=1e-5)


def test_block_outputs_filters_and_feature_maps():
    keras.utils.set_random_seed(0)
    plain = small_cnn(input_shape=(8, 8, 1), filters=(4, 6), dense_units=8)
    assert conv_block_outputs(plain) == ["block1_conv1", "block2_conv1"]
    normalized = small_cnn(
        input_shape=(8, 8, 1), filters=(4, 6), dense_units=8, convs_per_block=2, batch_norm=True
    )
    assert conv_block_outputs(normalized) == ["block1_relu2", "block2_relu2"]

    kernel = first_conv_filters(plain)
    np.testing.assert_array_equal(kernel, plain.get_layer("block1_conv1").kernel.numpy())
    assert kernel.shape == (3, 3, 1, 4)

    images = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 1)).astype(np.uint8)
    first, second = feature_maps(plain, images, conv_block_outputs(plain))
    assert first.shape == (2, 8, 8, 4) and second.shape == (2, 4, 4, 6)
    # Block 1's map is ReLU(conv(x / 255) + b), 'same' padding.
    bias = plain.get_layer("block1_conv1").bias.numpy()
    expected = tf.nn.relu(
        tf.nn.conv2d(images.astype(np.float32) / 255, kernel, 1, "SAME") + bias
    ).numpy()
    np.testing.assert_allclose(first, expected, atol=1e-5)


def test_errors_name_the_layer():
    model = small_cnn(input_shape=(8, 8, 1), filters=(4,), dense_units=8)
    with pytest.raises(ValueError, match="layer_name='nope'"):
        grad_cam(model, np.zeros((1, 8, 8, 1), np.uint8), layer_name="nope")
    with pytest.raises(ValueError, match="4D output.*layer_name='fc1'"):
        feature_maps(model, np.zeros((1, 8, 8, 1), np.uint8), ["fc1"])
    dense = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="no 2D convolution"):
        first_conv_filters(dense)
