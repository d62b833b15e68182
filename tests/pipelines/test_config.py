import pytest

from pipelines.config import TrainConfig, parse_filters, parse_padding


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
        ({"epochs": 0}, "Received epochs=0"),
        ({"batch_size": -1}, "Received batch_size=-1"),
        ({"learning_rate": 0.0}, "Received learning_rate=0.0"),
        ({"stride": 0}, "Received stride=0"),
        ({"padding": "full"}, "Received padding='full'"),
        ({"dataset": "cifar"}, "Received dataset='cifar'"),
        ({"validation_fraction": 0.0}, "Received validation_fraction=0.0"),
        ({"max_examples": -5}, "Received max_examples=-5"),
    ],
)
def test_invalid_values_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)
