"""The faces task: photos of people -> unit vectors -> "same person?" and "who is this?".

People (`pipelines.face_data`): synthetic people drawn by
`data.face_synth` (the default, ``synthetic_faces``) or a face folder
``data_dir`` in LFW's layout, optionally aligned by the eyes (``align``,
`data.face_detect`) and scored on LFW's ``pairs_file``. Training, validation
and test people are never the same people.

The embedder (`models.face.face_embedder`: our conv blocks, batch
normalization, average pooling, a dense layer, unit length) is trained
through a cosine classifier over the training people with a margin loss
(``face_loss``: CosFace, the default, or ArcFace, `models.face.MarginSoftmaxLoss`);
a 500-people experiment measured CosFace ahead of ArcFace and of the
semi-hard triplet loss on unseen people (issue 21's note). Photos are
flipped and shifted at random while training; once trained, each face is
embedded with its mirror image (``flip_average``, `embedder_to_keep`).

Evaluated on the test people (`pipelines.face_outcome`): verification
accuracy by LFW's 10-fold protocol, ROC AUC, true-accept rates at
false-accept rates of 1 % and 0.1 %, rank-1 identification (each person's
first photo enrolled, their other photos asked); the threshold the
``verify`` export keeps is the most accurate one on validation people's pairs.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from common.validation import check_non_negative, check_positive, check_positive_int
from pipelines.options import choice_parser, option_field
from pipelines.tasks.base import Task, TaskDefaults
from pipelines.tasks.shared_options import (
    ConvBlockOptions,
    EmbeddingSizeOption,
    FlipAverageOption,
    ImageFolderOption,
    ImageSizeOption,
)

if TYPE_CHECKING:
    import keras

    from data import DataLocations
    from pipelines.config import TrainConfig
    from pipelines.face_data import FaceData
    from pipelines.tracking import TaskOutcome

FACE_LOSSES = ("cosface", "arcface")
DEFAULT_MARGINS = {"cosface": 0.35, "arcface": 0.5}
"""The margin each loss takes when ``angular_margin`` is 0 (the papers' values)."""
FACE_SIZE = 32
"""The ``image_size`` a faces run takes when the option is left at 0."""
FACE_FILTERS = (32, 64, 128)
"""The ``filters`` a faces run takes when the option is left at its default."""
SHIFT = 0.06
"""Largest random shift of a training photo, a share of its side."""


@dataclasses.dataclass(frozen=True)
class FacesOptions(
    ConvBlockOptions, ImageFolderOption, ImageSizeOption, EmbeddingSizeOption, FlipAverageOption
):
    """The options of the faces task."""

    face_loss: str = option_field(
        "cosface",
        "margin loss of the face embedder: cosface (additive cosine margin) or arcface "
        "(additive angular margin)",
        parse=choice_parser("face_loss", FACE_LOSSES),
    )
    angular_margin: float = option_field(
        0.0,
        "margin of face_loss (0: the loss's own, cosface 0.35, arcface 0.5)",
        check=check_non_negative,
    )
    logit_scale: float = option_field(
        30.0, "scale s of the margin loss's cosines", check=check_positive
    )
    train_people: int = option_field(
        4000, "synthetic people to train on (synthetic_faces)", check=check_positive_int
    )
    validation_people: int = option_field(
        50,
        "people never trained on whose pairs choose the verification threshold",
        check=check_positive_int,
    )
    test_people: int = option_field(
        100,
        "people never trained on or validated on: test pairs and the identification gallery "
        "(a pairs_file names its own)",
        check=check_positive_int,
    )
    photos_per_person: int = option_field(
        12, "photos of each synthetic person (synthetic_faces)", check=check_positive_int
    )
    pairs_file: str = option_field(
        "", "LFW's pairs.txt for data_dir: the test pairs, scored by its folds (empty: drawn)"
    )
    align: bool = option_field(
        False,
        "find each data_dir photo's face with mtcnn and align it by the eyes: true or false",
    )


def check(config: TrainConfig) -> None:
    """Synthetic-only and folder-only options match the data; the blocks fit the image.

    Raises:
        ValueError: Naming the option and the fix.
    """
    from data.choice import CATALOG, choose_dataset
    from data.specs import FACE_RECOGNITION

    defaults = FacesOptions.__dataclass_fields__
    for name in ("validation_people", "test_people"):
        if getattr(config, name) < 2:
            raise ValueError(
                f"Invalid value for argument `{name}`. Different-person pairs need two people "
                f"at least. Received {name}={getattr(config, name)}."
            )
    if config.pairs_file and config.test_people != defaults["test_people"].default:
        raise ValueError(
            "Option `test_people` does not apply with pairs_file: the test people are those the "
            f"pairs name. Leave it at {defaults['test_people'].default}. Received test_people="
            f"{config.test_people}."
        )
    if config.data_dir:
        for name in ("train_people", "photos_per_person"):
            if getattr(config, name) != defaults[name].default:
                raise ValueError(
                    f"Option `{name}` sizes the synthetic people, not a face folder: leave it at "
                    f"{defaults[name].default} with data_dir. Received {name}="
                    f"{getattr(config, name)}."
                )
    else:
        if config.photos_per_person < 2:
            raise ValueError(
                "Invalid value for argument `photos_per_person`. Same-person pairs need two "
                f"photos of a person. Received photos_per_person={config.photos_per_person}."
            )
        hint = "a face folder root/<person>/<image> given as data_dir"
        if choose_dataset(config.dataset, FACE_RECOGNITION, hint, folders=True).kind != CATALOG:
            raise ValueError(
                f"Invalid value for argument `dataset`. Task faces reads people from "
                f"synthetic_faces or from {hint}. Received dataset={config.dataset!r}."
            )
        for name in ("pairs_file", "align"):
            if getattr(config, name) != defaults[name].default:
                raise ValueError(
                    f"Option `{name}` applies to a face folder: set data_dir too. Received "
                    f"{name}={getattr(config, name)!r}."
                )
    if config.max_examples:
        raise ValueError(
            "Option `max_examples` does not apply to task faces, which counts people: set "
            "train_people (synthetic people), validation_people or test_people instead. "
            f"Received max_examples={config.max_examples}."
        )
    shrink = (2 * config.stride) ** len(config.filters)
    if config.image_size < shrink:
        raise ValueError(
            f"Invalid value for argument `image_size`. {len(config.filters)} conv blocks of "
            f"stride {config.stride}, each pooled by 2, shrink the photo {shrink} times: expected "
            f"at least {shrink} pixels, or fewer blocks. Received image_size={config.image_size}."
        )


def preset(config: TrainConfig) -> dict:
    """The face size and the deeper backbone faces take, for options left at their defaults."""
    return {"image_size": FACE_SIZE, "filters": FACE_FILTERS}


def margin_of(config: TrainConfig) -> float:
    """The margin of the config's loss (``angular_margin``, or the loss's own for 0)."""
    return config.angular_margin or DEFAULT_MARGINS[config.face_loss]


def load_data(config: TrainConfig, locations: DataLocations | None = None) -> FaceData:
    """The run's training, validation and test people (`pipelines.face_data.load_faces`)."""
    from pipelines.face_data import load_faces

    del locations  # synthetic people or a folder: nothing to look up
    return load_faces(config)


def build_model(config: TrainConfig, data: FaceData) -> keras.Model:
    """The margin trainer (embedder -> cosines to each training person's centre), compiled."""
    from models.face import MarginSoftmaxLoss, face_embedder, margin_trainer
    from pipelines.fitting import adam

    embedder = face_embedder(
        config.image_size,
        config.filters,
        config.embedding_size,
        name=f"{data.name}_embedder",
        kernel_size=config.kernel_size,
        strides=config.stride,
        padding=config.padding,
    )
    trainer = margin_trainer(embedder, len(data.train.names))
    loss = MarginSoftmaxLoss(config.logit_scale, margin_of(config), config.face_loss)
    trainer.compile(optimizer=adam(config), loss=loss)
    return trainer


def embedder_of(trainer: keras.Model) -> keras.Model:
    """The embedder inside a `build_model` trainer: photos -> unit vectors (shared layers)."""
    import keras

    name = trainer.name.removesuffix("_trainer")
    return keras.Model(trainer.inputs, trainer.get_layer("embedding").output, name=name)


def evaluation_settings(config: TrainConfig) -> dict[str, bool]:
    """How the trained embedder embeds the faces it is scored and exported with."""
    return {"flip_average": config.flip_average}


def embedder_to_keep(trainer: keras.Model, config: TrainConfig) -> keras.Model:
    """The embedder the run scores and exports: `embedder_of`, flip-averaged if the config says.

    Averaging each face with its mirror image (`models.embedding.flip_averaged`),
    on bench ``faces``'s people (seed 0, 30 epochs, a one-off script), raised
    rank-1 from 0.958 to 0.969 and TAR at FAR 0.1 % from 0.921 to 0.936.
    """
    from models.embedding import flip_averaged

    embedder = embedder_of(trainer)
    return flip_averaged(embedder) if evaluation_settings(config)["flip_average"] else embedder


def training_batches(faces, config: TrainConfig):
    """Shuffled batches of ``(photo, person)``, each photo flipped and shifted at random.

    The shifts are whole pixels, up to `SHIFT` of the side
    (`data.augment.augment_image_batches`): seeded draws, so a run with the
    same seed trains on the same batches.
    """
    from data.augment import augment_image_batches
    from data.pipeline import array_batches

    batches = array_batches((faces.images, faces.labels), config.batch_size, config.seed)
    return augment_image_batches(batches, config.seed, max_shift=round(SHIFT * config.image_size))


def train(config: TrainConfig, locations: DataLocations | None = None) -> TaskOutcome:
    """Trains the face embedder, scores verification and identification, logs and exports."""
    import keras
    import mlflow

    from data.pipeline import array_batches
    from pipelines.face_data import fit_split
    from pipelines.face_outcome import finish_faces
    from pipelines.fitting import fit
    from pipelines.plots import training_curves_figure
    from pipelines.tracking import log_new_params

    keras.utils.set_random_seed(config.seed)
    data = load_data(config, locations)
    trainer = build_model(config, data)
    embedder = embedder_to_keep(trainer, config)
    fitted, held = fit_split(data.train, config.validation_fraction, config.seed)
    log_new_params(
        {
            "model_parameters": embedder.count_params(),
            "train_photos": len(fitted),
            "validation_examples": len(held),
            "trained_people": len(data.train.names),
            "threshold_people": len(data.validation.names),
            "tested_people": len(data.test.names),
            "test_pairs": len(data.test_pairs.same),
            "resolved_angular_margin": margin_of(config),
            "single_photo_people": len(data.single_photo_people),
            "photos_without_face": len(data.no_face),
        }
    )
    history = fit(
        trainer,
        training_batches(fitted, config),
        array_batches((held.images, held.labels), config.batch_size),
        config,
    )
    mlflow.log_figure(training_curves_figure(history), "plots/training_curves.png")
    return finish_faces(config, data, embedder)


TASK = Task(
    name="faces",
    summary="face verification and identification: a CNN embedder trained with a margin loss",
    options=FacesOptions,
    defaults=TaskDefaults("synthetic_faces", epochs=30, batch_size=64, learning_rate=1e-3),
    load_data=load_data,
    build_model=build_model,
    train=train,
    check=check,
    preset=preset,
)
