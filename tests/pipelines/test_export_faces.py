"""The verify SavedModel: two faces in, same person or not and their cosine out."""

import io
import json
import subprocess
import sys

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from pipelines.export_faces import VERIFICATION_FILE, export_verifier


def test_verify_answers_for_raw_and_encoded_faces_after_a_fresh_reload(tmp_path):
    keras.utils.set_random_seed(0)
    embedder = keras.Sequential(  # colour in, a vector out: two colours, two "people"
        [
            keras.Input((24, 24, 3)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(6),
            keras.layers.UnitNormalization(),
        ]
    )
    faces = np.zeros((2, 24, 24, 3), np.uint8)
    faces[0, ..., 0], faces[1, ..., 2] = 200, 200  # a red face, a blue face
    vectors = embedder.predict(faces, verbose=0)
    cosines = np.sum(vectors[[0, 0]] * vectors[[0, 1]], axis=1)  # itself, then the other
    assert cosines[1] < 0.9
    threshold = float((1 + cosines[1]) / 2)
    path = export_verifier(embedder, threshold, tmp_path, "faces_verify", {"far": 0.01})
    facts = json.loads((path / "assets.extra" / VERIFICATION_FILE).read_text())
    assert facts["threshold"] == threshold and facts["far"] == 0.01

    loaded = tf.saved_model.load(str(path))
    answer = loaded.serve(tf.constant(faces[[0, 0]]), tf.constant(faces[[0, 1]]))
    np.testing.assert_allclose(answer["score"].numpy(), cosines, rtol=1e-4, atol=1e-5)
    assert answer["same"].numpy().tolist() == [True, False]
    larger = tf.image.resize(faces[[0]], (48, 48)).numpy().round().astype(np.uint8)
    resized = loaded.serve(tf.constant(larger), tf.constant(faces[[0]]))  # resized inside
    assert resized["score"].numpy()[0] > 0.9

    def png(image):
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="PNG")
        return buffer.getvalue()

    (tmp_path / "a.png").write_bytes(png(faces[0]))
    (tmp_path / "b.png").write_bytes(png(faces[1]))
    script = (
        "import sys, tensorflow as tf\n"
        "model = tf.saved_model.load(sys.argv[1])\n"
        "read = lambda name: tf.constant([open(name, 'rb').read()])\n"
        "answer = model.serve_image_bytes(read(sys.argv[2]), read(sys.argv[3]))\n"
        "print(bool(answer['same'][0]), float(answer['score'][0]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path), str(tmp_path / "a.png"), str(tmp_path / "b.png")],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # no convseq on the path: a fresh Python
        check=True,
    )
    same, score = done.stdout.split()[-2:]
    assert same == "False" and abs(float(score) - cosines[1]) < 1e-4
