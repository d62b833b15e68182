"""Reading WAV files: scaling, mixing down, resampling, and the errors for bad files."""

import io

import numpy as np
import pytest
from scipy.io import wavfile

from data.audio import fit_length, read_wav, resample, to_mono


def dominant_hertz(samples, rate):
    spectrum = np.abs(np.fft.rfft(samples))
    return np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)]


def test_stereo_int16_at_8_khz_reads_as_mono_float_at_16_khz(tmp_path):
    seconds = np.arange(8000) / 8000
    left = (0.8 * 32767 * np.sin(2 * np.pi * 440 * seconds)).astype(np.int16)
    path = tmp_path / "stereo.wav"
    wavfile.write(path, 8000, np.stack([left, np.zeros_like(left)], axis=1))
    samples = read_wav(path, 16000)
    assert samples.dtype == np.float32 and samples.shape == (16000,)
    assert dominant_hertz(samples, 16000) == pytest.approx(440, abs=1)
    assert np.max(np.abs(samples[1000:-1000])) == pytest.approx(0.4, abs=0.01)  # mean of L and R
    np.testing.assert_array_equal(read_wav(path.read_bytes(), 16000), samples)


@pytest.mark.parametrize(
    ("stored", "scale"), [(np.uint8, None), (np.int32, 2**31 - 1), (np.float32, 1.0)]
)
def test_every_pcm_format_scales_to_minus_one_one(tmp_path, stored, scale):
    wave = 0.5 * np.sin(2 * np.pi * 100 * np.arange(1600) / 16000)
    data = (128 + 127 * wave).astype(stored) if scale is None else (wave * scale).astype(stored)
    buffer = io.BytesIO()
    wavfile.write(buffer, 16000, data)
    np.testing.assert_allclose(read_wav(buffer.getvalue()), wave, atol=0.01)


def test_bad_files_are_named_with_the_fix(tmp_path):
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    with pytest.raises(ValueError, match=r"notes.wav is not a readable WAV file.*sox"):
        read_wav(text)
    with pytest.raises(FileNotFoundError, match="missing.wav"):
        read_wav(tmp_path / "missing.wav")
    empty = tmp_path / "empty.wav"
    wavfile.write(empty, 16000, np.zeros(0, np.int16))
    with pytest.raises(ValueError, match="empty.wav holds no audio samples"):
        read_wav(empty)


def test_resample_to_mono_and_fit_length():
    assert resample(np.ones(441, np.float32), 44100, 16000).shape == (160,)
    same = np.arange(5, dtype=np.float32)
    assert resample(same, 16000, 16000) is same
    np.testing.assert_array_equal(to_mono(np.array([[1.0, 3.0], [2.0, 4.0]])), [2.0, 3.0])
    with pytest.raises(ValueError, match=r"Received shape \(2, 2, 2\)"):
        to_mono(np.zeros((2, 2, 2)))
    assert fit_length(np.ones(5), 3).tolist() == [1, 1, 1]
    assert fit_length(np.ones(2), 4).tolist() == [1, 1, 0, 0]
