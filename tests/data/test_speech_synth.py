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
