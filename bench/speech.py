"""Speech on generated voices: spoken commands and digit strings, our defaults, in one run.

``train -P task=speech_commands`` and ``train -P task=speech_digits`` with
their defaults (``--set option=value`` changes both, for experiments) over
``--seeds`` seeds, on the tasks' generated sets: ``test`` is said by espeak-ng
voices whose accent and voice variant were both held out of training,
``test_held_out_flite`` by flite speakers never trained on. Every seed hears
the same clips: the generated splits have a seed of their own
(`data.choice.SPLIT_SEED`). The command classifier of TensorFlow's "Simple
audio recognition" tutorial (`baselines.speech`, Keras's own layers) trains
on them at seed 0 for as many epochs, and is compared with our seed 0. For
reference only, each trained model's answer on the few real human
recordings of Debian's ``pocketsphinx-testdata`` (no claim: synthetic and
human speech differ a lot). Prints one JSON line: accuracy, WER and CER per
split (commands' also per held-out flite speaker), mean ± std over seeds,
the baseline's accuracy, the issue's targets and wall seconds.

Usage: python bench/speech.py [--seeds 1] [--set epochs=20]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from ocr import parse_settings
from runs import mean_std, quiet_stdout, scratch_store

from pipelines.cli import data_locations_from_environment
from pipelines.config import TrainConfig
from pipelines.train import train

TASKS = {
    "speech_commands": ("accuracy", "held_out_flite_accuracy"),
    "speech_digits": ("wer", "cer", "exact_accuracy", "held_out_flite_wer", "held_out_flite_cer"),
}
REAL = Path("/usr/share/pocketsphinx/test/data")
RECORDINGS = {  # 16 kHz, 16-bit: what each says
    "tidigits/dhd.2934z.raw": "two nine three four zero",
    "cards/004.wav": "five five",
    "goforward.raw": "go forward ten meters",
}


def real_recordings(sample_rate: int) -> dict[str, np.ndarray]:
    """The pocketsphinx-testdata recordings at ``sample_rate`` (empty if not installed)."""
    from data.audio import read_wav, resample

    clips = {}
    for name in RECORDINGS:
        path = REAL / name
        if not path.is_file():
            continue
        if path.suffix == ".raw":
            samples = np.fromfile(path, dtype="<i2").astype(np.float32) / 32768
            clips[name] = resample(samples, 16000, sample_rate)
        else:
            clips[name] = read_wav(path, sample_rate)
    return clips


def heard_in_recordings(export_path: Path, sample_rate: int) -> dict[str, dict]:
    """What an export hears in each real recording (cut to its clip length when longer)."""
    import tensorflow as tf

    loaded = tf.saved_model.load(str(export_path))
    settings = json.loads((export_path / "assets.extra" / "audio.json").read_text())
    heard = {}
    for name, clip in real_recordings(sample_rate).items():
        cut = clip[: settings["clip_samples"]]
        answer = loaded.signatures["serving_default"](audio=tf.constant(cut[np.newaxis]))
        heard[name] = {
            "said": RECORDINGS[name],
            "heard": answer["text"].numpy()[0].decode(),
            "seconds_heard": round(len(cut) / sample_rate, 2),
            "seconds": round(len(clip) / sample_rate, 2),
        }
    return heard or {"skipped": "sudo apt-get install pocketsphinx-testdata"}


def tutorial_baseline(config: TrainConfig) -> dict:
    """The tutorial classifier's test accuracies on the same clips, trained as many epochs."""
    import keras

    from baselines.speech import tutorial_classifier
    from pipelines.tasks.speech_commands import labelled_arrays, load_data, words_of

    data = load_data(config)
    words = words_of(data)
    arrays = {
        name: labelled_arrays(clips, words, config.clip_samples())
        for name, clips in data.splits.items()
    }
    keras.utils.set_random_seed(config.seed)
    start = time.perf_counter()
    model = tutorial_classifier(config.clip_samples(), len(words), arrays["train"][0])
    with quiet_stdout():
        model.fit(
            *arrays["train"],
            validation_data=arrays["validation"],
            epochs=config.epochs,
            batch_size=config.batch_size,
            verbose=2,
        )
    accuracy = {
        name: round(float(np.mean(model.predict(x, verbose=0).argmax(1) == y)), 4)
        for name, (x, y) in arrays.items()
        if name.startswith("test")
    }
    return {
        "accuracy": accuracy.get("test"),
        "held_out_flite_accuracy": accuracy.get("test_held_out_flite"),
        "parameters": model.count_params(),
        "train_seconds": round(time.perf_counter() - start, 1),
    }


def seeded(task: str, options: dict, seeds: int, folder: Path) -> dict:
    """Trains ``task`` for each seed; the metrics' mean ± std and seed 0's real recordings."""
    figures, seconds, heard = [], [], {}
    for seed in range(seeds):
        config = TrainConfig(
            task=task, seed=seed, export_dir=str(folder / task / "exports"), **options
        )
        start = time.perf_counter()
        with quiet_stdout():
            result = train(config, data_locations_from_environment())
        seconds.append(time.perf_counter() - start)
        figures.append(result.test_metrics)
        if seed == 0:
            heard = heard_in_recordings(result.export_path, config.sample_rate)
    found = {name: mean_std([f[f"test_{name}"] for f in figures]) for name in TASKS[task]}
    found["per_seed"] = {
        name: [round(f[f"test_{name}"], 4) for f in figures] for name in TASKS[task]
    }
    # speaker_accuracies: the same keys for every seed, as every seed hears the same clips
    by_speaker = {key.removeprefix("test_"): key for key in figures[0] if "/" in key}
    if by_speaker:
        found["by_speaker"] = {
            name: mean_std([f[key] for f in figures]) for name, key in by_speaker.items()
        }
        found["per_seed"]["by_speaker"] = {
            name: [round(f[key], 4) for f in figures] for name, key in by_speaker.items()
        }
    found["train_seconds"] = mean_std(seconds)
    found["real_recordings"] = heard
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--set", action="append", default=[], help="option=value, repeatable")
    args = parser.parse_args()
    options = parse_settings(args.set)
    for task in TASKS:
        TrainConfig(task=task, **options)  # a bad option fails now, not after training
    start = time.perf_counter()
    with scratch_store() as folder:
        ours = {task: seeded(task, options, args.seeds, folder) for task in TASKS}
    baseline = tutorial_baseline(TrainConfig(task="speech_commands", seed=0, **options))
    commands, digits = ours["speech_commands"], ours["speech_digits"]
    targets = {
        "commands_unseen_espeak_accuracy_at_least_0.98": commands["accuracy"]["mean"] >= 0.98,
        "commands_held_out_flite_accuracy_at_least_0.85": (
            commands["held_out_flite_accuracy"]["mean"] >= 0.85
        ),
        "digits_unseen_espeak_wer_at_most_0.05": digits["wer"]["mean"] <= 0.05,
        "commands_beat_the_tutorial_baseline_on_seed_0": (
            commands["per_seed"]["accuracy"][0] > baseline["accuracy"]
            and commands["per_seed"]["held_out_flite_accuracy"][0]
            > baseline["held_out_flite_accuracy"]
        ),
    }
    print(
        json.dumps(
            {
                "bench": "speech",
                "datasets": ["spoken_commands", "spoken_digits"],
                "options": options,
                "metric": "accuracy (commands); word and character error rates (digit strings); "
                "test: unseen espeak accents and variants; held_out_flite: unseen flite speakers",
                "ours": ours,
                "tutorial_baseline": baseline,
                "targets": targets,
                "seconds": round(time.perf_counter() - start, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
