"""Finding and aligning faces in real photos that ship offline (scikit-image's astronaut)."""

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("mtcnn", reason="face detection needs mtcnn (make setup installs it)")
skimage_data = pytest.importorskip("skimage.data", reason="the photos come with scikit-image")

from data.face_detect import EYE_GAP, EYE_ROW, align_face, aligned_faces, find_face  # noqa: E402


def _eyes_of(crop):
    face = find_face(np.asarray(Image.fromarray(crop).resize((256, 256), Image.BILINEAR)))
    return np.array([face.left_eye, face.right_eye]) / 256


def test_the_astronauts_face_is_found_and_its_eyes_land_level_where_asked():
    photo = skimage_data.astronaut()
    face = find_face(photo)
    x, y, width, height = face.box  # Eileen Collins' face: about x 180-265, y 60-170
    assert 160 < x < 200 and 50 < y < 80 and 60 < width < 110 and 80 < height < 130
    assert face.confidence > 0.95 and face.left_eye[0] < face.right_eye[0]
    crop = align_face(photo, face, size=128)
    assert crop.shape == (128, 128, 3) and crop.dtype == np.uint8
    eyes = _eyes_of(crop)  # found again in the crop, where the alignment put them
    np.testing.assert_allclose(eyes[:, 1], EYE_ROW, atol=0.03)
    np.testing.assert_allclose(eyes[:, 0], [0.5 - EYE_GAP / 2, 0.5 + EYE_GAP / 2], atol=0.03)


def test_a_tilted_smaller_photo_aligns_like_the_upright_one_and_faceless_photos_are_named():
    photo = skimage_data.astronaut()
    tilted = np.asarray(Image.fromarray(photo).rotate(20, center=(225, 115)).resize((384, 384)))
    coffee = skimage_data.coffee()  # a cup of coffee, no face
    grey = skimage_data.camera()[:200, :200]  # sky and distant buildings, grayscale
    crops, missing = aligned_faces([photo, coffee, tilted, grey], size=64)
    assert crops.shape == (2, 64, 64, 3) and missing == [1, 3]
    upright, turned = (c.astype(np.float32).ravel() for c in crops)
    correlation = np.corrcoef(upright, turned)[0, 1]
    unaligned = np.asarray(Image.fromarray(tilted).resize((64, 64)), np.float32).ravel()
    assert correlation > 0.8 and correlation > np.corrcoef(upright, unaligned)[0, 1] + 0.3
    with pytest.raises(ValueError, match="Expected uint8 pixels.*float64"):
        find_face(photo / 255.0)
    with pytest.raises(ValueError, match=r"Received shape \(4, 4, 2\)"):
        find_face(np.zeros((4, 4, 2), np.uint8))


def test_a_face_folder_read_with_align_crops_faces_and_names_the_photos_without_one(tmp_path):
    from data.face_folders import pair_rows, read_face_folder, read_lfw_pairs

    photo = skimage_data.astronaut()
    (tmp_path / "Eileen").mkdir()
    (tmp_path / "Cup").mkdir()
    Image.fromarray(photo).save(tmp_path / "Eileen" / "Eileen_0001.png")
    Image.fromarray(photo[:, ::-1]).save(tmp_path / "Eileen" / "Eileen_0002.jpg")
    Image.fromarray(skimage_data.coffee()).save(tmp_path / "Cup" / "Cup_0001.jpg")
    with pytest.warns(UserWarning, match=r"1 file\(s\) .* that show no face.*Cup/Cup_0001\.jpg"):
        folder = read_face_folder(tmp_path, image_size=(48, 48), align=True)
    assert folder.faces.names == ("Eileen",) and folder.faces.images.shape == (2, 48, 48, 3)
    assert folder.no_face == ("Cup/Cup_0001.jpg",) and folder.skipped == ()
    mirrored = folder.faces.images[1][:, ::-1].astype(np.float32).ravel()
    assert np.corrcoef(folder.faces.images[0].astype(np.float32).ravel(), mirrored)[0, 1] > 0.8
    (tmp_path / "pairs.txt").write_text("1\nEileen 1 2\nEileen 1 Cup 1\n")
    with pytest.raises(ValueError, match="photo 1 of 'Cup', in which no face was found"):
        pair_rows(folder, read_lfw_pairs(tmp_path / "pairs.txt"))
    with pytest.raises(ValueError, match=r"Aligned faces are square.*\(48, 64\)"):
        read_face_folder(tmp_path, image_size=(48, 64), align=True)
