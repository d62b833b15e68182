import numpy as np
import pytest

from pipelines.config import TrainConfig
from pipelines.tasks import classify
from pipelines.tune_config import TuneConfig


def test_the_quality_preset_fills_only_the_options_left_at_their_defaults():
    default = TrainConfig(task="classify")
    quality = TrainConfig(task="classify", preset="quality")
    assert (default.filters, default.epochs, default.early_stopping_patience) == ((16, 32), 6, 0)
    assert (quality.filters, quality.epochs, quality.batch_size) == ((32, 64), 12, 128)
    assert (quality.learning_rate, quality.early_stopping_patience) == (2e-3, 3)
    mine = TrainConfig(
        task="classify", preset="quality", filters="8,8,8", epochs=2, learning_rate=0.01
    )
    assert (mine.filters, mine.epochs, mine.learning_rate) == ((8, 8, 8), 2, 0.01)
    assert mine.early_stopping_patience == 3  # not set: the preset's
    # What a run logs rebuilds the same config.
    assert TrainConfig.from_params(quality.as_params()) == quality
    with pytest.raises(ValueError, match="`preset`.*'default', 'quality'.*preset='fast'"):
        TrainConfig(task="classify", preset="fast")
    # A search builds its trials from its space: a preset would be ignored there.
    with pytest.raises(ValueError, match="`preset` applies to train, not tune"):
        TuneConfig(task="classify", preset="quality")


def test_the_quality_preset_builds_a_batch_normalized_vgg_style_cnn_with_augmentation():
    config = TrainConfig(task="classify", dataset="digits", preset="quality", max_examples=200)
    data = classify.load_data(config)
    model = classify.build_model(config, data)
    names = [layer.name for layer in model.layers]
    for block in (1, 2):
        for conv in (1, 2):
            assert f"block{block}_conv{conv}" in names and f"block{block}_bn{conv}" in names
    assert model.get_layer("block2_conv2").filters == 64
    assert model.get_layer("dropout").rate == 0.3
    schedule = model.optimizer.get_config()["learning_rate"]
    steps = config.epochs * int(np.ceil(data[2].train_size / config.batch_size))
    assert schedule["class_name"] == "CosineDecay"
    assert schedule["config"]["initial_learning_rate"] == 2e-3
    assert schedule["config"]["decay_steps"] == steps == 12 * 2  # 180 examples, batch 128

    # The training batches are shifted and flipped, the validation batches are not.
    plain = classify.load_data(TrainConfig(task="classify", dataset="digits", max_examples=200))
    augmented_train = np.concatenate([x.numpy() for x, _ in data[2].train])
    plain_train = np.concatenate([x.numpy() for x, _ in plain[2].train])
    assert augmented_train.shape == plain_train.shape
    assert not np.array_equal(augmented_train, plain_train)
    labels = np.concatenate([y.numpy() for _, y in data[2].train])
    np.testing.assert_array_equal(labels, np.concatenate([y.numpy() for _, y in plain[2].train]))
    for quality_batch, plain_batch in zip(data[2].validation, plain[2].validation):
        np.testing.assert_array_equal(quality_batch[0], plain_batch[0])
