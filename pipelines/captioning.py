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

import keras
import mlflow
import numpy as np
import tensorflow as tf

from data import DataLocations, load_dataset
from data.captions import read_caption_folder
from data.pipeline import array_batches
from data.specs import CAPTIONING, TEST, TRAIN, CaptionSplit
from models.captioning import captioner, frozen_vgg16_encoder
from pipelines.config import TrainConfig
from pipelines.datasets import (
    CATALOG,
    TFDS,
    choose_dataset,
    cut_to,
    draw_validation,
    split_three_ways,
    tfds_examples,
    tfds_three_splits,
)
from pipelines.export import export_text_generator
from pipelines.fitting import adam, fit
from pipelines.generation import (
    END,
    SAMPLES,
    SampleLog,
    generate,
    make_decoder,
    target_vectorizer,
    teacher_forcing,
    tokens_of,
)
from pipelines.metrics import corpus_bleu
from pipelines.plots import training_curves_figure
from pipelines.tracking import TaskOutcome, log_export, log_new_params

FOLDER_IMAGE_SIZE = 64
MIN_VGG_SIZE = 32


@dataclasses.dataclass(frozen=True)
class CaptionData:
    """The three splits of a captioning dataset."""

    name: str
    train: CaptionSplit
    validation: CaptionSplit
    test: CaptionSplit


def _tfds_captions(name: str, config: TrainConfig, locations: DataLocations | None):
    """A TFDS dataset with ``image`` and ``captions/text`` features (``coco_captions``)."""
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


def load_caption_data(config: TrainConfig, locations: DataLocations | None = None) -> CaptionData:
    """The train/validation/test images and captions the config names.

    Raises:
        ValueError: On a dataset of another task, a TFDS dataset without
            images and captions, or a folder without usable images.
        FileNotFoundError: If a folder has no ``captions.csv``.
    """
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
    return CaptionData(choice.label, train, validation, test)


def _pairs(vectorizer, split: CaptionSplit):
    """One training example per (image, caption)."""
    rows = [i for i, captions in enumerate(split.captions) for _ in captions]
    texts = [caption for captions in split.captions for caption in captions]
    decoder_inputs, labels, weights = teacher_forcing(vectorizer, texts)
    return (split.images[rows], decoder_inputs), labels, weights


def train_captioner(config: TrainConfig, locations: DataLocations | None = None) -> TaskOutcome:
    """Trains, evaluates and exports an image captioner inside the active MLflow run.

    Returns:
        A `TaskOutcome` with ``test_exact_match`` and ``test_bleu_1`` .. ``test_bleu_4``.
    """
    data = load_caption_data(config, locations)
    training_captions = [c for captions in data.train.captions for c in captions]
    vectorizer = target_vectorizer(
        training_captions, config.vocabulary_size, config.sequence_length
    )
    image_shape = data.train.images.shape[1:]
    keras.utils.set_random_seed(config.seed)
    name = f"{data.name}_{config.image_encoder}_{config.cell}_captioner"
    image_encoder = None
    if config.image_encoder == "vgg16":
        if min(image_shape[:2]) < MIN_VGG_SIZE:
            raise ValueError(
                f"image_encoder=vgg16 needs images of at least {MIN_VGG_SIZE} pixels; these are "
                f"{image_shape[0]}x{image_shape[1]}. Pass image_size={MIN_VGG_SIZE} or more."
            )
        base_weights = None if config.base_weights.lower() == "none" else config.base_weights
        image_encoder = frozen_vgg16_encoder(
            image_shape, base_weights, locations.keras_home if locations else None
        )
    model = captioner(
        image_shape,
        vectorizer.vocabulary_size(),
        embedding_dim=config.embedding_dim,
        recurrent=config.recurrent_spec(),
        image_encoder=image_encoder,
        attention=None if config.attention == "none" else config.attention,
        name=name,
    )
    model.training.compile(optimizer=adam(config), loss="sparse_categorical_crossentropy")
    decode = make_decoder(model, vectorizer, config.beam_width)
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
    mlflow.log_metrics(test_metrics)
    mlflow.log_figure(training_curves_figure(history), "plots/training_curves.png")
    height, width = image_shape[:2]

    def resize(images):
        resized = tf.image.resize(images, (height, width))
        return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)

    export_path = export_text_generator(
        model,
        resize,
        tf.TensorSpec((None, None, None, 3), tf.uint8, name="images"),
        vectorizer.get_vocabulary(),
        decode,
        END,
        config.export_dir,
        name,
    )
    log_export(export_path, registered_model_name=config.registered_model_name)
    return TaskOutcome(export_path, test_metrics)
