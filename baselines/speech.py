"""Speech baseline: the command classifier of TensorFlow's "Simple audio recognition" tutorial.

What a practitioner copies first (tensorflow.org/tutorials/audio/simple_audio):
the STFT magnitude (255-sample frames every 128 samples), resized to 32x32,
normalized with statistics adapted on the training spectrograms, then
Conv2D 32 and 64 (3x3, ReLU), 2x2 max pooling, dropout 0.25, a 128-unit
dense layer, dropout 0.5 and logits; Adam at 1e-3. Keras's own layers,
trained on the same clips as ours.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from common.validation import check_positive_int


@keras.saving.register_keras_serializable(package="convseq_baselines")
class MagnitudeSpectrogram(keras.layers.Layer):
    """``[batch, samples]`` -> ``[batch, frames, 129, 1]`` STFT magnitudes (the tutorial's)."""

    def call(self, waveforms):
        spectrum = tf.signal.stft(tf.cast(waveforms, tf.float32), frame_length=255, frame_step=128)
        return tf.abs(spectrum)[..., tf.newaxis]


def tutorial_classifier(clip_samples: int, classes: int, train_waves: np.ndarray) -> keras.Model:
    """The tutorial's model, its normalization adapted on ``train_waves``, compiled.

    Args:
        clip_samples: Samples per clip.
        classes: Words to tell apart.
        train_waves: ``float32 [clips, clip_samples]`` training clips.

    Returns:
        A compiled `keras.Model` from waveforms to logits.
    """
    check_positive_int("clip_samples", clip_samples)
    check_positive_int("classes", classes)
    spectrogram = MagnitudeSpectrogram()
    resize = keras.layers.Resizing(32, 32)
    normalize = keras.layers.Normalization()
    normalize.adapt(resize(spectrogram(train_waves[:1000])))
    model = keras.Sequential(
        [
            keras.Input((clip_samples,)),
            spectrogram,
            resize,
            normalize,
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Dropout(0.25),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(classes),
        ],
        name="tutorial_audio_cnn",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model
