"""The captioning task of the train pipeline: images -> CNN + our LSTM decoder -> SavedModel.

Data: generated scenes of coloured shapes offline (default: "a red circle
above a blue square"; test combinations never seen in training), a TFDS
dataset of images and captions (``tfds:coco_captions``), or a folder of
images with a ``captions.csv`` (``image,caption`` rows, several per
image allowed; missing and undecodable images are skipped with a count).
The caption vectorizer is adapted on the training captions only. Reported:
BLEU-1..4 (all of an image's captions are references) and exact match
(the caption equals one of them); a few validation captions are logged as
text after every epoch.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from pipelines.options import choice_parser, option_field
from pipelines.tasks.base import Task, TaskDefaults
from pipelines.tasks.shared_options import (
    VGG16_MIN_SIZE,
    BaseWeightsOption,
    DecoderOptions,
    HeldOutTestOption,
    ImageSizeOption,
    RecurrentCellOptions,
    SequenceLengthOption,
    VocabularyOptions,
    check_gated_decoder,
)

if TYPE_CHECKING:
    import keras

    from data import DataLocations
    from data.splits_types import CaptionSplit, DatasetSplits
    from pipelines.config import TrainConfig
    from pipelines.tracking import TaskOutcome

FOLDER_IMAGE_SIZE = 64


@dataclasses.dataclass(frozen=True)
class CaptioningOptions(
    RecurrentCellOptions,
    VocabularyOptions,
    SequenceLengthOption,
    DecoderOptions,
    ImageSizeOption,
    BaseWeightsOption,
    HeldOutTestOption,
):
    """The options of the captioning task (its decoder is one unidirectional layer)."""

    image_encoder: str = option_field(
        "small",
        "small (our CNN, trained) or vgg16 (frozen base)",
        parse=choice_parser("image_encoder", ("small", "vgg16")),
    )


def check(config: TrainConfig) -> None:
    """A gated decoder cell; VGG16 weights only with the VGG16 encoder.

    Raises:
        ValueError: Naming the options and the fix.
    """
    check_gated_decoder(config)
    if config.image_encoder != "vgg16" and config.base_weights_or_none() is not None:
        raise ValueError(
            "Option `base_weights` sets the weights of the VGG16 image encoder; pass "
            f"image_encoder=vgg16 with it. Received base_weights={config.base_weights!r}, "
            f"image_encoder={config.image_encoder!r}."
        )


def _tfds_captions(name: str, config: TrainConfig, locations: DataLocations | None):
    """A TFDS dataset with ``image`` and ``captions/text`` features (``coco_captions``)."""
    import numpy as np
    import tensorflow as tf

    from data.choice import tfds_examples, tfds_three_splits
    from data.splits_types import CaptionSplit

    info, splits = tfds_examples(name, locations)
    features = info.features
    if "image" not in features or "captions" not in features:
        raise ValueError(
            f"TFDS dataset {name!r} has no 'image' and 'captions' features (features: "
            f"{sorted(features.keys())}); captioning reads datasets like tfds:coco_captions."
        )
    size = config.image_size or FOLDER_IMAGE_SIZE

    def read(split: str) -> CaptionSplit:
        images, captions = [], []
        for example in splits[split]:
            texts = example["captions"]["text"]
            texts = tuple(t.decode("utf-8").strip() for t in np.atleast_1d(texts))
            if not any(texts):
                continue
            resized = tf.image.resize(example["image"], (size, size))
            images.append(tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8).numpy())
            captions.append(tuple(t for t in texts if t))
        if not images:
            raise ValueError(f"The {split} split of TFDS dataset {name!r} has no captioned image.")
        return CaptionSplit(np.stack(images), tuple(captions))

    return tfds_three_splits(name, splits, read, config.validation_fraction)


def load_caption_data(config: TrainConfig, locations: DataLocations | None = None) -> DatasetSplits:
    """The train/validation/test images and captions the config names.

    Raises:
        ValueError: On a dataset of another task, a TFDS dataset without
            images and captions, or a folder without usable images.
        FileNotFoundError: If a folder has no ``captions.csv``.
    """
    from data import load_dataset
    from data.captions import read_caption_folder
    from data.choice import CATALOG, TFDS, choose_dataset, cut_to, draw_validation, split_three_ways
    from data.specs import CAPTIONING, TEST, TRAIN
    from data.splits_types import DatasetSplits

    choice = choose_dataset(
        config.dataset,
        CAPTIONING,
        "a folder of images with a captions.csv (image,caption)",
        folders=True,
    )
    if choice.kind == TFDS:
        train, validation, test = _tfds_captions(choice.name, config, locations)
    elif choice.kind == CATALOG:
        splits = load_dataset(choice.name, locations)[1]
        train, validation = draw_validation(splits[TRAIN], config.validation_fraction)
        test = splits[TEST]
    else:
        full = read_caption_folder(choice.path, config.image_size or FOLDER_IMAGE_SIZE)
        train, validation, test = split_three_ways(
            full, config.validation_fraction, config.test_fraction
        )
    train, test = cut_to(config.max_examples, train, test)
    if config.image_size and train.images.shape[1:3] != (config.image_size, config.image_size):
        train, validation, test = (
            _resized(split, config.image_size) for split in (train, validation, test)
        )
    return DatasetSplits(choice.label, train, validation, test)


def _resized(split: CaptionSplit, size: int) -> CaptionSplit:
    import tensorflow as tf

    from data.splits_types import CaptionSplit

    resized = tf.image.resize(split.images, (size, size))
    images = tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8).numpy()
    return CaptionSplit(images, split.captions)


def _pairs(vectorizer, split: CaptionSplit):
    """One training example per (image, caption)."""
    from pipelines.generation import teacher_forcing

    rows = [i for i, captions in enumerate(split.captions) for _ in captions]
    texts = [caption for captions in split.captions for caption in captions]
    decoder_inputs, labels, weights = teacher_forcing(vectorizer, texts)
    return (split.images[rows], decoder_inputs), labels, weights


@dataclasses.dataclass(frozen=True)
class VectorizedCaptions:
    """Captioned images with the caption vectorizer (adapted on training captions)."""

    data: DatasetSplits
    vectorizer: keras.layers.TextVectorization


def load_data(config: TrainConfig, locations: DataLocations | None = None) -> VectorizedCaptions:
    """The config's captioned images and a vectorizer adapted on the training captions only."""
    from pipelines.generation import target_vectorizer

    data = load_caption_data(config, locations)
    training_captions = [c for captions in data.train.captions for c in captions]
    vectorizer = target_vectorizer(
        training_captions, config.vocabulary_size, config.sequence_length
    )
    return VectorizedCaptions(data, vectorizer)


def build_captioner(config: TrainConfig, captioned: VectorizedCaptions, keras_home=None):
    """The captioner (`models.captioning.captioner`), its training model compiled.

    Raises:
        ValueError: If ``image_encoder=vgg16`` gets images under 32 pixels.
    """
    from models.captioning import captioner, frozen_vgg16_encoder
    from pipelines.fitting import adam

    image_shape = captioned.data.train.images.shape[1:]
    image_encoder = None
    if config.image_encoder == "vgg16":
        if min(image_shape[:2]) < VGG16_MIN_SIZE:
            raise ValueError(
                f"image_encoder=vgg16 needs images of at least {VGG16_MIN_SIZE} pixels; these are "
                f"{image_shape[0]}x{image_shape[1]}. Pass image_size={VGG16_MIN_SIZE} or more."
            )
        image_encoder = frozen_vgg16_encoder(image_shape, config.base_weights_or_none(), keras_home)
    model = captioner(
        image_shape,
        captioned.vectorizer.vocabulary_size(),
        embedding_dim=config.embedding_dim,
        recurrent=config.recurrent_spec(),
        image_encoder=image_encoder,
        attention=config.attention_or_none(),
        name=f"{captioned.data.name}_{config.image_encoder}_{config.cell}_captioner",
    )
    model.training.compile(optimizer=adam(config), loss="sparse_categorical_crossentropy")
    return model


def build_generator(config: TrainConfig, captioned: VectorizedCaptions, keras_home=None):
    """``(model, decode)``: the captioner and its greedy or beam-search decoding."""
    from pipelines.generation import make_decoder

    model = build_captioner(config, captioned, keras_home)
    return model, make_decoder(model, captioned.vectorizer, config.beam_width)


def build_model(config: TrainConfig, captioned: VectorizedCaptions) -> keras.Model:
    """The compiled teacher-forced training model of the captioner."""
    return build_captioner(config, captioned).training


def train_captioner(config: TrainConfig, locations: DataLocations | None = None) -> TaskOutcome:
    """Trains, evaluates and exports an image captioner inside the active MLflow run.

    Returns:
        A `TaskOutcome` with ``test_exact_match`` and ``test_bleu_1`` .. ``test_bleu_4``.
    """
    import keras
    import numpy as np
    import tensorflow as tf

    from data.pipeline import array_batches
    from pipelines.fitting import fit
    from pipelines.generation import SAMPLES, SampleLog, finish_generator, generate, tokens_of
    from pipelines.metrics import corpus_bleu
    from pipelines.tracking import log_new_params

    captioned = load_data(config, locations)
    data, vectorizer = captioned.data, captioned.vectorizer
    image_shape = data.train.images.shape[1:]
    keras.utils.set_random_seed(config.seed)
    model, decode = build_generator(config, captioned, locations.keras_home if locations else None)
    image_spec = tf.TensorSpec((None, *image_shape), tf.uint8)

    def describe(images):
        return generate(decode, vectorizer, images, image_spec)

    shown = data.validation.images[:SAMPLES]
    history = fit(
        model.training,
        array_batches(_pairs(vectorizer, data.train), config.batch_size, config.seed),
        array_batches(_pairs(vectorizer, data.validation), 256),
        config,
        extra_callbacks=[
            SampleLog(
                describe,
                shown,
                [f"validation image {i}" for i in range(len(shown))],
                [captions[0] for captions in data.validation.captions[:SAMPLES]],
            )
        ],
    )
    log_new_params(
        {
            "model_parameters": model.training.count_params(),
            "trainable_parameters": sum(
                int(np.prod(w.shape)) for w in model.training.trainable_weights
            ),
            "caption_vocabulary": vectorizer.vocabulary_size(),
            "train_images": len(data.train),
            "validation_images": len(data.validation),
            "test_images": len(data.test),
        }
    )
    predictions = describe(data.test.images)
    references = [[tokens_of(c) for c in captions] for captions in data.test.captions]
    test_metrics = {
        "test_exact_match": float(np.mean([p in refs for p, refs in zip(predictions, references)])),
        **{
            f"test_bleu_{n}": corpus_bleu(references, predictions, max_order=n)
            for n in (1, 2, 3, 4)
        },
    }
    height, width = image_shape[:2]

    def resize(images):
        resized = tf.image.resize(images, (height, width))
        return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)

    images = tf.TensorSpec((None, None, None, 3), tf.uint8, name="images")
    return finish_generator(
        model, resize, images, vectorizer, decode, config, history, test_metrics
    )


TASK = Task(
    name="captioning",
    summary="image captioner: CNN features -> our LSTM/GRU decoder attending over positions",
    options=CaptioningOptions,
    defaults=TaskDefaults("shapes", epochs=12, batch_size=64, learning_rate=3e-3),
    load_data=load_data,
    build_model=build_model,
    train=train_captioner,
    check=check,
)
