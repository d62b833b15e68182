"""What the speech tasks build alike: their conv blocks, spectrogram statistics and checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models.ocr import ConvStack
    from models.speech import SpeechFront
    from pipelines.config import TrainConfig
    from pipelines.speech_data import SpeechData

PRESET = {"filters": (16, 32, 64)}
"""What the speech tasks give ``filters`` when it is left at its default."""
STATISTICS_CLIPS = 256  # training clips whose log-mel values standardize every clip


def speech_preset(config: TrainConfig) -> dict:
    """Three conv blocks unless set: filters 16,32,64."""
    return dict(PRESET)


def conv_stack(config: TrainConfig, time_pools: int) -> ConvStack:
    """The config's `models.ocr.ConvStack`; its first ``time_pools`` blocks halve the frames."""
    from models.ocr import ConvStack

    return ConvStack(
        config.filters,
        config.kernel_size,
        config.stride,
        config.padding,
        width_pools=min(time_pools, len(config.filters)),
        padded_batches=False,  # every clip padded to clip_seconds
    )


def check_speech_model(config: TrainConfig, time_pools: int) -> None:
    """The conv blocks leave steps and bands of a clip; the cell is one the task takes.

    Raises:
        ValueError: Naming the options and the fix.
    """
    from models.speech import spectrogram_grid

    spectrogram_grid(config.clip_samples(), config.mel_bins, conv_stack(config, time_pools))
    config.recurrent_spec(bidirectional=True)


def spectrogram_statistics(config: TrainConfig, data: SpeechData) -> tuple[float, float]:
    """Mean and variance of the log-mel values of `STATISTICS_CLIPS` random training clips."""
    import numpy as np

    from models.audio_features import log_mel_statistics
    from models.speech import FRAME_LENGTH, FRAME_STEP
    from pipelines.speech_data import clip_array

    train = data.splits["train"]
    chosen = np.random.default_rng(config.seed).permutation(len(train))[:STATISTICS_CLIPS]
    clips = train.subset(np.sort(chosen))
    return log_mel_statistics(
        clip_array(clips, config.clip_samples()),
        config.sample_rate,
        config.mel_bins,
        FRAME_LENGTH,
        FRAME_STEP,
    )


def cosine_decay(config: TrainConfig, data: SpeechData):
    """Adam's learning rate, decaying to 0 along a cosine over the planned optimizer steps."""
    import math

    import keras

    steps = config.epochs * math.ceil(len(data.splits["train"]) / config.batch_size)
    return keras.optimizers.schedules.CosineDecay(config.learning_rate, steps)


def speech_front(config: TrainConfig, data: SpeechData, time_pools: int) -> SpeechFront:
    """The `models.speech.SpeechFront` of the config, standardized by the training clips."""
    from models.speech import SpeechFront

    return SpeechFront(
        sample_rate=config.sample_rate,
        clip_samples=config.clip_samples(),
        num_mel_bins=config.mel_bins,
        statistics=spectrogram_statistics(config, data),
        frequency_warp=config.frequency_warp,
        spec_augment=config.spec_augment,
        conv=conv_stack(config, time_pools),
        seed=config.seed,
    )
