"""The task table: every task's declared options reach the CLI, MLproject and README, and work.

For every task and every option it declares, a config with that option
changed (and nothing else) must log different parameters and build
different data or a different model (its loss included) or, for options that
shape the run rather than the model, a different run plan, training phases,
decoding or evaluation. An option of another task is
refused for every task.
"""

import dataclasses
import hashlib
import inspect
import json
import re
from pathlib import Path

import keras
import numpy as np
import pytest
import yaml
from PIL import Image
from scipy.io import wavfile
from skimage import data as skimage_photos

from data import DataLocations
from data.face_synth import synthetic_faces
from data.ocr_fonts import find_fonts
from data.ocr_render import DIGITS, PLATE_LETTERS, random_plates, render_texts
from pipelines.cli import build_parser
from pipelines.config import RunOptions, TrainConfig, train_options_table
from pipelines.devices import plan_devices
from pipelines.options import format_option
from pipelines.tasks import TASKS
from pipelines.tasks.sentiment import RECURRENT_OPTIONS

REPO_ROOT = Path(__file__).resolve().parents[3]
RUN_OPTIONS = {field.name for field in dataclasses.fields(RunOptions)}
DEFAULTS = {field.name: field.default for field in dataclasses.fields(TrainConfig)}

# Small data for each task, so that data and models build in seconds.
SMALL = {
    "classify": {"dataset": "fashion_mnist", "max_examples": 120},
    "transfer": {"dataset": "digits", "max_examples": 60},
    "sentiment": {"max_examples": 300, "vocabulary_size": 2000, "sequence_length": 20},
    "tagging": {"max_examples": 120},
    "forecast": {},
    "translation": {"max_examples": 200},
    "captioning": {"max_examples": 60},
    "search": {"dataset": "fashion_mnist", "max_examples": 120},
    "ocr": {"generated_images": 64, "held_out_fonts": 1},
    "speech_commands": {"generated_clips": 48},
    "speech_digits": {"generated_clips": 24},
    "faces": {"train_people": 12, "validation_people": 3, "test_people": 3, "photos_per_person": 3},
}
# Faces from a folder take no synthetic sizes: the small options of such a config.
SMALL_FACE_FOLDER = {"validation_people": 3, "test_people": 3}
PLATE_CHARACTERS = PLATE_LETTERS + DIGITS + " "

# A valid non-default value of every option some task declares.
CHANGED = {
    "data_dir": "<image folder>",
    "image_size": 40,
    "filters": "8",
    "kernel_size": 5,
    "stride": 2,
    "padding": "valid",
    "workers": 2,
    "preset": "quality",
    "base_weights": "<weights file>",
    "fine_tune_blocks": 2,
    "fine_tune_epochs": 2,
    "fine_tune_learning_rate": 1e-3,
    "cell": "gru",
    "units": 16,
    "layers": 2,
    "bidirectional": "true",
    "dropout": 0.2,
    "recurrent_dropout": 0.2,
    "l1": 0.01,
    "l2": 0.01,
    "conv_filters": 8,
    "conv_kernel_size": 5,
    "encoder": "rnn",
    "cnn_filters": 8,
    "cnn_kernel_sizes": "2,3",
    "ngrams": 2,
    "ngram_buckets": 1024,
    "embedding_dim": 16,
    "vocabulary_size": 50,
    "sequence_length": 8,
    "test_fraction": 0.3,
    "text_column": "review",
    "label_column": "stars",
    "char_features": "false",
    "word_shapes": "false",
    "embedding_dropout": 0.2,
    "output": "softmax",
    "window": 12,
    "horizon": 3,
    "window_stride": 4,
    "time_column": "when",
    "columns": "b,a",
    "attention": "bahdanau",
    "beam_width": 3,
    "image_encoder": "vgg16",
    "embedder": "contrastive",
    "embedding_size": 16,
    "margin": 0.2,
    "top_k": 5,
    "index": "exact",
    "image_height": 40,
    "width_pools": 1,
    "generated_images": 72,
    "held_out_fonts": 2,
    "alphabet": PLATE_CHARACTERS + "-",
    "unknown_characters": "remove",
    "sample_rate": 8000,
    "clip_seconds": 1.7,
    "generated_clips": 56,
    "mel_bins": 32,
    "frequency_warp": 0.0,
    "spec_augment": "false",
    "face_loss": "arcface",
    "angular_margin": 0.2,
    "logit_scale": 16.0,
    "train_people": 14,
    "validation_people": 4,
    "test_people": 4,
    "photos_per_person": 4,
    "pairs_file": "<pairs file>",
    "align": "true",
    "flip_average": "false",
}

# Options that need another option or a dataset to take effect: the base they change.
CONTEXT = {
    ("transfer", "fine_tune_blocks"): {"fine_tune_blocks": 1, "fine_tune_epochs": 1},
    ("transfer", "fine_tune_epochs"): {"fine_tune_blocks": 1, "fine_tune_epochs": 1},
    ("transfer", "fine_tune_learning_rate"): {"fine_tune_blocks": 1, "fine_tune_epochs": 1},
    ("transfer", "image_size"): {"image_size": 32},
    ("captioning", "base_weights"): {"image_encoder": "vgg16", "image_size": 32},
    ("captioning", "image_encoder"): {"image_size": 32},
    ("sentiment", "text_column"): {"dataset": "<reviews csv>"},
    ("sentiment", "label_column"): {"dataset": "<reviews csv>"},
    ("sentiment", "test_fraction"): {"dataset": "<reviews csv>"},
    ("forecast", "time_column"): {"dataset": "<series csv>", "time_column": "t"},
    ("forecast", "columns"): {"dataset": "<series csv>", "time_column": "t"},
    ("captioning", "test_fraction"): {"dataset": "<caption folder>"},
    ("translation", "bidirectional"): {"layers": 1},
    ("sentiment", "conv_kernel_size"): {"encoder": "rnn", "conv_filters": 8},
    # the recurrent stack's options shape the rnn encoder only
    **{
        ("sentiment", name): {"encoder": "rnn"}
        for name in RECURRENT_OPTIONS
        if name != "conv_kernel_size"  # its base is above
    },
    ("forecast", "conv_kernel_size"): {"conv_filters": 8},
    ("ocr", "filters"): {"width_pools": 1},  # one conv block pools the width at most once
    # columns left for the plates; stride 2 takes an integer padding in a text reader
    ("ocr", "stride"): {"filters": "8,16", "width_pools": 0, "padding": "1"},
    ("ocr", "test_fraction"): {"dataset": "<ocr labels>"},
    ("speech_commands", "stride"): {"filters": "8,16"},  # 3 stride-2 blocks leave no bin
    ("speech_commands", "test_fraction"): {"dataset": "<word folders>"},
    ("speech_digits", "stride"): {"filters": "8,16"},
    ("speech_digits", "test_fraction"): {"dataset": "<transcripts>"},
    ("faces", "stride"): {"filters": "8,16"},  # 3 stride-2 blocks leave no pixel of 32
    ("faces", "pairs_file"): {"data_dir": "<face folder>"},
    ("faces", "align"): {"data_dir": "<real face folder>"},
    ("ocr", "unknown_characters"): {
        "unknown_characters": "skip",
        "alphabet": PLATE_CHARACTERS.replace("9", ""),
    },
}
ALSO_CHANGED = {
    ("transfer", "fine_tune_blocks"): {"fine_tune_blocks": 2},
    ("transfer", "fine_tune_epochs"): {"fine_tune_epochs": 2},
    ("transfer", "fine_tune_learning_rate"): {"fine_tune_learning_rate": 1e-3},
    ("transfer", "image_size"): {"image_size": 48},
    ("captioning", "image_encoder"): {"image_encoder": "vgg16"},
    ("forecast", "time_column"): {"time_column": "when"},
    ("translation", "sequence_length"): {"sequence_length": 4},  # number words: up to 7 tokens
    ("speech_digits", "clip_seconds"): {"clip_seconds": 5.0},  # digit strings: up to 4 s
    ("faces", "data_dir"): {"data_dir": "<face folder>"},
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The local datasets and weights that some options name."""
    root = tmp_path_factory.mktemp("table")
    rng = np.random.default_rng(0)
    images = root / "images"
    for label in ("cats", "dogs"):
        (images / label).mkdir(parents=True)
        for i in range(6):
            pixels = rng.integers(0, 255, (20, 20, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(images / label / f"{i}.png")
    reviews = root / "reviews.csv"
    words = ["good", "bad", "fine", "awful", "great", "poor"]
    lines = ["text,label,review,stars"]
    for i in range(120):
        lines.append(
            f"{words[i % 6]} film {i},{i % 2},{words[(i + 1) % 6]} show {i} extra,{(i // 2) % 2}"
        )
    reviews.write_text("\n".join(lines) + "\n")
    series = root / "series.csv"
    t = np.arange(300)
    rows = ["t,when,a,b"] + [
        f"{i},{299 - i},{np.sin(i / 5):.4f},{np.cos(i / 7) * 3:.4f}" for i in t
    ]
    series.write_text("\n".join(rows) + "\n")
    captions = root / "captions"
    captions.mkdir()
    caption_rows = ["image,caption"]
    for i in range(30):
        Image.fromarray(rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)).save(
            captions / f"{i}.png"
        )
        caption_rows.append(f"{i}.png,a picture number {i % 5}")
    (captions / "captions.csv").write_text("\n".join(caption_rows) + "\n")
    ocr_folder = root / "ocr"
    ocr_folder.mkdir()
    plates = random_plates(30, np.random.default_rng(1))
    rendered = render_texts(plates, find_fonts(PLATE_CHARACTERS)[:2], seed=0, height=32)
    for i, image in enumerate(rendered.images):
        Image.fromarray(image).save(ocr_folder / f"{i}.png")
    (ocr_folder / "labels.tsv").write_text(
        "".join(f"{i}.png\t{text}\n" for i, text in enumerate(plates)), encoding="utf-8"
    )
    words = root / "words"
    for speaker in range(6):
        for word, hertz in (("yes", 300), ("no", 600)):
            samples = np.sin(2 * np.pi * hertz * np.arange(8000) / 16000) * (speaker + 1) * 3000
            (words / word).mkdir(parents=True, exist_ok=True)
            wavfile.write(
                words / word / f"s{speaker}_nohash_0.wav", 16000, samples.astype(np.int16)
            )
    (words / "transcripts.tsv").write_text(
        "".join(f"{w}/s{i}_nohash_0.wav\tone {w}\n" for i in range(6) for w in ("yes", "no"))
    )
    faces = synthetic_faces(10, 3, seed=2, size=40)
    for row, (image, label) in enumerate(zip(faces.images, faces.labels, strict=True)):
        person = root / "faces" / faces.names[label]
        person.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(person / f"{faces.names[label]}_{row % 3 + 1:04d}.png")
    (root / "pairs.txt").write_text(
        "2\t1\nperson_00000\t1\t2\nperson_00000\t1\tperson_00001\t1\n"
        "person_00002\t2\t3\nperson_00002\t1\tperson_00003\t3\n"
    )
    astronaut = Image.fromarray(skimage_photos.astronaut()).crop((100, 0, 300, 200))
    for person in range(9):  # one real face, shifted and lit differently: mtcnn finds it
        for photo in range(2):
            shifted = astronaut.rotate(0, translate=(person * 3 - 12, photo * 4 - 2))
            shifted = shifted.point(lambda v, g=0.8 + person * 0.05: min(255, int(v * g)))
            folder = root / "real_faces" / f"p{person}"
            folder.mkdir(parents=True, exist_ok=True)
            shifted.save(folder / f"p{person}_{photo + 1:04d}.png")
    from models import vgg16

    weights = root / "vgg16_notop.weights.h5"
    vgg16(include_top=False, weights=None, input_shape=(32, 32, 3)).save_weights(weights)
    return {
        "<image folder>": str(images),
        "<reviews csv>": str(reviews),
        "<series csv>": str(series),
        "<caption folder>": str(captions),
        "<ocr labels>": str(ocr_folder / "labels.tsv"),
        "<weights file>": str(weights),
        "<word folders>": str(words),
        "<transcripts>": str(words / "transcripts.tsv"),
        "<face folder>": str(root / "faces"),
        "<pairs file>": str(root / "pairs.txt"),
        "<real face folder>": str(root / "real_faces"),
    }


def _digest(array) -> str:
    array = np.asarray(array)
    if array.dtype == object:
        data = "\x1f".join(map(str, array.ravel().tolist())).encode()
    else:
        data = np.ascontiguousarray(array).tobytes()
    return f"{array.shape}:{hashlib.sha1(data).hexdigest()[:12]}"


def _describe(value, depth: int = 0):
    """A comparable summary of loaded data: shapes and digests of every array inside."""
    if depth > 6:
        return type(value).__name__
    if isinstance(value, np.ndarray):
        return _digest(value)
    if isinstance(value, keras.layers.Layer):
        config = {k: v for k, v in value.get_config().items() if k != "name"}
        vocabulary = value.get_vocabulary() if hasattr(value, "get_vocabulary") else ()
        return json.dumps(config, sort_keys=True, default=str) + _digest(np.array(vocabulary))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _describe(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)
        }
    if isinstance(value, dict):
        return {str(k): _describe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, str) for v in value):
            return _digest(np.array(value, dtype=object))
        return [_describe(v, depth + 1) for v in value][:50]
    if hasattr(value, "element_spec"):  # a tf.data pipeline
        return [_describe(np.asarray(part), depth + 1) for batch in value.take(2) for part in batch]
    if hasattr(value, "__dict__"):
        return {k: _describe(v, depth + 1) for k, v in vars(value).items() if not k.startswith("_")}
    return repr(value)


def _without_names(value):
    if isinstance(value, dict):
        return {k: _without_names(v) for k, v in value.items() if k != "name"}
    if isinstance(value, list):
        return [_without_names(v) for v in value]
    return value


def _model_description(model: keras.Model) -> dict:
    return {
        "config": json.dumps(_without_names(model.get_config()), sort_keys=True, default=str),
        "parameters": model.count_params(),
        "trainable": sum(int(np.prod(w.shape)) for w in model.trainable_weights),
        "weights": round(float(sum(np.abs(w.numpy()).sum() for w in model.weights)), 2),
        "optimizer": json.dumps(
            {k: v for k, v in model.optimizer.get_config().items() if k != "name"},
            sort_keys=True,
            default=str,
        ),
        "loss": json.dumps(
            model.loss.get_config() if hasattr(model.loss, "get_config") else model.loss,
            sort_keys=True,
            default=str,
        ),
    }


def fingerprint(config: TrainConfig, locations: DataLocations | None) -> dict:
    """What a config builds: its data, its model, its run plan and training phases."""
    task = TASKS[config.task]
    keras.backend.clear_session()  # layer names numbered from scratch in every build
    keras.utils.set_random_seed(config.seed)
    data = task.load_data(config, locations)
    keras.utils.set_random_seed(config.seed)
    model = task.build_model(config, data)
    plan = plan_devices(
        0,
        device=config.device,
        precision=config.precision,
        batch_size=config.batch_size,
        workers=max(1, config.workers),
    )
    module = __import__(task.train.__module__, fromlist=["_"])
    phases = getattr(module, "training_phases", lambda c: ())(config)
    decoding = {}
    if hasattr(module, "build_generator"):  # what the decoder closes over: beam width, lengths
        _, decode = module.build_generator(config, data)
        decoding = {k: repr(v) for k, v in inspect.getclosurevars(decode).nonlocals.items()}
        decoding.pop("model")
    return {
        "data": _describe(data),
        "model": _model_description(model),
        "plan": plan.tags(),
        "phases": [dataclasses.asdict(p) for p in phases],
        "decoding": decoding,
        "evaluation": repr(getattr(module, "evaluation_settings", lambda c: None)(config)),
    }


REFERENCES: dict[str, dict] = {}


def _config(task: str, files, **values) -> TrainConfig:
    values = {k: files.get(v, v) if isinstance(v, str) else v for k, v in values.items()}
    small = SMALL[task]
    if task == "faces" and "data_dir" in values:  # a pairs file names the test people
        small = {
            k: v
            for k, v in SMALL_FACE_FOLDER.items()
            if "pairs_file" not in values or k != "test_people"
        }
    return TrainConfig(task=task, epochs=1, **{**small, **values})


def _pairs():
    for name, task in TASKS.items():
        for option in task.option_names():
            yield name, option


def test_every_declared_option_has_a_changed_value_here():
    declared = {option for _, option in _pairs()}
    assert declared == set(CHANGED)


@pytest.mark.slow
@pytest.mark.parametrize(("task", "option"), list(_pairs()))
def test_each_declared_option_changes_the_params_and_what_is_built(task, option, files):
    base = CONTEXT.get((task, option), {})
    changed = {**base, option: CHANGED[option], **ALSO_CHANGED.get((task, option), {})}
    before, after = _config(task, files, **base), _config(task, files, **changed)
    assert before.as_params() != after.as_params()
    key = repr(before)
    if key not in REFERENCES:  # built twice: equal builds prove the fingerprint is stable
        REFERENCES[key] = fingerprint(before, None)
        assert fingerprint(before, None) == REFERENCES[key]
    assert fingerprint(after, None) != REFERENCES[key]


@pytest.mark.parametrize("task", list(TASKS))
def test_an_option_of_another_task_is_refused(task):
    own = set(TASKS[task].option_names()) | RUN_OPTIONS
    others = [name for name in CHANGED if name not in own]
    assert others
    for name in others:
        value = CHANGED[name]
        if value.startswith("<") if isinstance(value, str) else False:
            value = "x"
        with pytest.raises(ValueError, match=rf"Option `{name}` applies to task .* not task="):
            TrainConfig(task=task, **{name: value})


@pytest.mark.parametrize("task", list(TASKS))
def test_declared_options_reach_cli_mlproject_and_readme_with_their_defaults(task):
    parser = build_parser()
    train = next(
        action.choices["train"]
        for action in parser._actions
        if hasattr(action, "choices") and isinstance(action.choices, dict)
    )
    cli_defaults = {a.dest: a.default for a in train._actions if a.dest != "help"}
    mlproject = yaml.safe_load((REPO_ROOT / "MLproject").read_text())["entry_points"]
    readme = (REPO_ROOT / "README.md").read_text()
    for option in TASKS[task].option_names() + tuple(RUN_OPTIONS):
        default = format_option(DEFAULTS[option])
        assert cli_defaults[option] == default, option
        for entry in ("main", "train"):
            declared = mlproject[entry]["parameters"][option]["default"]
            if isinstance(declared, float):
                assert declared == float(default), (entry, option)
            else:
                assert format_option(declared) == default, (entry, option)
        row = re.search(rf"^\| `{option}` \| ([^|]*) \|", readme, re.M)
        assert row, f"README has no row for option {option}"
        shown = row.group(1).strip().strip("`")
        assert shown == (default or '""'), (option, shown, default)


def test_the_readme_table_is_the_declared_one():
    readme = (REPO_ROOT / "README.md").read_text()
    assert train_options_table() in readme
