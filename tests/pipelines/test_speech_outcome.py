"""What a speech run reports beyond its totals: each speaker's accuracy in a split of few."""

import numpy as np
import pytest

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
