"""``convseq search`` and ``convseq recommend``: neighbour queries against a search run.

Both read a ``task=search`` training run's logged artifacts — its ``embed``
SavedModel and its index with ``items.csv`` (`pipelines.tasks.search`) —
and write JSON lines, one per query::

    {"query": "shoe.png", "results": [{"rank": 1, "item_id": 17, "label": "Sneaker",
                                        "score": 0.93}, ...]}

- ``convseq search --run <run_id> --images <folder|file> --top_k 10``: the
  catalog items most like each image (every ``.png``/``.jpg``/``.jpeg``/
  ``.gif``/``.bmp`` of a folder, sorted by name; files that do not decode are
  skipped with a warning naming them, a single file that does not decode is
  an error);
- ``convseq recommend --run <run_id> --item <id>[,<id>...] --top_k 10``:
  "more like this item", the items nearest to a catalog item, itself left out.

Importing this module loads neither TensorFlow nor MLflow.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from common.validation import check_positive_int
from pipelines.options import option_field, parse_fields


def _check_run_id(run_id: str) -> None:
    if not run_id:
        raise ValueError(
            "Invalid value for argument `run_id`. Expected the id of a task=search training "
            "run (printed as run_id: by convseq train). Received run_id=''."
        )


def parse_item_ids(text) -> tuple[int, ...]:
    """``"17"`` or ``"17,42"`` -> ``(17, 42)``.

    Raises:
        ValueError: If an entry is not an integer.
    """
    parts = text.split(",") if isinstance(text, str) else np.atleast_1d(text).tolist()
    try:
        numbers = [float(part) for part in parts if str(part).strip()]
    except ValueError:
        numbers = []
    values = tuple(int(n) for n in numbers if float(n).is_integer())
    if len(values) != len(numbers):
        values = ()
    if not values:
        raise ValueError(
            "Invalid value for argument `item`. Expected catalog item ids, comma-separated "
            f"(the item_id column of the run's index/items.csv). Received item={text!r}."
        )
    return values


@dataclasses.dataclass(frozen=True)
class SearchConfig:
    """A ``convseq search`` job: query images against a search run's catalog."""

    run_id: str = option_field("", "id of a task=search training run")
    images: str = option_field("", "query image file or folder of images")
    top_k: int = option_field(10, "results per query", check=check_positive_int)
    output: str = option_field("search_results.jsonl", "JSON lines file to write")
    batch_size: int = option_field(64, "images per model call", check=check_positive_int)

    def __post_init__(self):
        parse_fields(self)
        _check_run_id(self.run_id)
        if not self.images:
            raise ValueError(
                "Invalid value for argument `images`. Expected an image file or a folder of "
                "images. Received images=''."
            )


@dataclasses.dataclass(frozen=True)
class RecommendConfig:
    """A ``convseq recommend`` job: the items most like given catalog items."""

    run_id: str = option_field("", "id of a task=search training run")
    item: tuple[int, ...] = option_field(
        (), "catalog item id(s), comma-separated: find items like each", parse=parse_item_ids
    )
    top_k: int = option_field(10, "results per item", check=check_positive_int)
    output: str = option_field("recommendations.jsonl", "JSON lines file to write")

    def __post_init__(self):
        parse_fields(self)
        _check_run_id(self.run_id)
        if not self.item:
            raise ValueError(
                "Invalid value for argument `item`. Expected catalog item ids, comma-separated. "
                "Received item=''."
            )


@dataclasses.dataclass
class SearchRun:
    """What a search run logged, loaded: its embed SavedModel, index and item labels."""

    run_id: str
    embed: object
    index: object
    labels: dict[int, str]

    def results(self, ids: np.ndarray, scores: np.ndarray) -> list[dict]:
        """One query's results as JSON-ready rows, best first."""
        return [
            {
                "rank": rank,
                "item_id": int(item),
                "label": self.labels.get(int(item), ""),
                "score": round(float(score), 6),
            }
            for rank, (item, score) in enumerate(zip(ids, scores, strict=True), start=1)
        ]


def finished_run(run_id: str, task: str, commands: str):
    """The MLflow run ``run_id``, a finished training run of ``task``.

    Args:
        run_id: The run's id.
        task: The task it must have trained.
        commands: The commands asking, for the message (``"search and recommend"``).

    Raises:
        ValueError: If the run does not exist, trained another task or did not finish.
    """
    import mlflow

    try:
        run = mlflow.MlflowClient().get_run(run_id)
    except mlflow.exceptions.MlflowException as error:
        raise ValueError(
            f"No run {run_id!r} in the tracking store {mlflow.get_tracking_uri()}: {error}"
        ) from None
    trained = run.data.params.get("task")
    if trained != task:
        raise ValueError(
            f"Run {run_id} is a task={trained} run; {commands} need the run of a "
            f"task={task} training (convseq train --task {task})."
        )
    if run.info.status != "FINISHED":
        raise ValueError(
            f"Run {run_id} is {run.info.status}: it has no model to use yet. Finish it first "
            f"(convseq train --resume {run_id})."
        )
    return run


def load_search_run(run_id: str, folder: Path) -> SearchRun:
    """Downloads a search run's ``embed_saved_model`` and ``index`` into ``folder`` and loads them.

    Raises:
        ValueError: If the run does not exist or is not a finished search run,
            or its index was built by another model.
    """
    import mlflow
    import tensorflow as tf

    from pipelines.export_search import read_items
    from pipelines.search_outcome import EMBED_ARTIFACTS, INDEX_ARTIFACTS
    from pipelines.vector_index import load_index

    finished_run(run_id, "search", "search and recommend")
    paths = {}
    for name in (EMBED_ARTIFACTS, INDEX_ARTIFACTS):
        paths[name] = Path(
            mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=name, dst_path=str(folder)
            )
        )
    embed = tf.saved_model.load(str(paths[EMBED_ARTIFACTS]))
    metadata = json.loads((paths[EMBED_ARTIFACTS] / "assets.extra" / "metadata.json").read_text())
    dimension = metadata["signatures"]["serve"]["outputs"]["embedding"]["shape"][-1]
    index = load_index(paths[INDEX_ARTIFACTS], dimension, model=run_id)
    labels = read_items(paths[INDEX_ARTIFACTS] / "items.csv")
    return SearchRun(run_id, embed, index, labels)


def query_images(config: SearchConfig) -> list[Path]:
    """The image files of ``config.images``: one file, or a folder's decodable images.

    Raises:
        FileNotFoundError: If the path does not exist.
        ValueError: If a single file does not decode, or a folder holds no image.
    """
    from data.image_folder import decode_image_file
    from pipelines.predict import image_folder_inputs, readable_images

    source = Path(config.images)
    if source.is_file():
        if decode_image_file(source) is None:
            raise ValueError(
                f"Query image {str(source)!r} cannot be decoded: expected a JPEG, PNG, GIF or "
                "BMP file."
            )
        return [source]
    if not source.is_dir():
        raise FileNotFoundError(f"Query images {str(source)!r}: no such file or folder.")
    return readable_images(image_folder_inputs(source), source).image_paths


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _check_top_k(top_k: int, items: int, run_id: str) -> None:
    if top_k > items:
        raise ValueError(
            f"Invalid value for argument `top_k`. Expected at most the {items} catalog items of "
            f"run {run_id}. Received top_k={top_k}."
        )


def write_json_lines(path: str | os.PathLike, rows: list[dict]) -> Path:
    """Writes rows as JSON lines, staged then renamed (never half-written); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.partial")
    try:
        with staged.open("w", encoding="utf-8") as file:
            for row in rows:
                file.write(json.dumps(row) + "\n")
        os.replace(staged, path)
    finally:
        staged.unlink(missing_ok=True)
    return path


def search(config: SearchConfig) -> Path:
    """Writes the ``top_k`` catalog items most like each query image; returns the output path."""
    import tensorflow as tf

    paths = query_images(config)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        run = load_search_run(config.run_id, Path(folder))
        _check_top_k(config.top_k, len(run.index), config.run_id)
        for batch in _batches(paths, config.batch_size):
            data = tf.constant([path.read_bytes() for path in batch])
            vectors = run.embed.serve_image_bytes(data)["embedding"].numpy()
            ids, scores = run.index.query(vectors, config.top_k)
            rows += [
                {"query": str(path), "results": run.results(i, s)}
                for path, i, s in zip(batch, ids, scores, strict=True)
            ]
    return write_json_lines(config.output, rows)


def recommend(config: RecommendConfig) -> Path:
    """Writes the ``top_k`` items most like each of ``config.item``; returns the output path.

    Raises:
        ValueError: If an item is not in the catalog, or ``top_k`` leaves no
            other item to recommend.
    """
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        run = load_search_run(config.run_id, Path(folder))
        missing = [item for item in config.item if item not in run.labels]
        if missing:
            raise ValueError(
                f"Invalid value for argument `item`. Items {missing[:5]} are not in the "
                f"catalog of run {config.run_id} ({len(run.index)} items; see its "
                "index/items.csv)."
            )
        if config.top_k >= len(run.index):
            raise ValueError(
                f"Invalid value for argument `top_k`. Expected fewer than the {len(run.index)} "
                f"catalog items (an item is not its own recommendation). "
                f"Received top_k={config.top_k}."
            )
        vectors = run.index.vectors_of(config.item)
        ids, scores = run.index.query(vectors, config.top_k + 1)
        for item, row_ids, row_scores in zip(config.item, ids, scores, strict=True):
            others = row_ids != item
            kept_ids, kept_scores = row_ids[others][: config.top_k], row_scores[others]
            rows.append(
                {"item": item, "results": run.results(kept_ids, kept_scores[: config.top_k])}
            )
    return write_json_lines(config.output, rows)
