"""Reading the speech users bring: word folders, transcripts, TFDS examples; speaker splits."""

import numpy as np
import pytest
from scipy.io import wavfile

from data.speech_files import (
    read_transcripts,
    read_word_folders,
    speaker_of,
    speaker_splits,
    tfds_speech_clips,
)


def tone(hertz, seconds=0.25, rate=16000):
    return (0.5 * np.sin(2 * np.pi * hertz * np.arange(int(seconds * rate)) / rate)).astype(
        np.float32
    )


def write_pcm16(path, wave, rate=16000):
    path.parent.mkdir(parents=True, exist_ok=True)
    wavfile.write(path, rate, (wave * 32767).astype(np.int16))


def test_word_folders_read_each_clip_at_one_rate_with_its_word_and_speaker(tmp_path):
    write_pcm16(tmp_path / "yes" / "aa11_nohash_0.wav", tone(300))
    write_pcm16(tmp_path / "yes" / "bb22_nohash_1.wav", tone(300, rate=8000), rate=8000)
    stereo = np.stack([tone(500), np.zeros(4000, np.float32)], axis=1)
    write_pcm16(tmp_path / "no" / "cc33_nohash_0.wav", stereo)
    write_pcm16(tmp_path / "_background_noise_" / "noise.wav", tone(50))  # not a word
    (tmp_path / "no" / "broken.wav").write_bytes(b"RIFF but not a wave")
    (tmp_path / "no" / "notes.txt").write_text("not a clip")
    with pytest.warns(UserWarning, match=r"Skipped 1 file\(s\) .*broken\.wav"):
        clips = read_word_folders(tmp_path, 16000)
    assert clips.texts == ("no", "yes", "yes")
    assert clips.speakers == ("cc33", "aa11", "bb22")
    assert [len(w) for w in clips.waves] == [4000, 4000, 4000]  # 8 kHz clip resampled
    assert np.max(np.abs(clips.waves[0])) == pytest.approx(0.25, abs=0.01)  # stereo mixed down
    assert speaker_of(tmp_path / "plain.wav") == "plain"


def test_a_folder_without_word_folders_or_readable_clips_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"root/<word>/<clip>\.wav"):
        read_word_folders(tmp_path)
    (tmp_path / "yes").mkdir()
    (tmp_path / "yes" / "a.wav").write_bytes(b"nothing")
    with pytest.raises(ValueError, match=r"None of the 1 clips .*'yes/a\.wav'.*sox"):
        read_word_folders(tmp_path)
    with pytest.raises(FileNotFoundError, match="No such folder"):
        read_word_folders(tmp_path / "missing")


def test_transcripts_give_texts_and_speakers_and_name_a_bad_line(tmp_path):
    write_pcm16(tmp_path / "clips" / "one.wav", tone(200))
    write_pcm16(tmp_path / "clips" / "two.wav", tone(400))
    listing = tmp_path / "transcripts.tsv"
    listing.write_text("clips/one.wav\tThree  ONE four\tann\n\nclips/two.wav\tnine\n")
    clips = read_transcripts(listing)
    assert clips.texts == ("three one four", "nine")
    assert clips.speakers == ("ann", "two")
    listing.write_text("clips/one.wav\tone\nclips/two.wav\n")
    with pytest.raises(ValueError, match=r"line 2: expected 'clip<TAB>text'"):
        read_transcripts(listing)


def test_speaker_splits_never_share_a_speaker():
    from data.speech import SpeechClips

    speakers = tuple(f"s{i % 10}" for i in range(200))
    clips = SpeechClips(tuple(np.zeros(10, np.float32) for _ in speakers), speakers, speakers)
    train, validation, test = speaker_splits(clips, 0.1, 0.2, seed=0)
    sets = [set(part.speakers) for part in (train, validation, test)]
    assert all(sets) and not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    assert len(train) + len(validation) + len(test) == 200
    assert len(test) == 40 and len(validation) == 20  # 2 and 1 of the 10 speakers
    with pytest.raises(ValueError, match="at least 3 speakers"):
        speaker_splits(clips.subset(range(2)), 0.1, 0.2, seed=0)


def test_tfds_examples_read_labels_by_name_and_audio_at_the_rate_asked():
    pcm = (tone(300, rate=8000) * 32767).astype(np.int16)
    examples = [
        {"audio": pcm, "label": np.int64(1)},
        {"audio": np.zeros(0, np.int16), "label": np.int64(0)},  # empty: left out
    ]
    clips = tfds_speech_clips(examples, "label", 8000, 16000, ("no", "yes"))
    assert clips.texts == ("yes",)
    assert clips.waves[0].shape == (4000,) and clips.sample_rate == 16000
    assert np.max(np.abs(clips.waves[0])) == pytest.approx(0.5, abs=0.02)


def test_a_speaker_with_most_clips_out_of_training_is_refused_by_name():
    from data.speech import SpeechClips
    from data.splits import grouped_split_indices

    speakers = ("big",) * 50 + ("s1", "s2", "s3", "s4")
    clips = SpeechClips(tuple(np.zeros(10, np.float32) for _ in speakers), speakers, speakers)
    lopsided = [
        seed
        for seed in range(20)
        if 0 not in grouped_split_indices(speakers, 0.1, 0.1, seed)[0]  # "big" not in train
    ]
    assert lopsided and len(lopsided) < 20
    for seed in range(20):
        if seed in lopsided:
            with pytest.raises(ValueError, match=r"speaker 'big' says 50 of them"):
                speaker_splits(clips, 0.1, 0.1, seed)
        else:
            assert len(speaker_splits(clips, 0.1, 0.1, seed)[0]) >= 50


def test_a_file_that_is_not_text_is_not_a_transcripts_file(tmp_path):
    path = tmp_path / "clip.wav"
    write_pcm16(path, tone(300))
    with pytest.raises(ValueError, match=r"clip\.wav is not a transcripts file .*folder per word"):
        read_transcripts(path)
