import numpy as np
import pytest

from pipelines.vector_index import ExactIndex, HNSWIndex, load_index, new_index


def clustered(items=2000, dimension=32, clusters=20, seed=0):
    """Unit vectors around random centres, as embeddings of classes are."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dimension))
    vectors = centres[rng.integers(clusters, size=items)] + 0.3 * rng.normal(
        size=(items, dimension)
    )
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def brute_force(catalog, queries, k):
    similarity = queries @ catalog.T
    return np.argsort(-similarity, axis=1, kind="stable")[:, :k], np.sort(similarity, axis=1)[
        :, ::-1
    ][:, :k]


def test_exact_index_equals_brute_force_with_ids_and_scores():
    catalog, queries = clustered(), clustered(50, seed=1)
    ids = np.arange(len(catalog)) * 7 + 3  # ids are not positions
    index = ExactIndex(32, batch_size=16)
    for start in range(0, len(catalog), 300):  # added in batches, as a catalog streams in
        index.add(ids[start : start + 300], catalog[start : start + 300] * 5)  # normalised inside
    found, scores = index.query(queries, k=10)
    positions, expected = brute_force(catalog, queries, 10)
    np.testing.assert_array_equal(found, ids[positions])
    np.testing.assert_allclose(scores, expected, atol=1e-5)
    assert len(index) == 2000


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_removed_items_never_come_back_and_added_ones_are_found_at_once(kind):
    catalog = clustered(500)
    index = new_index(kind, 32)
    index.add(np.arange(500), catalog)
    index.remove([0, 1, 2])
    found, _ = index.query(catalog[:3], k=5)
    assert not set(found.ravel()) & {0, 1, 2}
    assert len(index) == 497
    index.add([1000], catalog[0])  # the same vector under a new id, without rebuilding
    found, scores = index.query(catalog[0], k=1)
    assert found[0, 0] == 1000 and scores[0, 0] == pytest.approx(1.0, abs=1e-5)
    index.remove([1000])
    index.add([1000], catalog[1])  # an id can come back after its removal
    assert index.query(catalog[1], k=1)[0][0, 0] == 1000


def test_hnsw_recall_against_exact_search():
    # embeddings vary along few directions: a 10-dimensional latent seen in 64 dimensions
    rng = np.random.default_rng(0)
    latent, lift = rng.normal(size=(5200, 10)), rng.normal(size=(10, 64))
    vectors = (latent @ lift).astype(np.float32)
    catalog, queries = vectors[:5000], vectors[5000:]
    exact, approximate = ExactIndex(64), HNSWIndex(64, neighbors=16, ef_search=32)
    for index in (exact, approximate):
        index.add(np.arange(5000), catalog)
    truth, _ = exact.query(queries, 10)
    found, scores = approximate.query(queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, found)])
    assert recall >= 0.95
    assert np.all(np.diff(scores, axis=1) <= 1e-6)  # best first


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_save_and_load_answer_the_same_and_drop_removed_items(kind, tmp_path):
    catalog = clustered(800)
    index = new_index(kind, 32)
    index.add(np.arange(800) + 10, catalog)
    index.remove([10, 11])
    before = index.query(catalog[:20], k=5)
    index.save(tmp_path / "index")
    index.save(tmp_path / "index")  # replaced whole
    loaded = load_index(tmp_path / "index", dimension=32)
    after = loaded.query(catalog[:20], k=5)
    np.testing.assert_array_equal(after[0], before[0])
    np.testing.assert_allclose(after[1], before[1], atol=1e-6)
    assert len(loaded) == 798 and set(loaded.ids) == set(range(12, 810))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index"]  # no staging left


def test_bad_uses_are_named(tmp_path):
    index = ExactIndex(4)
    with pytest.raises(ValueError, match="empty"):
        index.query(np.ones(4))
    index.add([1, 2], np.eye(4)[:2])
    with pytest.raises(ValueError, match=r"at most the 2 items .* Received k=3"):
        index.query(np.ones(4), k=3)
    with pytest.raises(ValueError, match=r"shape \(n, 4\).*Received shape \(1, 3\)"):
        index.query(np.ones(3), k=1)
    with pytest.raises(ValueError, match=r"already taken or repeated: \[1\]"):
        index.add([1], np.ones((1, 4)))
    with pytest.raises(ValueError, match=r"repeated: \[5, 5\]"):
        index.add([5, 5], np.ones((2, 4)))
    with pytest.raises(ValueError, match="one id per vector"):
        index.add([7], np.ones((2, 4)))
    with pytest.raises(ValueError, match="finite"):
        index.add([8], np.full((1, 4), np.nan))
    with pytest.raises(KeyError, match=r"\[9\]"):
        index.remove([1, 9])
    assert len(index) == 2  # nothing removed
    with pytest.raises(ValueError, match="kind"):
        new_index("annoy", 4)
    index.save(tmp_path / "i")
    with pytest.raises(ValueError, match="4-dimensional .* 8-dimensional .* another model"):
        load_index(tmp_path / "i", dimension=8)
    with pytest.raises(FileNotFoundError, match="No saved index"):
        load_index(tmp_path / "nothing")


def test_a_query_the_graph_answers_short_is_searched_exactly(monkeypatch):
    catalog = clustered(300)
    index = HNSWIndex(32)
    index.add(np.arange(300), catalog)
    removed = np.arange(0, 300, 3)[1:]
    index.remove(removed)

    def short(queries, k):  # the graph found one dead slot and nothing else (-1)
        slots = np.full((len(queries), k), -1)
        slots[:, 0] = removed[0]
        return slots, np.zeros((len(queries), k), np.float32)

    monkeypatch.setattr(index, "_search", short)
    found, scores = index.query(catalog[:5], k=3)
    live = np.setdiff1d(np.arange(300), removed)
    positions, expected = brute_force(catalog[live], catalog[:5], 3)
    np.testing.assert_array_equal(found, live[positions])
    np.testing.assert_allclose(scores, expected, atol=1e-5)


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_vectors_of_items_are_their_unit_vectors_and_unknown_ids_are_named(kind):
    catalog = clustered(300)
    index = new_index(kind, 32)
    index.add(np.arange(300) * 2, catalog * 3)
    np.testing.assert_allclose(index.vectors_of([4, 0]), catalog[[2, 0]], atol=1e-6)
    with pytest.raises(KeyError, match=r"\[5\]"):
        index.vectors_of([4, 5])


def test_an_index_saved_for_another_model_is_refused(tmp_path):
    index = ExactIndex(4)
    index.add([1, 2], np.eye(4)[:2])
    index.save(tmp_path / "i", model="run-a")
    assert len(load_index(tmp_path / "i", dimension=4, model="run-a")) == 2
    assert len(load_index(tmp_path / "i")) == 2  # the caller does not say: not checked
    with pytest.raises(ValueError, match=r"model 'run-a', not of 'run-b'.*Rebuild"):
        load_index(tmp_path / "i", dimension=4, model="run-b")
