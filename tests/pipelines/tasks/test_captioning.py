import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from PIL import Image

from pipelines.config import TrainConfig
from pipelines.tasks.captioning import load_caption_data
from pipelines.train import train

COLOURS = {"red": (220, 30, 30), "green": (30, 200, 30), "blue": (30, 30, 220)}


def write_colour_folder(folder, per_colour=20):
    rng = np.random.default_rng(0)
    rows = ["image,caption"]
    for name, rgb in COLOURS.items():
        for i in range(per_colour):
            pixels = np.clip(np.array(rgb) + rng.integers(-20, 20, (16, 16, 3)), 0, 255)
            file = f"{name}_{i}.png"
            Image.fromarray(pixels.astype(np.uint8)).save(folder / file)
            rows.append(f"{file},a {name} picture")
            rows.append(f"{file},a {name} image")
    rows.append("missing.png,never read")
    (folder / "captions.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def test_captioner_trains_logs_samples_and_serves_raw_images(
    mlflow_store, tmp_path, serve_in_fresh_process
):
    (tmp_path / "colours").mkdir()
    folder = write_colour_folder(tmp_path / "colours")
    config = TrainConfig(
        task="captioning",
        dataset=str(folder),
        image_size=16,
        epochs=10,
        units=16,
        embedding_dim=8,
        learning_rate=1e-2,
        batch_size=16,
        seed=0,
        validation_fraction=0.2,
        test_fraction=0.2,
        export_dir=str(tmp_path / "exports"),
    )
    result = train(config)
    client = MlflowClient(mlflow_store)
    run = client.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    metrics = run.data.metrics
    assert metrics["test_exact_match"] == 1.0  # one of each image's two captions
    assert metrics["test_bleu_1"] >= 0.9
    assert int(run.data.params["train_images"]) == 36
    assert len(client.list_artifacts(result.run_id, "samples")) == 10

    # raw uint8 images of another size: resized inside the SavedModel
    images = np.stack([np.full((24, 20, 3), rgb, np.uint8) for rgb in COLOURS.values()])
    served = serve_in_fresh_process(result.export_path, images, signature_input="images")
    for caption, colour in zip(served["text"], COLOURS):
        assert colour in caption.decode()


def test_shape_scenes_split_and_bad_sources(tmp_path):
    data = load_caption_data(TrainConfig(task="captioning"))
    assert (len(data.train), len(data.validation), len(data.test)) == (3038, 338, 265)
    train = {c for captions in data.train.captions for c in captions}
    assert not train & {c for captions in data.test.captions for c in captions}
    with pytest.raises(FileNotFoundError, match="has no captions.csv"):
        load_caption_data(TrainConfig(task="captioning", dataset=str(tmp_path)))
    # the decoder is one unidirectional layer: captioning does not take these options
    with pytest.raises(ValueError, match="`layers` applies to task .*not task='captioning'"):
        TrainConfig(task="captioning", layers=2)
    with pytest.raises(ValueError, match="`bidirectional` applies to task .*not task='captio"):
        TrainConfig(task="captioning", bidirectional=True)


def test_a_tfds_captions_dataset_reads_images_and_every_caption():
    import tensorflow as tf
    import tensorflow_datasets as tfds

    def as_dataset(self, split, **kwargs):
        images = np.zeros((3, 20, 30, 3), np.uint8)
        images[1] += 255
        return tf.data.Dataset.from_tensor_slices(
            {
                "image": images,
                "captions": {
                    "text": [["a dark room", "black"], ["a white wall", "white"], ["", ""]]
                },
            }
        )

    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        data = load_caption_data(
            TrainConfig(task="captioning", dataset="tfds:coco_captions", image_size=8)
        )
    assert data.test.images.shape == (2, 8, 8, 3)  # the image without captions is dropped
    assert data.test.captions == (("a dark room", "black"), ("a white wall", "white"))
    assert data.test.images[1].min() == 255


def test_a_frozen_vgg16_base_can_encode_the_images(mlflow_store, tmp_path):
    (tmp_path / "colours").mkdir()
    folder = write_colour_folder(tmp_path / "colours", per_colour=4)
    config = TrainConfig(
        task="captioning",
        dataset=str(folder),
        image_size=32,
        image_encoder="vgg16",
        epochs=1,
        units=8,
        embedding_dim=4,
        export_dir=str(tmp_path / "exports"),
        validation_fraction=0.2,
        test_fraction=0.2,
    )
    result = train(config)
    run = MlflowClient(mlflow_store).get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert result.export_path.parent.name == "colours_vgg16_lstm_captioner"
    # the VGG16 base (14.7 M weights) stays frozen: only the head and decoder train
    assert int(run.data.params["model_parameters"]) > 14_700_000
    assert int(run.data.params["trainable_parameters"]) < 100_000
    with pytest.raises(ValueError, match="image_encoder=vgg16 needs images of at least 32"):
        train(
            TrainConfig(
                task="captioning",
                dataset=str(folder),
                image_size=16,
                image_encoder="vgg16",
                export_dir=str(tmp_path / "exports"),
            )
        )
