"""One-to-many: an image -> a CNN feature vector -> our LSTM/GRU decoder -> a caption.

``captioner`` returns a `models.translation.Seq2Seq` (same three models, so
the greedy and beam-search loops of `models.decoding` generate captions):

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

from models.layers.conv import Conv2D
from models.layers.pooling import MaxPool2D
from models.layers.rnn import GRU, LSTM
from models.recurrent import RecurrentSpec
from models.translation import Seq2Seq, check_attention
from models.validation import check_positive_int

_DECODERS = {"lstm": LSTM, "gru": GRU}


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
        recurrent: Decoder cell and units (``layers``/``bidirectional`` do not
            apply to a decoder). Default: an LSTM of 64 units.
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
    if recurrent.cell not in _DECODERS:
        raise ValueError(
            f"Invalid value for argument `cell`. A caption decoder takes one of "
            f"{list(_DECODERS)}. Received cell={recurrent.cell!r}."
        )
    units = recurrent.units
    state_count = 2 if recurrent.cell == "lstm" else 1
    image_encoder = image_encoder or small_image_encoder(image_shape)

    check_attention(attention)
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
        for i in range(state_count)
    ]
    context = [features, grid] if attention else [features]
    encoder = keras.Model(images, [*context, *states], name=f"{name}_encoder")
    if attention == "luong":
        attend = keras.layers.Attention(score_mode="dot", name="attention")
    elif attention == "bahdanau":
        attend = keras.layers.AdditiveAttention(name="attention")
    combine = keras.layers.Dense(units, activation="tanh", name="attention_combine")

    embedding = keras.layers.Embedding(
        vocabulary_size, embedding_dim, mask_zero=True, name="word_embedding"
    )
    decoder_rnn = _DECODERS[recurrent.cell](
        units,
        return_sequences=True,
        return_state=True,
        dropout=recurrent.dropout,
        recurrent_dropout=recurrent.recurrent_dropout,
        name="decoder",
    )
    project = keras.layers.Dense(
        vocabulary_size, activation="softmax", dtype="float32", name="next_word"
    )

    def decode(token_ids, step_context, initial_states):
        words = embedding(token_ids)
        repeated = RepeatOverSteps(name="image_at_every_step")([step_context[0], words])
        inputs = keras.layers.Concatenate(name="word_and_image")([words, repeated])
        results = decoder_rnn(inputs, initial_state=initial_states)
        sequence = results[0]
        if attention:
            looked_at = attend([sequence, step_context[1]])
            sequence = combine(keras.layers.Concatenate()([sequence, looked_at]))
        return project(sequence), list(results[1:])

    decoder_input_ids = keras.Input((None,), dtype="int64", name="decoder_input_ids")
    probabilities, _ = decode(decoder_input_ids, context, states)
    training = keras.Model([images, decoder_input_ids], probabilities, name=name)

    step_tokens = keras.Input((1,), dtype="int64", name="token_ids")
    step_context = [keras.Input((units,), name="features")]
    if attention:
        step_context.append(keras.Input((grid.shape[1], units), name="position_features"))
    step_states = [keras.Input((units,), name=f"state_{i}") for i in range(state_count)]
    step_probabilities, new_states = decode(step_tokens, step_context, step_states)
    decoder_step = keras.Model(
        [step_tokens, *step_context, *step_states],
        [keras.ops.squeeze(step_probabilities, axis=1), *new_states],
        name=f"{name}_decoder_step",
    )
    return Seq2Seq(training, encoder, decoder_step, state_count)
