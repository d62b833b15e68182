"""Generated speech for the speech tasks: spoken commands and digit strings, split by speaker.

A model that has heard a voice in training can recognise that voice rather
than the words, so the splits differ by speaker (`speaker_plan`):

- ``train`` and ``validation``: espeak-ng voices of the training accents and
  voice variants, and the voices of `TRAINING_FLITE_SPEAKERS` of flite's 4
  speakers (`data.speech_synth.FLITE_SPEAKERS`; they say `FLITE_SHARE` of the clips);
- ``test``: espeak-ng voices whose accent and variant were both held out;
- ``test_held_out_flite``: the voices of flite's 2 other speakers, a
  synthesiser's voices unlike any espeak voice.

(Some accents and variants are close relatives, e.g. ``en-gb`` and
``en-gb-x-rp``, or ``klatt`` and ``klatt2``: held out by name, not by sound.)

Every clip is a `data.speech_synth` voice saying a command (`COMMANDS`, the
Speech Commands vocabulary) or a string of 3-7 digits, then shifted, scaled
and mixed with noise (`degrade`); about `NARROWBAND_SHARE` of the training and
validation clips are low-passed to 4 kHz first. All draws are seeded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from common.validation import check_non_negative_int, check_positive_int
from data.specs import HELD_OUT_FLITE
from data.speech_synth import (
    ESPEAK,
    ESPEAK_ACCENTS,
    FLITE,
    FLITE_SPEAKERS,
    Voice,
    espeak_variants,
    synthesize,
)

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
COMMANDS = (*DIGITS, "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
"""The Speech Commands vocabulary the generated command clips say."""
KINDS = ("commands", "digits")
HELD_OUT_ACCENTS = 2
HELD_OUT_VARIANT_SHARE = 0.25
TRAINING_FLITE_SPEAKERS = 2
FLITE_SHARE = 0.15
"""Share of a split's clips said by flite when it has voices of both synthesisers.

Drawn voice by voice, flite's few training voices would say one clip in a
hundred among espeak's hundreds of accent+variant voices."""
NARROWBAND_SHARE = 0.2
"""Chance of a training or validation clip to be low-passed (`narrowband`) before the noise,
as an 8 kHz voice (flite's ``kal``) or recording gives it. Without it, a model trained on
full-band voices heard ``kal`` 21 points worse than ``kal16``, the same speaker at 16 kHz."""
NARROWBAND_RATE = 8000
"""The rate a low-passed clip is resampled to and back: nothing above 4 kHz is left."""
SYNTHESIS_THREADS = 4  # each synthesis is a short-lived process


@dataclasses.dataclass(frozen=True)
class SpeechClips:
    """Clips and what each says.

    Attributes:
        waves: Mono ``float32`` waveforms at ``sample_rate``.
        texts: What each says (words separated by spaces).
        speakers: Who says it (`data.speech_synth.Voice.speaker`).
        sample_rate: Samples per second.
    """

    waves: tuple[np.ndarray, ...]
    texts: tuple[str, ...]
    speakers: tuple[str, ...]
    sample_rate: int = 16000

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices) -> SpeechClips:
        """The clips at ``indices``, in that order."""
        return SpeechClips(
            tuple(self.waves[i] for i in indices),
            tuple(self.texts[i] for i in indices),
            tuple(self.speakers[i] for i in indices),
            self.sample_rate,
        )


@dataclasses.dataclass(frozen=True)
class SpeakerPlan:
    """Which voices each split is said in (see the module docstring).

    Attributes:
        train: espeak ``accent+variant`` voices and flite voices of train and validation.
        test: espeak voices of held-out accents with held-out variants.
        held_out_flite: flite voices of speakers never trained on.
    """

    train: tuple[Voice, ...]
    test: tuple[Voice, ...]
    held_out_flite: tuple[Voice, ...]


def speaker_plan(seed: int, variants: Sequence[str] | None = None) -> SpeakerPlan:
    """Training and test voices, with accents, variants and flite voices held out.

    Args:
        seed: Seed of which accents, variants and flite voices are held out.
        variants: espeak voice variants to draw from; the installed ones when ``None``.

    Returns:
        The `SpeakerPlan`.

    Raises:
        ValueError: With fewer than 2 distinct variants (one for each side).
    """
    rng = np.random.default_rng(seed)
    variants = sorted(set(espeak_variants() if variants is None else variants))
    if len(variants) < 2:
        raise ValueError(
            "Invalid value for argument `variants`. Expected at least 2 distinct espeak voice "
            f"variants, to train on some and test on others. Received variants={variants!r}."
        )
    accents = [ESPEAK_ACCENTS[i] for i in rng.permutation(len(ESPEAK_ACCENTS))]
    shuffled = [variants[i] for i in rng.permutation(len(variants))]
    held_variants = max(1, int(len(shuffled) * HELD_OUT_VARIANT_SHARE))
    speakers = [FLITE_SPEAKERS[i] for i in rng.permutation(len(FLITE_SPEAKERS))]

    def flite(groups):
        return tuple(Voice(FLITE, name) for group in groups for name in group)

    def espeak(accent_list, variant_list):
        return tuple(Voice(ESPEAK, f"{a}+{v}") for a in accent_list for v in variant_list)

    return SpeakerPlan(
        train=espeak(accents[HELD_OUT_ACCENTS:], shuffled[held_variants:])
        + flite(speakers[:TRAINING_FLITE_SPEAKERS]),
        test=espeak(accents[:HELD_OUT_ACCENTS], shuffled[:held_variants]),
        held_out_flite=flite(speakers[TRAINING_FLITE_SPEAKERS:]),
    )


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(
            f"Invalid value for argument `kind`. Expected one of {KINDS}. Received kind={kind!r}."
        )
    return kind


def random_texts(kind: str, n: int, rng: np.random.Generator) -> list[str]:
    """``n`` commands, or strings of 3-7 digit words (``"three one four"``)."""
    if _check_kind(kind) == "commands":
        return [COMMANDS[i] for i in rng.integers(len(COMMANDS), size=n)]
    return [
        " ".join(DIGITS[d] for d in rng.integers(10, size=rng.integers(3, 8))) for _ in range(n)
    ]


def degrade(wave: np.ndarray, rng: np.random.Generator, sample_rate: int) -> np.ndarray:
    """A clip as a microphone might give it: delayed up to 0.2 s, scaled, over noise.

    The gain is drawn from 0.3-1.0 and the noise (white, or brown: white
    noise through a leaky integrator, most of its power below a few hundred
    Hz) at a signal-to-noise ratio of 10-30 dB over the whole band.
    """
    from scipy.signal import lfilter

    speech = np.asarray(wave, np.float32) * np.float32(rng.uniform(0.3, 1.0))
    delay = np.zeros(int(rng.integers(0, int(0.2 * sample_rate) + 1)), np.float32)
    clip = np.concatenate([delay, speech])
    noise = rng.standard_normal(len(clip))
    if rng.random() < 0.5:
        noise = lfilter([1.0], [1.0, -0.98], noise)  # -6 dB per octave above ~50 Hz
    noise_power = float(np.mean(speech**2)) / 10 ** (rng.uniform(10, 30) / 10)
    noise *= np.sqrt(noise_power / max(float(np.mean(noise**2)), 1e-12))
    return (clip + noise).astype(np.float32)


def _chosen_voices(voices: Sequence[Voice], count: int, rng: np.random.Generator) -> list[Voice]:
    """``count`` voices drawn with `FLITE_SHARE` of them flite's (when both synthesisers speak)."""
    by_engine = [[v for v in voices if v.engine == engine] for engine in (ESPEAK, FLITE)]
    if not all(by_engine):
        return [voices[i] for i in rng.integers(len(voices), size=count)]
    engines = (rng.random(count) < FLITE_SHARE).astype(int)
    return [by_engine[e][rng.integers(len(by_engine[e]))] for e in engines]


def narrowband(wave: np.ndarray, sample_rate: int) -> np.ndarray:
    """``wave`` with nothing above half of `NARROWBAND_RATE`: resampled there and back."""
    from data.audio import resample

    if sample_rate <= NARROWBAND_RATE:
        return np.asarray(wave, np.float32)
    narrow = resample(resample(wave, sample_rate, NARROWBAND_RATE), NARROWBAND_RATE, sample_rate)
    return narrow[: len(wave)]


def _say(
    voices: Sequence[Voice],
    texts: Sequence[str],
    rng: np.random.Generator,
    sample_rate: int,
    narrowband_share: float = 0.0,
):
    chosen = _chosen_voices(voices, len(texts), rng)
    speeds = rng.integers(120, 221, size=len(texts))
    pitches = rng.integers(20, 81, size=len(texts))
    spoken = [
        dataclasses.replace(v, speed=int(s), pitch=int(p))
        for v, s, p in zip(chosen, speeds, pitches, strict=True)
    ]
    with ThreadPoolExecutor(SYNTHESIS_THREADS) as pool:
        clean = list(pool.map(lambda pair: synthesize(*pair, sample_rate), zip(texts, spoken)))
    narrow = rng.random(len(clean)) < narrowband_share
    waves = tuple(
        degrade(narrowband(wave, sample_rate) if band else wave, rng, sample_rate)
        for wave, band in zip(clean, narrow, strict=True)
    )
    return SpeechClips(waves, tuple(texts), tuple(v.speaker for v in spoken), sample_rate)


def generated_speech(
    kind: str = "commands",
    n_train: int = 1000,
    n_validation: int = 200,
    n_test: int = 200,
    seed: int = 0,
    sample_rate: int = 16000,
    variants: Sequence[str] | None = None,
) -> dict[str, SpeechClips]:
    """Synthesised ``train``, ``validation``, ``test`` and `HELD_OUT_FLITE` clips.

    Args:
        kind: ``"commands"`` (one word a clip) or ``"digits"`` (3-7 digit words).
        n_train: Training clips.
        n_validation: Validation clips (training voices, other draws).
        n_test: Clips of each test split.
        seed: Seed of voices, texts, speeds, pitches and degradation.
        sample_rate: Samples per second.
        variants: espeak voice variants to use; the installed ones when ``None``.

    Returns:
        Split name -> `SpeechClips`.

    Raises:
        FileNotFoundError: If espeak-ng or flite is not installed, saying how to install it.
    """
    check_positive_int("n_train", n_train)
    check_non_negative_int("n_validation", n_validation)
    check_positive_int("n_test", n_test)
    _check_kind(kind)  # before espeak-ng is asked for its variants
    plan = speaker_plan(seed, variants)
    sizes = {"train": n_train, "validation": n_validation, "test": n_test, HELD_OUT_FLITE: n_test}
    # one stream per draw: a split's voices must not follow its words draw for draw
    text_seed, *split_seeds = np.random.SeedSequence(seed).spawn(1 + len(sizes))
    rng = np.random.default_rng(text_seed)
    voices = {"train": plan.train, "validation": plan.train, "test": plan.test}
    voices[HELD_OUT_FLITE] = plan.held_out_flite
    splits = {}
    for split_seed, (name, size) in zip(split_seeds, sizes.items(), strict=True):
        if size:
            texts = random_texts(kind, size, rng)
            share = NARROWBAND_SHARE if name in ("train", "validation") else 0.0
            split_rng = np.random.default_rng(split_seed)
            splits[name] = _say(voices[name], texts, split_rng, sample_rate, share)
    return splits
