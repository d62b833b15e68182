import logging

import numpy as np
import pytest
from PIL import Image

from data.captions import (
    captions_of,
    read_caption_folder,
    render_scene,
    scene_combinations,
    shape_scenes,
)


def test_scene_combinations_and_captions():
    combinations = scene_combinations()
    assert len(combinations) == 12 * 11 * 2  # ordered pairs of different objects, 2 axes
    assert captions_of(("red", "circle", "horizontal", "blue", "square")) == (
        "a red circle left of a blue square",
        "a blue square right of a red circle",
    )


def test_rendered_scene_puts_the_first_object_where_the_relation_says():
    rng = np.random.default_rng(0)
    image = render_scene(("red", "square", "vertical", "blue", "square"), size=32, rng=rng)
    assert image.shape == (32, 32, 3) and image.dtype == np.uint8
    red = (image[..., 0] > 150) & (image[..., 2] < 100)
    blue = (image[..., 2] > 150) & (image[..., 0] < 100)
    assert red.sum() > 10 and blue.sum() > 10
    assert np.argwhere(red)[:, 0].mean() < np.argwhere(blue)[:, 0].mean()  # red is higher


@pytest.mark.parametrize("axis", ["vertical", "horizontal"])
def test_the_named_relation_is_the_only_one_the_picture_shows(axis):
    # A diagonal pair would fit "above" and "left of" alike; across 200 draws
    # the displacement along the named axis is always at least twice the other.
    rng = np.random.default_rng(3)
    main, other = (0, 1) if axis == "vertical" else (1, 0)
    for _ in range(200):
        image = render_scene(("red", "circle", axis, "blue", "square"), size=32, rng=rng)
        red = np.argwhere((image[..., 0] > 150) & (image[..., 2] < 100)).mean(axis=0)
        blue = np.argwhere((image[..., 2] > 150) & (image[..., 0] < 100)).mean(axis=0)
        shift = blue - red
        assert shift[main] > 0 and abs(shift[main]) >= 2 * abs(shift[other])


def test_test_combinations_never_occur_in_training():
    splits = shape_scenes(images_per_combination=3, size=24, seed=1)
    train = {c for captions in splits["train"].captions for c in captions}
    test = {c for captions in splits["test"].captions for c in captions}
    assert len(test) == 2 * round(264 * 0.2) and not train & test
    assert len(splits["train"]) == 3 * (264 - len(test) // 2)
    words = {w for c in test for w in c.split()}
    assert words <= {w for c in train for w in c.split()}  # every word was seen


def test_caption_folder_skips_missing_and_broken_images(tmp_path, caplog):
    Image.fromarray(np.full((10, 12, 3), 200, np.uint8)).save(tmp_path / "a.png")
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    (tmp_path / "captions.csv").write_text(
        "image,caption\na.png,a grey square\na.png,a light picture\n"
        "missing.png,never read\nbroken.jpg,cannot decode\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING):
        split = read_caption_folder(tmp_path, image_size=16)
    assert split.images.shape == (1, 16, 16, 3)
    assert split.captions == (("a grey square", "a light picture"),)
    assert "skipped 1 images named in captions.csv but missing" in caplog.text
    assert "skipped 1 images that failed to decode" in caplog.text


def test_caption_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="has no captions.csv"):
        read_caption_folder(tmp_path)
    (tmp_path / "captions.csv").write_text("file,text\na.png,x\n")
    with pytest.raises(ValueError, match="needs the columns 'image' and 'caption'"):
        read_caption_folder(tmp_path)
    (tmp_path / "captions.csv").write_text("image,caption\nmissing.png,x\n")
    with pytest.raises(ValueError, match="no readable image"):
        read_caption_folder(tmp_path)
