import pytest

from common.padding import parse_padding
from pipelines.config import TrainConfig
from pipelines.tasks import TASKS
from pipelines.tasks.shared_options import parse_filters


def test_parsers():
    assert parse_filters("16,32") == (16, 32)
    assert parse_filters("8") == (8,)
    assert parse_filters((4, 4)) == (4, 4)
    assert parse_padding("same") == "same"
    assert parse_padding("2") == 2
    assert parse_padding(0) == 0


@pytest.mark.parametrize("text", ["", "16,x", "0,8", "-4"])
def test_bad_filters(text):
    with pytest.raises(ValueError, match="comma-separated positive integers"):
        parse_filters(text)


def test_config_normalizes_and_exports_params():
    config = TrainConfig(filters="8,16", padding="1", epochs=2)
    assert config.filters == (8, 16) and config.padding == 1
    params = config.as_params()
    assert params["filters"] == "8,16" and params["padding"] == "1" and params["epochs"] == "2"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": -1}, "Received epochs=-1"),
        ({"batch_size": -1}, "Received batch_size=-1"),
        ({"learning_rate": -0.1}, "Received learning_rate=-0.1"),
        ({"stride": 0}, "Received stride=0"),
        ({"padding": "full"}, "Received padding='full'"),
        ({"dataset": "cifar"}, "Received dataset='cifar'"),
        ({"validation_fraction": 0.0}, "Received validation_fraction=0.0"),
        ({"max_examples": -5}, "Received max_examples=-5"),
        ({"task": "sentiment", "cell": "rnn"}, "Received cell='rnn'"),
        ({"task": "sentiment", "units": 0}, "Received units=0"),
        ({"task": "forecast", "window": 0}, "Received window=0"),
        ({"task": "tagging", "l2": -1.0}, "Received l2=-1.0"),
        ({"task": "sentiment", "dropout": 1.0}, "Received dropout=1.0"),
        ({"task": "forecast", "test_fraction": 1.5}, "Received test_fraction=1.5"),
        ({"task": "sentiment", "bidirectional": "maybe"}, "Expected true or false"),
        ({"early_stopping_patience": -1}, "Received early_stopping_patience=-1"),
    ],
)
def test_invalid_values_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


@pytest.mark.parametrize(
    ("task", "dataset", "epochs", "batch_size"),
    [
        ("classify", "fashion_mnist", 6, 128),
        ("sentiment", "rotten_tomatoes", 5, 64),
        ("tagging", "wnut16", 25, 32),
        ("forecast", "sunspots", 60, 32),
        ("translation", "number_words", 10, 64),
        ("captioning", "shapes", 12, 64),
    ],
)
def test_zero_and_empty_take_the_task_defaults(task, dataset, epochs, batch_size):
    config = TrainConfig(task=task)
    assert (config.dataset, config.epochs, config.batch_size) == (dataset, epochs, batch_size)
    assert config.learning_rate > 0
    assert TrainConfig(task=task, epochs=2).epochs == 2


def test_an_option_of_another_task_is_an_error_naming_its_tasks():
    with pytest.raises(
        ValueError, match=r"`window` applies to task forecast, not task='sentiment'"
    ):
        TrainConfig(task="sentiment", window=10)
    with pytest.raises(
        ValueError,
        match=r"`filters` applies to task classify, search, ocr, speech_commands, speech_digits or "
        r"faces, not task='tagging'",
    ):
        TrainConfig(task="tagging", filters="8,8")
    with pytest.raises(
        ValueError,
        match=r"`cell` applies to task sentiment, tagging, forecast, translation, captioning, ocr, "
        r"speech_commands or speech_digits, not task='classify'",
    ):
        TrainConfig(task="classify", cell="gru")
    # defaults given explicitly, as `mlflow run` passes them, are fine
    TrainConfig(task="sentiment", filters="16,32", padding="same", window=24, char_features="true")


def test_recurrent_options_reach_the_spec_and_tagging_is_bidirectional():
    spec = TrainConfig(
        task="sentiment", encoder="rnn", cell="gru", units=8, layers=2, l1=0.01
    ).recurrent_spec()
    assert (spec.cell, spec.units, spec.layers, spec.l1, spec.bidirectional) == (
        "gru",
        8,
        2,
        0.01,
        False,
    )
    assert "bidirectional" not in TASKS["tagging"].option_names()  # always both ways
    assert TrainConfig(task="forecast", bidirectional="true").recurrent_spec().bidirectional


def test_params_spell_values_as_the_command_line_takes_them():
    params = TrainConfig(task="forecast", columns="a,b", bidirectional="1").as_params()
    assert params["columns"] == "a,b" and params["bidirectional"] == "true"
    assert params["dataset"] == "sunspots" and params["epochs"] == "60"


def test_a_run_config_comes_back_from_its_logged_parameters():
    config = TrainConfig(task="forecast", epochs=4, columns="a,b", bidirectional=True)
    assert TrainConfig.from_params(config.as_params()) == config
    # `mlflow run` logs an empty string as '' (shell quoting); other names are ignored
    logged = {**config.as_params(), "time_column": "''", "train_examples": "120"}
    assert TrainConfig.from_params(logged) == config
    assert "resume_run_id" not in config.as_params()
    with pytest.raises(ValueError, match="Received epochs=-1"):
        TrainConfig.from_params({**config.as_params(), "epochs": "-1"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"task": "translation", "beam_width": 0}, "Received beam_width=0"),
        ({"task": "captioning", "beam_width": -2}, "Received beam_width=-2"),
        ({"task": "transfer", "fine_tune_blocks": 6, "fine_tune_epochs": 1}, "Expected 0..5"),
        ({"task": "transfer", "fine_tune_blocks": 2}, "fine_tune_epochs=0"),
        ({"task": "transfer", "fine_tune_epochs": 2}, "fine_tune_blocks=0"),
        ({"task": "transfer", "fine_tune_learning_rate": 0}, "fine_tune_learning_rate=0"),
        ({"task": "captioning", "base_weights": "imagenet"}, "image_encoder=vgg16"),
        ({"task": "captioning", "image_encoder": "resnet"}, "Received image_encoder='resnet'"),
        ({"clipnorm": 1.0, "clipvalue": 0.5}, "at most one of `clipnorm` and `clipvalue`"),
        ({"export_dir": ""}, "Received export_dir=''"),
    ],
)
def test_options_that_would_not_work_together_are_refused_before_any_run(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


def test_each_value_is_parsed_once_into_its_type():
    config = TrainConfig(task="classify", padding=" SAME ", filters="8, 16", deterministic="yes")
    assert (config.padding, config.filters, config.deterministic) == ("same", (8, 16), True)
    assert TrainConfig(task="classify", padding="3").padding == 3
    config = TrainConfig(task="forecast", units="16", dropout="0.25", columns="a, b")
    assert (config.units, config.dropout, config.columns) == (16, 0.25, ("a", "b"))
    # the task's own typed options, passed whole to whoever needs only them
    assert type(config.task_options).__name__ == "ForecastOptions"
    assert config.task_options.units == 16


def test_a_task_gives_its_own_default_to_options_left_at_theirs():
    assert TrainConfig(task="sentiment").early_stopping_patience == 1
    assert TrainConfig(task="sentiment", early_stopping_patience=4).early_stopping_patience == 4


def test_the_dataset_help_names_every_catalog_dataset():
    import dataclasses

    from data.catalog import dataset_names
    from pipelines.config import TrainConfig

    field = next(f for f in dataclasses.fields(TrainConfig) if f.name == "dataset")
    listed = field.metadata["help"].split("(")[1].split(")")[0].split(", ")
    assert sorted(listed) == sorted(dataset_names())
