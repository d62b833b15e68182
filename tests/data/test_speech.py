"""Generated speech: speakers held out by split, texts from the vocabulary, seeded noise."""

import shutil

import numpy as np
import pytest

from data.speech import (
    COMMANDS,
    DIGITS,
    FLITE_SHARE,
    HELD_OUT_FLITE,
    NARROWBAND_SHARE,
    degrade,
    generated_speech,
    narrowband,
    random_texts,
    speaker_plan,
)
from data.speech_synth import ESPEAK, FLITE, FLITE_SPEAKERS, FLITE_VOICES

VARIANTS = ("f1", "f2", "m1", "m3", "klatt2", "croak", "whisper", "m7")


def test_the_speaker_plan_holds_out_accents_variants_and_flite_voices():
    plan = speaker_plan(seed=0, variants=VARIANTS)

    def parts(voices):
        return {tuple(v.name.split("+")) for v in voices if v.engine == ESPEAK}

    train, test = parts(plan.train), parts(plan.test)
    assert train and test
    assert not {a for a, _ in train} & {a for a, _ in test}  # accents never trained on
    assert not {v for _, v in train} & {v for _, v in test}  # nor voice variants
    trained_flite = {v.name for v in plan.train if v.engine == FLITE}
    held_flite = {v.name for v in plan.held_out_flite}
    assert trained_flite | held_flite == set(FLITE_VOICES) and trained_flite and held_flite
    for speaker in FLITE_SPEAKERS:  # kal and kal16, one speaker, stay on one side
        assert set(speaker) <= trained_flite or set(speaker) <= held_flite
    assert speaker_plan(seed=0, variants=VARIANTS) == plan != speaker_plan(1, VARIANTS)
    assert speaker_plan(0, VARIANTS + VARIANTS) == plan  # duplicates count once
    with pytest.raises(ValueError, match=r"at least 2 distinct .* variants=\['f1'\]"):
        speaker_plan(0, ["f1", "f1"])


def test_who_speaks_does_not_follow_what_is_said(monkeypatch):
    monkeypatch.setattr("data.speech.synthesize", lambda text, voice, rate: np.ones(800, "f4"))
    train = generated_speech("commands", 600, 0, 10, seed=0, variants=VARIANTS)["train"]
    words: dict[str, set] = {}
    for speaker, text in zip(train.speakers, train.texts, strict=True):
        words.setdefault(speaker, set()).add(text)
    busy = [said for speaker, said in words.items() if train.speakers.count(speaker) >= 5]
    assert busy and np.mean([len(said) >= 3 for said in busy]) > 0.9


def test_flite_says_its_share_of_training_clips_at_many_speeds_and_pitches(monkeypatch):
    asked = []

    def said(text, voice, rate):
        asked.append(voice)
        return np.ones(800, "f4")

    monkeypatch.setattr("data.speech.synthesize", said)
    generated_speech("commands", 2000, 0, 10, seed=0, variants=VARIANTS)
    training, tests = asked[:2000], asked[2000:]
    flite = [voice for voice in training if voice.engine == FLITE]
    espeak_voices = sum(v.engine == ESPEAK for v in speaker_plan(0, VARIANTS).train)
    assert espeak_voices > 10 and abs(len(flite) / 2000 - FLITE_SHARE) < 0.03
    assert len({v.speed for v in flite}) > 50 and len({v.pitch for v in flite}) > 40
    assert {v.engine for v in tests[:10]} == {ESPEAK} and {v.engine for v in tests[10:]} == {FLITE}


def test_texts_are_commands_or_strings_of_three_to_seven_digits():
    rng = np.random.default_rng(0)
    assert set(random_texts("commands", 200, rng)) <= set(COMMANDS)
    for text in random_texts("digits", 50, rng):
        words = text.split()
        assert 3 <= len(words) <= 7 and set(words) <= set(DIGITS)
    with pytest.raises(ValueError, match="kind='words'"):
        random_texts("words", 1, rng)


def test_a_narrowband_clip_keeps_what_lies_below_4_khz_only():
    seconds = np.arange(16000) / 16000
    for hertz, kept in ((300, 1.0), (3000, 1.0), (5000, 0.0), (7000, 0.0)):
        wave = np.sin(2 * np.pi * hertz * seconds).astype(np.float32)
        narrow = narrowband(wave, 16000)
        assert narrow.shape == wave.shape and narrow.dtype == np.float32
        ratio = np.sqrt(np.mean(narrow[800:-800] ** 2) / np.mean(wave[800:-800] ** 2))
        assert abs(ratio - kept) < 0.01, (hertz, ratio)
    np.testing.assert_array_equal(narrowband(wave, 8000), wave)  # already that narrow


def test_a_share_of_training_clips_only_is_low_passed(monkeypatch):
    six_khz = np.sin(2 * np.pi * 6000 * np.arange(4000) / 16000).astype(np.float32) * 0.5
    monkeypatch.setattr("data.speech.synthesize", lambda text, voice, rate: six_khz)
    splits = generated_speech("commands", 400, 200, 200, seed=1, variants=VARIANTS)
    for name, share in (("train", NARROWBAND_SHARE), ("validation", NARROWBAND_SHARE),
                        ("test", 0.0), (HELD_OUT_FLITE, 0.0)):  # fmt: skip
        # the tone survives a full-band clip at a gain of 0.3 or more; a narrow one loses it
        power = [np.mean(wave[-4000:] ** 2) for wave in splits[name].waves]
        narrow = np.array(power) < 0.05 * np.mean(six_khz**2)
        assert abs(np.mean(narrow) - share) < 0.07, (name, np.mean(narrow))


@pytest.mark.parametrize("seed", range(6))  # white and brown noise both drawn
def test_degrade_delays_scales_and_adds_noise_at_the_drawn_snr(seed):
    wave = np.sin(np.linspace(0, 200 * np.pi, 8000)).astype(np.float32) * 0.5
    degraded = degrade(wave, np.random.default_rng(seed), 16000)
    delay = len(degraded) - len(wave)
    assert 0 <= delay <= 3200 and degraded.dtype == np.float32
    speech = degraded[delay:]
    gain = np.dot(speech, wave) / np.dot(wave, wave)  # noise is uncorrelated with the tone
    assert 0.28 < gain < 1.02
    snr = 10 * np.log10(np.mean((gain * wave) ** 2) / np.mean((speech - gain * wave) ** 2))
    assert 9 < snr < 31
    np.testing.assert_array_equal(degrade(wave, np.random.default_rng(seed), 16000), degraded)


@pytest.mark.skipif(
    shutil.which(ESPEAK) is None or shutil.which(FLITE) is None,
    reason="espeak-ng and flite are not installed (make data installs them)",
)
def test_generated_clips_are_seeded_and_said_by_each_splits_voices():
    splits = generated_speech("commands", 12, 4, 4, seed=2, variants=VARIANTS)
    plan = speaker_plan(2, VARIANTS)
    assert {name: len(clips) for name, clips in splits.items()} == {
        "train": 12,
        "validation": 4,
        "test": 4,
        HELD_OUT_FLITE: 4,
    }
    speakers = {v.speaker for v in plan.train}
    assert set(splits["train"].speakers) <= speakers
    assert set(splits["test"].speakers) <= {v.speaker for v in plan.test}
    assert set(splits[HELD_OUT_FLITE].speakers) <= {v.speaker for v in plan.held_out_flite}
    assert set(splits["train"].texts) <= set(COMMANDS)
    for wave in splits["train"].waves:
        assert wave.dtype == np.float32 and 0.2 < len(wave) / 16000 < 3
    again = generated_speech("commands", 12, 4, 4, seed=2, variants=VARIANTS)
    np.testing.assert_array_equal(again["test"].waves[0], splits["test"].waves[0])
