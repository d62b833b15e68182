"""Synthetic faces drawn with PIL: identities to train and test face recognition offline.

No face-identity dataset installs offline (LFW and Olivetti download), so
the face task's tests, default run and bench draw their own people. An
`Identity` is what stays the same across a person's photos: face shape,
skin tone, hair colour and style, eye colour, size and spacing, brows,
nose, mouth, and glasses or a beard. `render_face` draws one photo of it,
with what changes from photo to photo: pose (turn, tilt, scale, position),
expression (smile, blink), lighting (brightness, a side light, colour
cast), background, occlusion, blur and noise. Everything is drawn from a
seeded `numpy.random.Generator`: the same seed gives the same people and
photos.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from common.validation import check_positive_int
from data.face_images import FaceImages

CANVAS = 128  # faces are drawn this large, then scaled to the asked size
SKIN_TONES = (
    (255, 224, 196),
    (241, 194, 158),
    (224, 172, 125),
    (198, 134, 90),
    (141, 85, 54),
    (90, 56, 37),
)
HAIR_COLOURS = (
    (20, 17, 15),
    (60, 40, 28),
    (110, 75, 45),
    (200, 160, 95),
    (150, 60, 30),
    (160, 160, 160),
)
EYE_COLOURS = ((70, 45, 25), (60, 100, 160), (70, 120, 70), (110, 110, 120))
HAIR_STYLES = ("bald", "short", "long", "fringe", "bun")


@dataclasses.dataclass(frozen=True)
class Identity:
    """What stays the same in every photo of one synthetic person (lengths: shares of the face).

    Attributes:
        face_width: Half-width of the face, a share of the canvas.
        face_height: Half-height of the face, a share of the canvas.
        squareness: Superellipse exponent of the outline (2: an ellipse; higher: a square jaw).
        skin: Skin colour, RGB.
        hair: Hair colour, RGB.
        hair_style: One of `HAIR_STYLES`.
        hairline: How high the hair starts (0.45-0.7: the higher, the more forehead shows).
        eye_colour: Iris colour, RGB.
        eye_spacing: Distance of each eye from the midline, a share of the face width.
        eye_height: Height of the eyes above the centre, a share of the face height.
        eye_size: Eye radius, a share of the face width.
        brow_thickness: Eyebrow thickness in canvas pixels.
        brow_slant: Eyebrow slant (positive: raised outer ends).
        nose_length: A share of the face height.
        nose_width: A share of the face width.
        mouth_width: Half-width of the mouth, a share of the face width.
        mouth_height: Depth of the mouth below the centre, a share of the face height.
        lip_colour: RGB.
        glasses: Whether the person wears glasses.
        beard: Whether the person has a beard.
    """

    face_width: float
    face_height: float
    squareness: float
    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    hair_style: str
    hairline: float
    eye_colour: tuple[int, int, int]
    eye_spacing: float
    eye_height: float
    eye_size: float
    brow_thickness: int
    brow_slant: float
    nose_length: float
    nose_width: float
    mouth_width: float
    mouth_height: float
    lip_colour: tuple[int, int, int]
    glasses: bool
    beard: bool


def _jittered(colour, rng: np.random.Generator, spread: float) -> tuple[int, int, int]:
    shifted = np.asarray(colour, float) + rng.normal(0, spread, 3)
    return tuple(int(v) for v in np.clip(shifted, 0, 255))


def random_identity(rng: np.random.Generator) -> Identity:
    """One synthetic person.

    Args:
        rng: Draws every feature.

    Returns:
        An `Identity`.
    """
    skin = _jittered(SKIN_TONES[rng.integers(len(SKIN_TONES))], rng, 10)
    return Identity(
        face_width=float(rng.uniform(0.25, 0.34)),
        face_height=float(rng.uniform(0.34, 0.42)),
        squareness=float(rng.uniform(2.0, 3.6)),
        skin=skin,
        hair=_jittered(HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))], rng, 12),
        hair_style=HAIR_STYLES[rng.integers(len(HAIR_STYLES))],
        hairline=float(rng.uniform(0.45, 0.7)),
        eye_colour=_jittered(EYE_COLOURS[rng.integers(len(EYE_COLOURS))], rng, 15),
        eye_spacing=float(rng.uniform(0.28, 0.46)),
        eye_height=float(rng.uniform(0.05, 0.25)),
        eye_size=float(rng.uniform(0.09, 0.16)),
        brow_thickness=int(rng.integers(2, 7)),
        brow_slant=float(rng.uniform(-0.25, 0.25)),
        nose_length=float(rng.uniform(0.15, 0.35)),
        nose_width=float(rng.uniform(0.08, 0.2)),
        mouth_width=float(rng.uniform(0.2, 0.42)),
        mouth_height=float(rng.uniform(0.35, 0.6)),
        lip_colour=_jittered((170, 80, 80), rng, 25),
        glasses=bool(rng.random() < 0.25),
        beard=bool(rng.random() < 0.2),
    )


def _outline(cx, cy, rx, ry, exponent, points=64) -> list[tuple[float, float]]:
    """A superellipse's points: ``|x/rx|^e + |y/ry|^e = 1``."""
    angles = np.linspace(0, 2 * np.pi, points, endpoint=False)
    cos, sin = np.cos(angles), np.sin(angles)
    xs = cx + rx * np.sign(cos) * np.abs(cos) ** (2 / exponent)
    ys = cy + ry * np.sign(sin) * np.abs(sin) ** (2 / exponent)
    return list(zip(xs.tolist(), ys.tolist(), strict=True))


def _background(rng: np.random.Generator) -> Image.Image:
    """A random colour gradient with a few blurred shapes, ``CANVAS`` square."""
    top, bottom = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    rows = np.linspace(0, 1, CANVAS)[:, None, None]
    gradient = (top * (1 - rows) + bottom * rows) * np.ones((1, CANVAS, 1))
    image = Image.fromarray(gradient.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(rng.integers(0, 4)):
        x, y = rng.integers(0, CANVAS, 2)
        r = int(rng.integers(8, 40))
        draw.ellipse(
            (x - r, y - r, x + r, y + r), fill=tuple(int(v) for v in rng.integers(0, 256, 3))
        )
    return image.filter(ImageFilter.GaussianBlur(3))


def _draw_face(draw: ImageDraw.ImageDraw, person: Identity, rng: np.random.Generator) -> None:
    """``person`` facing the camera at the canvas centre, turned by a random yaw."""
    c = CANVAS / 2
    w, h = person.face_width * CANVAS, person.face_height * CANVAS
    yaw = rng.uniform(-0.3, 0.3)  # features slide toward the turned side, the face narrows
    w_seen, shift = w * np.cos(yaw), w * np.sin(yaw) * 0.45
    smile, openness = rng.uniform(-0.3, 1.0), rng.uniform(0.3, 1.0)
    if person.hair_style == "long":
        draw.rounded_rectangle(
            (c - w_seen * 1.25, c - h * 1.1, c + w_seen * 1.25, c + h * 0.9), 20, fill=person.hair
        )
    if person.hair_style == "bun":
        draw.ellipse((c - w * 0.45, c - h * 1.45, c + w * 0.45, c - h * 0.75), fill=person.hair)
    draw.polygon(_outline(c, c, w_seen, h, person.squareness), fill=person.skin)
    if person.hair_style != "bald":
        top = c - h * person.hairline
        draw.chord(
            (c - w_seen * 1.05, c - h * 1.12, c + w_seen * 1.05, top + h * 0.55),
            180,
            360,
            fill=person.hair,
        )
        if person.hair_style == "fringe":
            draw.rectangle(
                (c - w_seen * 0.8, c - h * 0.8, c + w_seen * 0.6, top + h * 0.05), fill=person.hair
            )
    if person.beard:
        beard = _outline(c + shift * 0.5, c + h * 0.45, w_seen * 0.85, h * 0.55, person.squareness)
        draw.polygon([(x, y) for x, y in beard if y > c + h * 0.25], fill=person.hair)
    eye_y = c - person.eye_height * h
    eye_r = person.eye_size * w
    for side in (-1, 1):
        ex = c + shift + side * person.eye_spacing * w_seen
        lid = eye_r * openness
        draw.ellipse((ex - eye_r, eye_y - lid, ex + eye_r, eye_y + lid), fill=(245, 245, 245))
        iris = min(eye_r, lid) * 0.7
        draw.ellipse((ex - iris, eye_y - iris, ex + iris, eye_y + iris), fill=person.eye_colour)
        draw.ellipse(
            (ex - iris * 0.4, eye_y - iris * 0.4, ex + iris * 0.4, eye_y + iris * 0.4),
            fill=(10, 10, 10),
        )
        brow_y = eye_y - eye_r * 1.6
        slope = side * person.brow_slant * eye_r
        draw.line(
            (ex - eye_r * 1.2, brow_y + slope, ex + eye_r * 1.2, brow_y - slope),
            fill=person.hair,
            width=person.brow_thickness,
        )
        if person.glasses:
            g = eye_r * 1.5
            draw.ellipse((ex - g, eye_y - g, ex + g, eye_y + g), outline=(30, 30, 30), width=3)
    if person.glasses:
        bridge = person.eye_spacing * w_seen - eye_r * 1.5
        draw.line(
            (c + shift - bridge, eye_y, c + shift + bridge, eye_y), fill=(30, 30, 30), width=3
        )
    nose_top, nose_bottom = c - h * 0.05, c - h * 0.05 + person.nose_length * h
    half = person.nose_width * w
    shade = tuple(int(v * 0.8) for v in person.skin)
    draw.polygon(
        [
            (c + shift * 1.3, nose_top),
            (c + shift * 1.3 - half, nose_bottom),
            (c + shift * 1.3 + half, nose_bottom),
        ],
        fill=shade,
    )
    mouth_y, mouth_w = c + person.mouth_height * h, person.mouth_width * w_seen
    curve = smile * h * 0.12
    mouth = (
        c + shift - mouth_w,
        mouth_y - abs(curve),
        c + shift + mouth_w,
        mouth_y + abs(curve) + 2,
    )
    draw.arc(
        mouth, 0 if curve >= 0 else 180, 180 if curve >= 0 else 360, fill=person.lip_colour, width=4
    )


def render_face(person: Identity, rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """One photo of ``person``, ``uint8 [size, size, 3]`` (what varies: the module docstring).

    Args:
        person: Who is in the photo.
        rng: Draws the pose, expression, lighting, background and defects.
        size: Side of the square image, in pixels.

    Returns:
        ``uint8 [size, size, 3]`` RGB pixels.
    """
    check_positive_int("size", size)
    layer = Image.new("RGBA", (CANVAS, CANVAS), (0, 0, 0, 0))
    _draw_face(ImageDraw.Draw(layer), person, rng)
    scale = rng.uniform(0.85, 1.1)
    layer = layer.rotate(
        rng.uniform(-12, 12),
        resample=Image.BILINEAR,
        translate=tuple(rng.uniform(-0.06, 0.06, 2) * CANVAS),
    )
    if scale != 1:
        grown = layer.resize((int(CANVAS * scale),) * 2, Image.BILINEAR)
        layer = Image.new("RGBA", (CANVAS, CANVAS), (0, 0, 0, 0))
        offset = (CANVAS - grown.size[0]) // 2
        layer.paste(grown, (offset, offset))
    photo = _background(rng)
    photo.paste(layer, (0, 0), layer)
    if rng.random() < 0.2:  # a hand or an object in front of part of the face
        x, y = rng.integers(0, CANVAS - 30, 2)
        ImageDraw.Draw(photo).rectangle(
            (x, y, x + rng.integers(20, 45), y + rng.integers(20, 45)),
            fill=tuple(int(v) for v in rng.integers(0, 256, 3)),
        )
    pixels = np.asarray(photo, np.float32)
    light = np.linspace(-1, 1, CANVAS)[None, :, None] * rng.uniform(-0.35, 0.35)
    pixels = pixels * rng.uniform(0.65, 1.3) * (1 + light) * rng.uniform(0.9, 1.1, 3)
    photo = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    photo = photo.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.6)))
    image = np.asarray(photo.resize((size, size), Image.BILINEAR), np.float32)
    image += rng.normal(0, rng.uniform(0, 8), image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def synthetic_faces(
    identities: int, photos_per_identity: int, seed: int = 0, size: int = 64, first_id: int = 0
) -> FaceImages:
    """``photos_per_identity`` photos each of ``identities`` new synthetic people.

    Args:
        identities: People to draw.
        photos_per_identity: Photos of each.
        seed: Seed of the people and their photos.
        size: Side of each square image, in pixels.
        first_id: Number of the first person's name (``person_00042``), so
            that sets drawn apart do not share names.

    Returns:
        `FaceImages`, the photos of each person together.
    """
    check_positive_int("identities", identities)
    check_positive_int("photos_per_identity", photos_per_identity)
    people_seed, photo_seed = np.random.SeedSequence(seed).spawn(2)
    people_rng, photo_rng = np.random.default_rng(people_seed), np.random.default_rng(photo_seed)
    people = [random_identity(people_rng) for _ in range(identities)]
    images = [
        render_face(person, photo_rng, size)
        for person in people
        for _ in range(photos_per_identity)
    ]
    return FaceImages(
        np.stack(images),
        np.repeat(np.arange(identities, dtype=np.int64), photos_per_identity),
        tuple(f"person_{first_id + i:05d}" for i in range(identities)),
    )


def synthetic_face_splits(
    identities: dict[str, int], photos_per_identity: int, seed: int = 0, size: int = 64
) -> dict[str, FaceImages]:
    """Splits of different people: no one in one split is in another.

    Args:
        identities: Split name -> people in it (``{"train": 400, "test": 100}``).
        photos_per_identity: Photos of each person.
        seed: Seed of everything; each split draws its own people from it.
        size: Side of each square image, in pixels.

    Returns:
        Split name -> `FaceImages`; names run on across splits (``person_00000`` ...).
    """
    seeds = np.random.SeedSequence(seed).spawn(len(identities))
    splits, first_id = {}, 0
    for split_seed, (name, count) in zip(seeds, identities.items(), strict=True):
        splits[name] = synthetic_faces(
            count, photos_per_identity, int(split_seed.generate_state(1)[0]), size, first_id
        )
        first_id += count
    return splits
