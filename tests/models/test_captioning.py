import keras
import numpy as np
import pytest
import tensorflow as tf

from models.captioning import RepeatOverSteps, captioner, small_image_encoder
from models.decoding import beam_search_decode, greedy_decode
from models.recurrent import RecurrentSpec

START, END = 1, 2


@pytest.mark.parametrize(("cell", "attention"), [("lstm", "luong"), ("gru", "bahdanau")])
def test_one_decoder_step_equals_the_first_teacher_forced_position(cell, attention):
    keras.utils.set_random_seed(0)
    model = captioner(
        (16, 16, 3), 12, embedding_dim=4, recurrent=RecurrentSpec(cell, 6), attention=attention
    )
    images = tf.constant(np.random.default_rng(0).integers(0, 256, (2, 16, 16, 3)), tf.uint8)
    forced = model.training([images, tf.constant([[START, 5, 6], [START, 7, 0]], tf.int64)])
    assert forced.shape == (2, 3, 12)
    encoded = model.encoder(images)
    assert len(encoded) == 2 + model.state_count  # image vector, 2x2 positions, states
    assert encoded[1].shape == (2, 4, 6)
    step = model.decoder_step([tf.constant([[START], [START]], tf.int64), *encoded])
    np.testing.assert_allclose(step[0].numpy(), forced.numpy()[:, 0], atol=1e-6)
    assert greedy_decode(model, images, start_id=START, end_id=END, max_length=4).shape == (2, 4)
    beams = beam_search_decode(
        model, images, start_id=START, end_id=END, max_length=4, beam_width=3
    )
    assert beams.shape == (2, 4)


def test_image_vector_is_repeated_over_steps_and_keeps_the_word_mask():
    layer = RepeatOverSteps()
    vector = np.arange(6, dtype="float32").reshape(2, 3)
    sequence = np.zeros((2, 4, 5), "float32")
    out = layer([vector, sequence]).numpy()
    assert out.shape == (2, 4, 3)
    np.testing.assert_array_equal(out[1, 3], vector[1])
    mask = np.array([[True, True, False, False], [True, False, False, False]])
    assert layer.compute_mask([vector, sequence], [None, mask]) is mask


def test_small_encoder_uses_our_conv_layers():
    encoder = small_image_encoder((16, 16, 3), filters=(4, 8))
    assert [type(layer).__module__ for layer in encoder.layers if "conv" in layer.name] == [
        "models.layers.conv",
        "models.layers.conv",
    ]
    assert encoder.output_shape == (None, 4, 4, 8)


def test_bad_arguments():
    with pytest.raises(ValueError, match="Received cell='simple_rnn'"):
        captioner((8, 8, 3), 10, recurrent=RecurrentSpec("simple_rnn"))
    with pytest.raises(ValueError, match="Received vocabulary_size=0"):
        captioner((8, 8, 3), 0)


def test_without_attention_the_decoder_reads_only_the_image_vector():
    model = captioner(
        (16, 16, 3), 12, embedding_dim=4, recurrent=RecurrentSpec("gru", 6), attention=None
    )
    images = tf.zeros((1, 16, 16, 3), tf.uint8)
    encoded = model.encoder(images)
    assert len(encoded) == 2  # image vector, state
    step = model.decoder_step([tf.constant([[START]], tf.int64), *encoded])
    assert step[0].shape == (1, 12)
