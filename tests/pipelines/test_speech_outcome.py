"""What a speech run reports beyond its totals: each speaker's accuracy in a split of few."""

import numpy as np
import pytest
from mlflow.utils.validation import _validate_metric_name

from pipelines.speech_outcome import SPEAKER_METRICS_AT_MOST, speaker_accuracies


def test_each_speaker_of_a_split_of_few_gets_an_accuracy_under_a_name_mlflow_takes():
    speakers = ["flite:slt", "flite:kal", "flite:slt", "flite:kal16", "flite:slt", "flite:kal"]
    correct = np.array([True, False, False, True, True, True])
    found = speaker_accuracies("test_held_out_flite", speakers, correct)
    assert found == {
        "test_held_out_flite_accuracy/flite_kal": 0.5,
        "test_held_out_flite_accuracy/flite_kal16": 1.0,
        "test_held_out_flite_accuracy/flite_slt": pytest.approx(2 / 3),
    }
    many = [f"espeak-ng:en-us+m{i}" for i in range(SPEAKER_METRICS_AT_MOST + 1)]
    assert speaker_accuracies("test", many, np.ones(len(many), bool)) == {}


def test_names_mlflow_would_refuse_or_two_speakers_would_share_are_told_apart():
    speakers = ["..", "a:b", "a_b", "en+m1", "."]  # as many as still get their own accuracy
    assert len(speakers) == SPEAKER_METRICS_AT_MOST
    found = speaker_accuracies("test", speakers, np.array([True, False, True, False, True]))
    assert found == {
        "test_accuracy/_": 1.0,  # "."
        "test_accuracy/__2": 1.0,  # ".." (sorted after ".")
        "test_accuracy/a_b": 0.0,  # "a:b"
        "test_accuracy/a_b_2": 1.0,  # "a_b"
        "test_accuracy/en_m1": 0.0,
    }
    for name in found:
        _validate_metric_name(name)
