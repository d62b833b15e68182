"""Nearest-neighbour indexes of item vectors: exact (NumPy) and approximate (faiss HNSW).

Both compare L2-normalised vectors by inner product (cosine similarity) and
share one interface: `add` items by integer id, `remove` them, `query` the
``k`` most similar of each query vector, `save` to a folder and `load_index`
it back. Items added later are searchable at once, without re-embedding the
catalog. A removed item's slot is skipped by every query until the index is
saved and loaded again (slots are compacted on save).

faiss HNSW is the approximate index because bench ``ann_index`` found it the
fastest to query among faiss HNSW, faiss IVF and usearch at the same recall,
and it needs no training step (IVF clusters a catalog first, so its lists
are sized to the items it starts with).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from common.folders import swap_in
from common.validation import check_positive_int

INDEX_FORMAT = 1
MANIFEST = "manifest.json"
KINDS = ("exact", "hnsw")


def _unit_rows(vectors, dimension: int, what: str) -> np.ndarray:
    """``vectors`` as float32 ``[n, dimension]`` rows scaled to length 1."""
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim == 1:
        array = array[np.newaxis]
    if array.ndim != 2 or array.shape[1] != dimension:
        raise ValueError(
            f"Expected {what} of shape (n, {dimension}): the index holds {dimension}-dimensional "
            f"vectors. Received shape {array.shape}."
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"Expected finite {what}; received NaN or infinite values.")
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return array / np.maximum(norms, 1e-12)


def _as_ids(ids) -> list[int]:
    """Item ids (any int array-like) as a list of Python ints."""
    return [int(i) for i in np.asarray(ids, dtype=np.int64).reshape(-1)]


class VectorIndex:
    """What every index does; subclasses store and search the vectors.

    Args:
        dimension: Length of every vector.
    """

    kind = ""

    def __init__(self, dimension: int):
        self.dimension = check_positive_int("dimension", dimension)
        self._ids = np.zeros((0,), np.int64)  # item id of each slot
        self._alive = np.zeros((0,), bool)
        self._slot_of: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._slot_of)

    @property
    def ids(self) -> np.ndarray:
        """The ids of the items in the index, in the order they were added."""
        return self._ids[self._alive]

    def add(self, ids, vectors) -> None:
        """Adds items; their vectors are L2-normalised.

        Args:
            ids: ``int [n]`` item ids, new to the index and distinct.
            vectors: ``float [n, dimension]``.

        Raises:
            ValueError: On a repeated or known id, or vectors of another shape.
        """
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        vectors = _unit_rows(vectors, self.dimension, "vectors")
        if len(ids) != len(vectors):
            raise ValueError(
                f"Expected one id per vector; received {len(ids)} ids and {len(vectors)} vectors."
            )
        values, counts = np.unique(ids, return_counts=True)
        taken = [int(i) for i in ids if int(i) in self._slot_of]
        repeated = taken or ids[np.isin(ids, values[counts > 1])].tolist()
        if repeated:
            raise ValueError(
                f"Item ids must be new and distinct; already taken or repeated: {repeated[:5]}. "
                "Remove an item before adding it again."
            )
        first = len(self._ids)
        self._store(vectors)
        self._ids = np.concatenate([self._ids, ids])
        self._alive = np.concatenate([self._alive, np.ones(len(ids), bool)])
        self._slot_of.update({int(i): first + n for n, i in enumerate(ids)})

    def remove(self, ids) -> None:
        """Removes items by id.

        Raises:
            KeyError: On an id not in the index (nothing is removed then).
        """
        for slot, item in zip(self._slots_of(ids), _as_ids(ids), strict=True):
            self._alive[slot] = False
            del self._slot_of[item]

    def vectors_of(self, ids) -> np.ndarray:
        """The stored unit vectors of items, by id (e.g. to find "more like this item").

        Raises:
            KeyError: On an id not in the index.
        """
        return self._vectors_at(self._slots_of(ids))

    def _slots_of(self, ids) -> np.ndarray:
        """The slots of live items by id; a `KeyError` naming any id not in the index."""
        ids = _as_ids(ids)
        missing = [i for i in ids if i not in self._slot_of]
        if missing:
            raise KeyError(f"Item ids not in the index: {missing[:5]} ({len(self)} items).")
        return np.array([self._slot_of[i] for i in ids], np.int64)

    def query(self, vectors, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` most similar items of each query vector, most similar first.

        Args:
            vectors: ``float [n, dimension]`` (or one vector), L2-normalised here.
            k: Neighbours per query, at most the number of items.

        Returns:
            ``(ids int64 [n, k], scores float32 [n, k])``: cosine similarities.

        Raises:
            ValueError: On an empty index, ``k`` above its size, or vectors of
                another shape.
        """
        check_positive_int("k", k)
        if not len(self):
            raise ValueError("The index is empty: add items before querying it.")
        if k > len(self):
            raise ValueError(
                f"Invalid value for argument `k`. Expected at most the {len(self)} items in the "
                f"index. Received k={k}."
            )
        queries = _unit_rows(vectors, self.dimension, "query vectors")
        slots, scores = self._search(queries, k + int(np.count_nonzero(~self._alive)))
        live = (slots >= 0) & self._alive[np.maximum(slots, 0)]
        if slots.shape[1] == k and live.all():  # nothing removed, nothing missed: as found
            return self._ids[slots], scores.astype(np.float32, copy=False)
        first_live = np.argsort(~live, axis=1, kind="stable")[:, :k]  # live slots first, in order
        ids = self._ids[np.take_along_axis(np.maximum(slots, 0), first_live, axis=1)]
        best = np.take_along_axis(scores, first_live, axis=1).astype(np.float32)
        for row in np.flatnonzero(live.sum(axis=1) < k):  # the graph missed some: search exactly
            ids[row], best[row] = self._exact_row(queries[row], k)
        return ids, best

    def _exact_row(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        live = np.flatnonzero(self._alive)
        similarity = self._vectors_at(live) @ query
        order = np.argsort(-similarity, kind="stable")[:k]
        return self._ids[live[order]], similarity[order]

    def save(self, folder, model: str = "") -> Path:
        """Writes the live items to ``folder`` (replaced whole; never half-written).

        Args:
            folder: Where the index goes.
            model: What made the vectors (e.g. the training run id), kept in
                the manifest so `load_index` can refuse an index of another model.
        """
        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        try:
            np.save(staging / "ids.npy", self.ids)
            self._write(staging)
            manifest = {
                "format": INDEX_FORMAT,
                "kind": self.kind,
                "dimension": self.dimension,
                "items": len(self),
                "model": model,
                **self._settings(),
            }
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=1), "utf-8")
            swap_in(staging, folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return folder

    def _settings(self) -> dict:
        return {}

    def _store(self, vectors: np.ndarray) -> None:
        raise NotImplementedError

    def _search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Slots ``[n, <=k]`` (-1: none) and their scores, best first, dead slots included."""
        raise NotImplementedError

    def _write(self, folder: Path) -> None:
        raise NotImplementedError

    def _vectors_at(self, slots: np.ndarray) -> np.ndarray:
        """The stored unit vectors of ``slots``."""
        raise NotImplementedError


class ExactIndex(VectorIndex):
    """Exact search: a matrix product with every item and a top-k, in query batches.

    Args:
        dimension: Length of every vector.
        batch_size: Queries scored at once (memory: ``batch_size x items`` floats).
    """

    kind = "exact"

    def __init__(self, dimension: int, batch_size: int = 256):
        super().__init__(dimension)
        self.batch_size = check_positive_int("batch_size", batch_size)
        self._chunks = [np.zeros((0, dimension), np.float32)]

    def _store(self, vectors):
        self._chunks.append(vectors)  # joined at the next search: adding batches stays linear

    @property
    def _vectors(self) -> np.ndarray:
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        return self._chunks[0]

    def _search(self, queries, k):
        k = min(k, len(self._vectors))
        slots, scores = [], []
        for start in range(0, len(queries), self.batch_size):
            similarity = queries[start : start + self.batch_size] @ self._vectors.T
            top = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
            top_scores = np.take_along_axis(similarity, top, axis=1)
            order = np.argsort(-top_scores, axis=1, kind="stable")
            slots.append(np.take_along_axis(top, order, axis=1))
            scores.append(np.take_along_axis(top_scores, order, axis=1))
        return np.concatenate(slots), np.concatenate(scores)

    @property
    def vectors(self) -> np.ndarray:
        """The live items' unit vectors, in the order of `ids`."""
        return self._vectors[self._alive]

    def _vectors_at(self, slots):
        return self._vectors[slots]

    def _write(self, folder):
        np.save(folder / "vectors.npy", self.vectors)


class HNSWIndex(VectorIndex):
    """Approximate search on a faiss HNSW graph (Malkov & Yashunin 2016).

    Args:
        dimension: Length of every vector.
        neighbors: Links per node (faiss ``M``): more is slower, more exact.
        ef_construction: Candidates kept while inserting.
        ef_search: Candidates kept while searching (raised to ``k`` when lower).
    """

    kind = "hnsw"

    def __init__(
        self, dimension: int, neighbors: int = 32, ef_construction: int = 80, ef_search: int = 64
    ):
        import faiss

        super().__init__(dimension)
        self.neighbors = check_positive_int("neighbors", neighbors)
        self.ef_construction = check_positive_int("ef_construction", ef_construction)
        self.ef_search = check_positive_int("ef_search", ef_search)
        self._graph = faiss.IndexHNSWFlat(dimension, neighbors, faiss.METRIC_INNER_PRODUCT)
        self._graph.hnsw.efConstruction = ef_construction

    def _store(self, vectors):
        self._graph.add(vectors)

    def _search(self, queries, k):
        k = min(k, self._graph.ntotal)
        self._graph.hnsw.efSearch = max(self.ef_search, k)
        scores, slots = self._graph.search(queries, k)
        return slots, scores

    def _vectors_at(self, slots):
        return self._graph.reconstruct_batch(slots)

    def _settings(self):
        return {
            "neighbors": self.neighbors,
            "ef_construction": self.ef_construction,
            "ef_search": self.ef_search,
        }

    def _write(self, folder):
        import faiss

        if np.all(self._alive):
            faiss.write_index(self._graph, str(folder / "index.faiss"))
            return
        compact = HNSWIndex(self.dimension, self.neighbors, self.ef_construction, self.ef_search)
        live = np.flatnonzero(self._alive)
        compact.add(self._ids[live], self._vectors_at(live))
        faiss.write_index(compact._graph, str(folder / "index.faiss"))


def new_index(kind: str, dimension: int, **settings) -> VectorIndex:
    """An empty index of a kind in `KINDS` (``"exact"`` or ``"hnsw"``)."""
    if kind not in KINDS:
        raise ValueError(
            f"Invalid value for argument `kind`. Expected one of {', '.join(KINDS)}. "
            f"Received kind={kind!r}."
        )
    return (ExactIndex if kind == "exact" else HNSWIndex)(dimension, **settings)


def load_index(folder, dimension: int | None = None, model: str | None = None) -> VectorIndex:
    """The index `VectorIndex.save` wrote to ``folder``.

    Args:
        folder: The saved index.
        dimension: The vector length the caller will query with; a saved
            index of another length is refused (it came from another model).
        model: What the caller's vectors come from; an index saved with
            another ``model`` is refused (its vectors are not comparable).

    Raises:
        FileNotFoundError: If ``folder`` holds no saved index.
        ValueError: On another format version or dimension.
    """
    folder = Path(folder)
    if not (folder / MANIFEST).is_file():
        raise FileNotFoundError(f"No saved index in {folder} (no {MANIFEST}).")
    manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
    if manifest.get("format") != INDEX_FORMAT or manifest.get("kind") not in KINDS:
        raise ValueError(
            f"The index in {folder} has format {manifest.get('format')!r} and kind "
            f"{manifest.get('kind')!r}; this convseq reads format {INDEX_FORMAT} "
            f"({', '.join(KINDS)}). "
            "Rebuild it from the catalog."
        )
    if dimension is not None and manifest["dimension"] != dimension:
        raise ValueError(
            f"The index in {folder} holds {manifest['dimension']}-dimensional vectors but the "
            f"embedding model makes {dimension}-dimensional ones: it was built by another model. "
            "Rebuild it with this model."
        )
    if model is not None and manifest.get("model", "") != model:
        raise ValueError(
            f"The index in {folder} was built from the vectors of model "
            f"{manifest.get('model', '')!r}, not of {model!r}: their vectors are not comparable. "
            "Rebuild the index with this model."
        )
    ids = np.load(folder / "ids.npy")
    if manifest["kind"] == "exact":
        index = ExactIndex(manifest["dimension"])
        index.add(ids, np.load(folder / "vectors.npy"))
        return index
    import faiss

    index = HNSWIndex(
        manifest["dimension"],
        manifest["neighbors"],
        manifest["ef_construction"],
        manifest["ef_search"],
    )
    index._graph = faiss.read_index(str(folder / "index.faiss"))
    index._ids = ids.astype(np.int64)
    index._alive = np.ones(len(ids), bool)
    index._slot_of = {int(i): n for n, i in enumerate(ids)}
    return index
