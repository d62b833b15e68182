"""One-to-many: an image -> a CNN feature vector -> our LSTM/GRU decoder -> a caption.

``captioner`` returns a `models.encoder_decoder.Seq2Seq` built by the same
builder as translation (same three models, so the greedy and beam-search
loops of `models.decoding` generate captions):

- ``training``: ``(images uint8, decoder_input_ids) -> next-word probabilities``;
- ``encoder``: ``images -> (features, [positions,] *states)``: the image
  vector, the per-position features attention reads, and the decoder's
  first state;
- ``decoder_step``: ``(token_ids [b, 1], features, [positions,] *states) ->
  (probabilities, *new_states)``.

The image vector is also concatenated to every word embedding, so the
decoder can look at the picture at each step. The CNN is a small stack of
our ``Conv2D``/``MaxPool2D`` blocks, or any base without its top (e.g. a
frozen VGG16 from `models.vgg16`).
"""

from __future__ import annotations

import keras

from common.validation import check_positive_int
from models.encoder_decoder import RecurrentDecoder, Seq2Seq, check_attention, encoder_decoder
from models.layers.conv import Conv2D
from models.layers.pooling import MaxPool2D
from models.recurrent import RecurrentSpec


@keras.saving.register_keras_serializable(package="convseq")
class RepeatOverSteps(keras.layers.Layer):
    """``[vector [b, F], sequence [b, T, ...]] -> vector repeated over T: [b, T, F]``."""

    def call(self, inputs):
        vector, sequence = inputs
        shape = keras.ops.shape(sequence)
        expanded = keras.ops.expand_dims(vector, 1)
        return keras.ops.broadcast_to(expanded, (shape[0], shape[1], vector.shape[-1]))

    def compute_output_shape(self, input_shapes):
        vector, sequence = input_shapes
        return (sequence[0], sequence[1], vector[-1])

    def compute_mask(self, inputs, mask=None):
        return None if mask is None else mask[1]


class _CaptionDecoder(RecurrentDecoder):
    """Reads the image vector next to every word; attends over the image's positions."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.repeat = RepeatOverSteps(name="image_at_every_step")
        self.join = keras.layers.Concatenate(name="word_and_image")

    def decoder_inputs(self, words, context):
        return self.join([words, self.repeat([context[0], words])])


def small_image_encoder(input_shape, filters=(32, 64, 64), name="image_encoder") -> keras.Model:
    """``uint8 images -> /255 -> [Conv3x3 + ReLU -> MaxPool2]*n``: a feature map, our layers."""
    images = keras.Input(input_shape, dtype="uint8", name="images")
    x = keras.layers.Rescaling(1.0 / 255.0)(images)
    for index, count in enumerate(filters, start=1):
        x = Conv2D(count, 3, padding="same", activation="relu", name=f"block{index}_conv1")(x)
        x = MaxPool2D(2, name=f"block{index}_pool")(x)
    return keras.Model(images, x, name=name)


def frozen_vgg16_encoder(
    input_shape, weights=None, weights_cache_dir=None, name="vgg16_image_encoder"
) -> keras.Model:
    """``uint8 images -> VGG preprocessing -> frozen VGG16 conv base`` (the transfer work's base).

    Args:
        input_shape: ``(height, width, 3)``, at least 32 pixels.
        weights: ``None``, ``"imagenet"`` or a weights file (see `models.vgg16`).
        weights_cache_dir: Keras's cache folder for ``"imagenet"``.
        name: Model name.
    """
    from models.layers.preprocessing import VGGPreprocess
    from models.vgg import vgg16

    base = vgg16(
        include_top=False,
        weights=weights,
        input_shape=tuple(input_shape),
        weights_cache_dir=weights_cache_dir,
    )
    base.trainable = False
    images = keras.Input(input_shape, dtype="uint8", name="images")
    features = base(VGGPreprocess(name="vgg_preprocess")(images), training=False)
    return keras.Model(images, features, name=name)


def captioner(
    image_shape: tuple[int, int, int],
    vocabulary_size: int,
    *,
    embedding_dim: int = 64,
    recurrent: RecurrentSpec | None = None,
    image_encoder: keras.Model | None = None,
    attention: str | None = "luong",
    name: str = "captioner",
) -> Seq2Seq:
    """Builds an image captioner whose decoder is our LSTM or GRU.

    Args:
        image_shape: ``(height, width, 3)`` of the uint8 images.
        vocabulary_size: Size of the caption id space (padding, unknown,
            start and end included).
        embedding_dim: Size of word vectors.
        recurrent: Decoder cell, units, dropout and L1/L2 penalties
            (``layers``/``bidirectional`` do not apply to a decoder).
            Default: an LSTM of 64 units.
        image_encoder: A model from uint8 images to a feature map (or a
            vector); default `small_image_encoder`.
        attention: ``"luong"`` (default) or ``"bahdanau"``: at each word the
            decoder attends over the feature map's positions ("show, attend
            and tell"), which binds each word to one object; None: the
            flattened map only.
        name: Prefix of the models' names.

    Returns:
        A `Seq2Seq`; compile ``training`` before fitting.

    Raises:
        ValueError: On a bad argument.
    """
    check_positive_int("vocabulary_size", vocabulary_size)
    check_positive_int("embedding_dim", embedding_dim)
    recurrent = recurrent or RecurrentSpec()
    RecurrentDecoder.check_cell(recurrent.cell, "A caption decoder")
    units = recurrent.units
    image_encoder = image_encoder or small_image_encoder(image_shape)
    check_attention(attention)
    decoder = _CaptionDecoder(
        recurrent,
        units,
        vocabulary_size,
        embedding_dim,
        attention,
        decoder_name="A caption decoder",
        embedding_name="word_embedding",
        output_name="next_word",
    )

    images = keras.Input(image_shape, dtype="uint8", name="images")
    encoded = image_encoder(images)
    if len(encoded.shape) == 4:
        grid = keras.layers.Reshape((-1, encoded.shape[-1]), name="positions")(encoded)
        encoded = keras.layers.Flatten(name="flatten")(encoded)
    else:
        grid = keras.layers.Reshape((1, encoded.shape[-1]), name="positions")(encoded)
    features = keras.layers.Dense(units, activation="relu", name="image_features")(encoded)
    grid = keras.layers.Dense(units, activation="relu", name="position_features")(grid)
    states = [
        keras.layers.Dense(units, activation="tanh", name=f"initial_state_{i}")(features)
        for i in range(decoder.state_count)
    ]
    context = [features, grid] if attention else [features]
    step_context = [keras.Input((units,), name="features")]
    if attention:
        step_context.append(keras.Input((grid.shape[1], units), name="position_features"))
    return encoder_decoder(decoder, images, context, states, step_context, name)
