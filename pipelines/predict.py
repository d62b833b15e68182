"""Batch prediction: a folder of images, a text file or a CSV -> a predictions CSV.

``convseq predict --model M --input I --output predictions.csv`` (and
``mlflow run . -e predict``). ``M`` is a SavedModel folder (an export
version, e.g. ``exports/fashion_mnist_cnn/1``) or an MLflow model URI
(``models:/<name>/<version>``, ``runs:/<run_id>/model``). ``I`` is:

- a folder of WAV files (every ``.wav``, sorted by name), for a speech
  SavedModel: read on the host at the model's rate (`pipelines.predict_audio`);
- a folder of images (every ``.png``/``.jpg``/``.jpeg``/``.gif``/``.bmp``,
  sorted by name): SavedModels get the file bytes through their
  ``serve_image_bytes`` signature (decoded and resized inside); MLflow
  models get uint8 arrays resized to their signature's size, or one image
  at a time at its own size where the signature takes any size (a text
  reader: its rows hold ``text`` and ``confidence``);
- a ``.txt`` file: one text per line (empty lines skipped);
- a ``.csv`` file: the texts of its ``column``.

Each output row holds the input's name (file name, line or row number) and
the model's outputs: scalars as they are, vectors as ``<output>_<i>``
columns (``probabilities_<label>`` when the export names its labels).
An image that cannot be decoded, or a clip that cannot be read or is too
long for the model, gets no row: it is skipped with one warning that counts
and names the skipped files. Progress goes to stderr.

Importing this module loads neither TensorFlow nor MLflow (``convseq
--help`` reads `PredictConfig`); `predict` imports what the model needs.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from pipelines.options import option_field, parse_fields
from pipelines.predict_audio import audio_paths, audio_settings, readable_clips

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp")
MLFLOW_SCHEMES = ("models:/", "runs:/", "mlflow-artifacts:/")


@dataclasses.dataclass(frozen=True)
class PredictConfig:
    """A batch prediction job.

    Attributes:
        model: A SavedModel folder or an MLflow model URI.
        input: An image folder, a ``.txt`` file (one text per line) or a ``.csv``.
        output: The predictions CSV to write.
        column: The CSV column holding the texts.
        batch_size: Inputs per model call.
    """

    model: str = option_field("", "SavedModel folder or MLflow model URI (models:/name/1)")
    input: str = option_field("", "image or WAV folder, .txt (one text per line) or .csv file")
    output: str = option_field("predictions.csv", "predictions CSV to write")
    column: str = option_field("text", "CSV column of the texts")
    batch_size: int = option_field(64, "inputs per model call")

    def __post_init__(self):
        parse_fields(self)
        if not self.model:
            raise ValueError(
                "Invalid value for argument `model`. Expected a SavedModel folder or an MLflow "
                "model URI such as models:/<name>/<version>. Received model=''."
            )
        if not self.input:
            raise ValueError(
                "Invalid value for argument `input`. Expected an image folder, a .txt or a "
                ".csv file. Received input=''."
            )
        if self.batch_size < 1:
            raise ValueError(
                "Invalid value for argument `batch_size`. Expected a positive integer. "
                f"Received batch_size={self.batch_size!r}."
            )


@dataclasses.dataclass(frozen=True)
class Inputs:
    """What to predict on: names and either image file paths, audio file paths or texts."""

    names: list[str]
    image_paths: list[Path] | None = None
    texts: list[str] | None = None
    audio_paths: list[Path] | None = None


def read_inputs(config: PredictConfig) -> Inputs:
    """The inputs of a config: an image folder, a text file or a CSV column.

    Raises:
        FileNotFoundError: If the input does not exist.
        ValueError: On an unsupported file, a missing column, or no inputs.
    """
    source = Path(config.input)
    if source.is_dir():
        clips = audio_paths(source)
        if clips and not any(p.suffix.lower() in IMAGE_SUFFIXES for p in source.iterdir()):
            return Inputs([p.name for p in clips], audio_paths=clips)
        return image_folder_inputs(source)
    if not source.is_file():
        raise FileNotFoundError(f"Input {str(source)!r} is neither a folder nor a file.")
    if source.suffix.lower() == ".txt":
        lines = source.read_text(encoding="utf-8").splitlines()
        kept = [(i, line.strip()) for i, line in enumerate(lines, start=1) if line.strip()]
        if not kept:
            raise ValueError(f"{source} has no non-empty line.")
        return Inputs([f"line {i}" for i, _ in kept], texts=[t for _, t in kept])
    if source.suffix.lower() == ".csv":
        with open(source, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if config.column not in (reader.fieldnames or []):
                raise ValueError(
                    f"{source} has no column {config.column!r}; its header is "
                    f"{reader.fieldnames}. Pass --column."
                )
            rows = [(i, (row[config.column] or "").strip()) for i, row in enumerate(reader, 1)]
        kept = [(i, text) for i, text in rows if text]
        if not kept:
            raise ValueError(f"Column {config.column!r} of {source} is empty.")
        return Inputs([f"row {i}" for i, _ in kept], texts=[t for _, t in kept])
    raise ValueError(
        f"Unsupported input {str(source)!r}: expected an image folder, a .txt or a .csv file."
    )


def image_folder_inputs(folder: Path) -> Inputs:
    """A folder's image files (by suffix, `IMAGE_SUFFIXES`), sorted by name.

    Raises:
        ValueError: If the folder holds no image file.
    """
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise ValueError(f"{folder} holds no image ({', '.join(IMAGE_SUFFIXES)}) nor .wav file.")
    return Inputs([p.name for p in paths], image_paths=paths)


def readable_images(inputs: Inputs, folder: str | os.PathLike) -> Inputs:
    """The image inputs that decode; the others skipped with one warning naming them.

    Each file is checked with `data.image_folder.decode_image_file`, the
    check the training loaders use, so one corrupt file does not fail the
    batch it would be sent in.

    Args:
        inputs: Image inputs (`read_inputs` of a folder).
        folder: Their folder, for the warning.

    Returns:
        The readable inputs, in order.

    Raises:
        ValueError: If no image decodes.
    """
    from data.image_folder import decode_image_file, warn_skipped

    readable = [decode_image_file(path) is not None for path in inputs.image_paths]
    skipped = [name for name, ok in zip(inputs.names, readable, strict=True) if not ok]
    if len(skipped) == len(readable):
        raise ValueError(
            f"None of the {len(readable)} image files in {folder} can be decoded, "
            f"e.g. {skipped[0]!r}."
        )
    warn_skipped(skipped, folder, stacklevel=3)
    kept = [index for index, ok in enumerate(readable) if ok]
    return Inputs(
        [inputs.names[i] for i in kept], image_paths=[inputs.image_paths[i] for i in kept]
    )


def _batches(count: int, size: int) -> Iterator[slice]:
    for start in range(0, count, size):
        yield slice(start, min(start + size, count))


def _progress(done: int, total: int) -> None:
    width = 30
    filled = int(width * done / total)
    sys.stderr.write(f"\rpredict [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


class _SavedModelPredictor:
    """Calls an export's signatures; knows its labels from ``assets.extra/metadata.json``."""

    def __init__(self, path: Path):
        import tensorflow as tf

        if not (path / "saved_model.pb").is_file():
            raise ValueError(
                f"{str(path)!r} is not a SavedModel folder (no saved_model.pb); pass an export "
                "version folder such as exports/<model>/1, or an MLflow model URI."
            )
        self.tf = tf
        self.loaded = tf.saved_model.load(str(path))
        metadata_file = path / "assets.extra" / "metadata.json"
        metadata = json.loads(metadata_file.read_text("utf-8")) if metadata_file.is_file() else {}
        self.labels = metadata.get("labels", [])
        self.audio_settings = audio_settings(path)

    def audio(self, waves: list[np.ndarray]) -> dict:
        from data.audio import padded_waves

        return self.loaded.signatures["serving_default"](
            audio=self.tf.constant(padded_waves(waves))
        )

    def images(self, paths: list[Path]) -> dict:
        if "serve_image_bytes" not in self.loaded.signatures:
            raise ValueError(
                "This SavedModel has no serve_image_bytes signature, so it does not take "
                "images; give it texts (.txt or .csv)."
            )
        data = self.tf.constant([p.read_bytes() for p in paths])
        return self.loaded.signatures["serve_image_bytes"](image_bytes=data)

    def texts(self, texts: list[str]) -> dict:
        signature = self.loaded.signatures["serving_default"]
        ((name, spec),) = signature.structured_input_signature[1].items()
        if spec.dtype != self.tf.string:
            raise ValueError(
                f"This SavedModel takes {spec.dtype.name} {name!r}, not texts; give it what "
                "it was trained on (an image folder for image models)."
            )
        return signature(**{name: self.tf.constant(texts)})


class _MlflowPredictor:
    """An MLflow pyfunc model; images are decoded and resized to its input schema."""

    def __init__(self, uri: str):
        import mlflow

        self.model = mlflow.pyfunc.load_model(uri)
        self.labels = []
        self.audio_settings = None  # a WAV folder is predicted with the SavedModel folder
        schema = self.model.metadata.get_input_schema()
        self.input_shape = None
        if schema is not None and schema.is_tensor_spec():
            self.input_shape = tuple(schema.inputs[0].shape)

    def images(self, paths: list[Path]) -> dict:
        """Images resized to the schema's size; one call per image where it takes any size."""
        from PIL import Image

        if not self.input_shape or len(self.input_shape) != 4:
            raise ValueError(
                f"The MLflow model's input schema {self.input_shape} is not an image batch."
            )
        _, height, width, channels = self.input_shape
        mode = "RGB" if channels == 3 else "L"  # -1 (any): a text reader, read in grey
        arrays = []
        for path in paths:
            image = Image.open(path).convert(mode)
            if height != -1 and width != -1:
                image = image.resize((width, height))
            arrays.append(np.asarray(image, dtype=np.uint8).reshape(*image.size[::-1], -1))
        if height != -1 and width != -1:
            return self._outputs(self.model.predict(np.stack(arrays)))
        answers = [self._outputs(self.model.predict(array[np.newaxis])) for array in arrays]
        return {name: np.concatenate([a[name] for a in answers]) for name in answers[0]}

    def texts(self, texts: list[str]) -> dict:
        return self._outputs(self.model.predict(np.array(texts, dtype=object)))

    @staticmethod
    def _outputs(predictions) -> dict:
        # convseq's serving models answer with named outputs; other models with one array.
        if isinstance(predictions, dict):
            return {name: np.asarray(value) for name, value in predictions.items()}
        return {"probabilities": np.asarray(predictions)}


def _columns(outputs: dict, labels: list[str], rows: int) -> dict[str, list]:
    columns = {}
    for name, value in sorted(outputs.items()):
        array = value.numpy() if hasattr(value, "numpy") else np.asarray(value)
        if array.dtype.kind in "SO":
            array = np.vectorize(lambda v: v.decode() if isinstance(v, bytes) else v)(array)
        array = array.reshape(rows, -1)
        if array.shape[1] == 1:
            columns[name] = array[:, 0].tolist()
        elif name == "probabilities" and len(labels) == array.shape[1]:
            for index, label in enumerate(labels):
                columns[f"{name}_{label}"] = array[:, index].tolist()
        else:
            for index in range(array.shape[1]):
                columns[f"{name}_{index}"] = array[:, index].tolist()
    return columns


def _readable_audio(inputs: Inputs, config: PredictConfig, predictor) -> tuple[list, Inputs]:
    """The clips of a WAV folder the model can take, read at its rate, and their inputs."""
    if predictor.audio_settings is None:
        raise ValueError(
            f"{config.input} holds WAV files, but {config.model!r} is not a speech SavedModel "
            "(no assets.extra/audio.json): pass the export folder of a speech_commands or "
            "speech_digits run, e.g. exports/<model>/1."
        )
    names, waves = readable_clips(
        inputs.audio_paths,
        config.input,
        predictor.audio_settings["sample_rate"],
        predictor.audio_settings["clip_samples"],
    )
    return waves, Inputs(names, audio_paths=[Path(config.input) / name for name in names])


def predict(config: PredictConfig) -> Path:
    """Writes the predictions CSV of a config; returns its path.

    Images that cannot be decoded get no row (one `UserWarning` names them).

    Raises:
        FileNotFoundError: If the input does not exist.
        ValueError: On inputs the model does not take, a bad model path, or a
            folder where no image decodes.
    """
    inputs = read_inputs(config)
    if inputs.image_paths is not None:
        inputs = readable_images(inputs, config.input)
    if config.model.startswith(MLFLOW_SCHEMES):
        predictor = _MlflowPredictor(config.model)
    else:
        predictor = _SavedModelPredictor(Path(config.model))
    if inputs.audio_paths is not None:
        waves, inputs = _readable_audio(inputs, config, predictor)
    total = len(inputs.names)
    output = Path(config.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial")
    writer = None
    with open(partial, "w", encoding="utf-8", newline="") as handle:
        for part in _batches(total, config.batch_size):
            if inputs.audio_paths is not None:
                outputs = predictor.audio(waves[part])
            elif inputs.image_paths is not None:
                outputs = predictor.images(inputs.image_paths[part])
            else:
                outputs = predictor.texts(inputs.texts[part])
            names = inputs.names[part]
            columns = {"input": names, **_columns(outputs, predictor.labels, len(names))}
            if writer is None:
                writer = csv.DictWriter(handle, fieldnames=list(columns))
                writer.writeheader()
            writer.writerows(dict(zip(columns, row)) for row in zip(*columns.values()))
            _progress(part.stop, total)
    partial.replace(output)  # a failed job leaves no half-written predictions file
    return output
