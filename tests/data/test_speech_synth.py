"""Synthesised speech: espeak-ng and flite voices saying words, offline."""

import shutil

import numpy as np
import pytest

from data.speech_synth import ESPEAK, FLITE, PEAK, Voice, espeak_variants, synthesize

needs_synthesisers = pytest.mark.skipif(
    shutil.which(ESPEAK) is None or shutil.which(FLITE) is None,
    reason="espeak-ng and flite are not installed (make data installs them)",
)


@needs_synthesisers
def test_voices_say_a_word_at_the_rate_asked_and_differ():
    fast = synthesize("seven", Voice(ESPEAK, "en-gb+f2", speed=300), 16000)
    slow = synthesize("seven", Voice(ESPEAK, "en-gb+f2", speed=100), 16000)
    other = synthesize("seven", Voice(ESPEAK, "en-us+m3"), 16000)
    flite = synthesize("seven", Voice(FLITE, "slt"), 8000)
    for clip in (fast, slow, other, flite):
        assert clip.dtype == np.float32 and np.max(np.abs(clip)) == pytest.approx(PEAK)
    assert 0.2 < len(fast) / 16000 < len(slow) / 16000 < 2.5
    assert 0.2 < len(flite) / 8000 < 2.5
    np.testing.assert_array_equal(synthesize("seven", Voice(ESPEAK, "en-us+m3"), 16000), other)
    with pytest.raises(ValueError, match=r"espeak-ng:zz failed to say 'seven': .*does not exist"):
        synthesize("seven", Voice(ESPEAK, "zz"))


def _pitch_hz(clip: np.ndarray, sample_rate: int) -> float:
    """Median YIN pitch (threshold 0.15) of the loudest 40 ms frames."""
    size, longest = int(0.04 * sample_rate), sample_rate // 60
    frames = sorted(
        (clip[i : i + size] for i in range(0, len(clip) - size, size)), key=lambda f: -np.sum(f**2)
    )[:9]
    window = size - longest
    periods = []
    for frame in frames:
        difference = np.array(
            [np.sum((frame[:window] - frame[lag : lag + window]) ** 2) for lag in range(longest)]
        )
        normalized = difference[1:] * np.arange(1, longest) / np.cumsum(difference[1:])
        below = np.flatnonzero(normalized < 0.15)
        periods.append(1 + (below[0] if len(below) else np.argmin(normalized)))
    return sample_rate / float(np.median(periods))


@needs_synthesisers
def test_flite_voices_take_a_speed_and_pitch():
    own = synthesize("seven one", Voice(FLITE, "slt"), 16000)
    slow_low = synthesize("seven one", Voice(FLITE, "slt", speed=100, pitch=20), 16000)
    fast_high = synthesize("seven one", Voice(FLITE, "slt", speed=220, pitch=80), 16000)
    assert len(fast_high) < 0.85 * len(own) and len(slow_low) > 1.3 * len(own)
    pitches = [_pitch_hz(clip, 16000) for clip in (slow_low, own, fast_high)]
    assert pitches[0] < 0.8 * pitches[1] and pitches[2] > 1.25 * pitches[1], pitches


@needs_synthesisers
def test_espeak_lists_its_voice_variants():
    variants = espeak_variants()
    assert {"f2", "m3", "klatt2"} <= set(variants) and len(variants) > 50


def test_bad_voices_and_texts_are_named():
    with pytest.raises(ValueError, match="engine='say'"):
        Voice("say", "alex")
    with pytest.raises(ValueError, match="name='bob'"):
        Voice(FLITE, "bob")
    with pytest.raises(ValueError, match="speed=50"):
        Voice(ESPEAK, "en-us", speed=50)
    with pytest.raises(ValueError, match="Expected words to say"):
        synthesize("  ", Voice(ESPEAK, "en-us"))
