"""The CRF tagger's export: Viterbi decoding inside the SavedModel, served without convseq."""

import json
import site
import subprocess
import sys

import keras
import numpy as np
import pytest

from models.recurrent import RecurrentSpec
from models.tagging import TaggingEncoder, sequence_tagger
from pipelines.export import export_tagger

TAGS = ("O", "B-person", "I-person", "B-geo-loc")
SENTENCES = ["we met Cleo Smith in Lima", "Oslo", "met Zed Smith today lol", ""]

# Python without site (so without convseq's editable install) and only the
# interpreter's site-packages on its path: TensorFlow importable, convseq not.
SERVE = """
import importlib.util, json, sys
sys.path[:] = [p for p in sys.path if "site-packages" not in p] + json.loads(sys.argv[3])
missing = [m for m in ("models", "pipelines", "data", "baselines") if importlib.util.find_spec(m)]
assert not missing, f"convseq importable: {missing}"
import tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
out = loaded.signatures["serving_default"](sentences=tf.constant(json.loads(sys.argv[2])))
print(json.dumps({k: v.numpy().tolist() for k, v in out.items() if k != "tags"}
                 | {"tags": [[t.decode() for t in row] for row in out["tags"].numpy()]}))
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A CRF tagger with characters and strong transitions, exported; and the model."""
    keras.utils.set_random_seed(11)
    encoder = TaggingEncoder(["met", "smith", "in", "we"], list("aeilmnostCLOSZ"), 8)
    model = sequence_tagger(
        encoder.vocabulary_size,
        len(TAGS),
        embedding_dim=4,
        char_vocabulary_size=encoder.char_vocabulary_size,
        char_filters=4,
        recurrent=RecurrentSpec(units=4, bidirectional=True),
        output="crf",
    )
    model(encoder(np.array(SENTENCES[:1])))
    rng = np.random.default_rng(0)
    # transitions large enough for the path to differ from a per-token argmax
    model.crf.transitions.assign(rng.normal(scale=3.0, size=(4, 4)).astype("float32"))
    folder = tmp_path_factory.mktemp("exports")
    return export_tagger(encoder, model, folder, "crf_tagger", TAGS), encoder, model


def in_process_tags(encoder, model, sentences):
    encoded = encoder(np.array(sentences))
    path = model.predict(encoded, verbose=0).argmax(-1)
    return [[TAGS[i] for i in path[row, : len(s.split())]] for row, s in enumerate(sentences)]


def test_crf_export_serves_viterbi_tags_in_a_python_without_convseq(exported, tmp_path):
    export_path, encoder, model = exported
    site_packages = json.dumps(site.getsitepackages())
    completed = subprocess.run(
        [sys.executable, "-I", "-S", "-c", SERVE, str(export_path), json.dumps(SENTENCES)]
        + [site_packages],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    served = json.loads(completed.stdout.strip().splitlines()[-1])
    assert served["lengths"] == [6, 1, 5, 0]
    expected = in_process_tags(encoder, model, SENTENCES)
    for row, tags in enumerate(expected):
        assert served["tags"][row][: len(tags)] == tags
        assert served["tags"][row][len(tags) :] == [""] * (6 - len(tags))
        assert served["tag_ids"][row][: len(tags)] == [TAGS.index(t) for t in tags]
    # the served path is the CRF's, not each token's best score
    scores = model.scorer(encoder(np.array(SENTENCES[:1])))
    per_token = scores.numpy()[0].argmax(-1).tolist()
    viterbi = model.crf.viterbi(scores)[0].numpy()[0].tolist()
    assert viterbi != per_token
    assert served["tag_ids"][0] == viterbi


def test_crf_export_metadata_names_the_tags(exported):
    export_path, _, _ = exported
    metadata = json.loads((export_path / "assets.extra" / "metadata.json").read_text())
    assert metadata["labels"] == list(TAGS)
    outputs = metadata["signatures"]["serve"]["outputs"]
    assert outputs["tags"]["dtype"] == "string" and outputs["tag_ids"]["dtype"] == "int32"
