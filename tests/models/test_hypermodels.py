import keras
import keras_tuner
import pytest

import models.hypermodels.cnn as cnn_hypermodel
from models import small_cnn
from models.hypermodels import (
    CNNHyperModel,
    InvalidGeometryError,
    TextReaderHyperModel,
    TextRNNHyperModel,
)


def test_default_cnn_is_the_train_pipelines_cnn():
    hypermodel = CNNHyperModel((28, 28, 1), 10, defaults={"filters": (16, 32)})
    hp = keras_tuner.HyperParameters()
    model = hypermodel.build(hp)
    reference = small_cnn(input_shape=(28, 28, 1), classes=10, filters=(16, 32))
    assert model.count_params() == reference.count_params() == 206_922
    assert hp.values == hypermodel.default_values()
    assert {
        f"block{b}_{name}" for b in (1, 2) for name in ("kernel_size", "stride", "padding")
    } <= set(hp.values)
    assert model.optimizer.learning_rate.numpy() == pytest.approx(2e-3)


def test_chosen_geometry_reaches_the_model():
    hypermodel = CNNHyperModel((28, 28, 1), 10, blocks=2, pool_sizes=(0, 2))
    hp = keras_tuner.HyperParameters()
    hp.values.update(
        {
            "block1_kernel_size": 5,
            "block1_stride": 2,
            "block1_padding": "1",
            "block1_pool_size": 0,
            "block2_kernel_size": 3,
            "block2_padding": "valid",
        }
    )
    model = hypermodel.build(hp)
    # 28 -> f5 s2 p1: floor((28 + 2 - 5) / 2) + 1 = 13 -> f3 s1 p0: 11 -> pool: 5
    assert model.get_layer("block1_conv1").output.shape[1:3] == (13, 13)
    assert model.get_layer("block2_conv1").output.shape[1:3] == (11, 11)
    assert model.get_layer("block2_pool").output.shape[1:3] == (5, 5)
    names = [layer.name for layer in model.layers]
    assert "block1_pool" not in names


def test_invalid_geometry_fails_before_any_tensorflow_op(monkeypatch):
    hypermodel = CNNHyperModel(
        (8, 8, 1),
        10,
        blocks=1,
        kernel_sizes=(3, 9),
        paddings=("valid",),
        defaults={"padding": "valid", "filters": (16,)},
    )
    monkeypatch.setattr(cnn_hypermodel, "small_cnn", lambda **kw: pytest.fail("model was built"))
    hp = keras_tuner.HyperParameters()
    hp.values["block1_kernel_size"] = 9
    with pytest.raises(InvalidGeometryError) as caught:
        hypermodel.build(hp)
    message = str(caught.value)
    assert isinstance(caught.value, keras_tuner.errors.FailedTrialError)
    assert "floor((8 + 2*0 - 9) / 1) + 1 = 0" in message and "block1_conv1" in message
    assert hypermodel.geometry_problem(hp.values) == message
    assert hypermodel.geometry_problem(hypermodel.default_values()) is None


def test_skip_message_shows_the_sizes_reached():
    hypermodel = CNNHyperModel(
        (28, 28, 1), 10, kernel_sizes=(3, 7), strides=(1, 3), paddings=("same", "valid")
    )
    values = hypermodel.default_values()
    values.update(
        {
            "block1_kernel_size": 7,
            "block1_stride": 3,
            "block1_padding": "valid",
            "block2_kernel_size": 7,
            "block2_padding": "valid",
        }
    )
    problem = hypermodel.geometry_problem(values)
    # 28 -> floor((28 - 7) / 3) + 1 = 8 -> pool 4 -> f7 valid: floor((4 - 7) / 1) + 1 = -2
    assert "Sizes reached: block1_conv1 8x8 -> block1_pool 4x4" in problem
    assert "= -2 for H=4, f=7, s=1, p=0" in problem


def test_bad_search_spaces_are_refused_with_the_value():
    with pytest.raises(ValueError, match="default 3 must be one of the choices \\[5, 7\\]"):
        CNNHyperModel((28, 28, 1), 10, kernel_sizes=(5, 7))
    with pytest.raises(ValueError, match="does not fit input_shape=\\(4, 4, 1\\)"):
        CNNHyperModel((4, 4, 1), 10, paddings=("valid",), defaults={"padding": "valid"})
    with pytest.raises(ValueError, match="Received strides=\\(\\)"):
        CNNHyperModel((28, 28, 1), 10, strides=())
    with pytest.raises(ValueError, match="Received cells=\\('lstm', 'transformer'\\)"):
        TextRNNHyperModel(100, cells=("lstm", "transformer"))


def test_text_rnn_builds_the_chosen_stack():
    hypermodel = TextRNNHyperModel(500, 2)
    hp = keras_tuner.HyperParameters()
    hp.values.update(
        {"cell": "gru", "bidirectional": True, "layers": 2, "units": 32, "clipnorm": 1.0}
    )
    model = hypermodel.build(hp)
    bidirectional = [x for x in model.layers if isinstance(x, keras.layers.Bidirectional)]
    assert len(bidirectional) == 2
    assert type(bidirectional[0].forward_layer).__name__ == "GRU"
    assert bidirectional[0].forward_layer.units == 32
    assert model.optimizer.clipnorm == 1.0
    assert model.output_shape == (None, 1)
    assert hypermodel.geometry_problem(hp.values) is None


def test_text_rnn_default_is_one_lstm():
    hypermodel = TextRNNHyperModel(500, 3, defaults={"units": 32, "embedding_dim": 32})
    hp = keras_tuner.HyperParameters()
    model = hypermodel.build(hp)
    assert hp.values["cell"] == "lstm" and hp.values["layers"] == 1
    assert model.output_shape == (None, 3)
    assert model.optimizer.clipnorm is None


def test_paddings_are_parsed_once_and_reach_the_model_as_values():
    hypermodel = CNNHyperModel(
        (12, 12, 1), 10, blocks=1, paddings=(" SAME", 1, "2"), defaults={"padding": 1}
    )
    # Keras Tuner wants one type per choice: parsed, then spelled as strings
    assert hypermodel.paddings == ("same", "1", "2")
    assert hypermodel.defaults["padding"] == "1"
    values = hypermodel.default_values()
    values["block1_padding"] = "2"
    assert hypermodel._geometry(values)["padding"] == [2]
    # 12 -> f3 s1 p2: 12 + 4 - 3 + 1 = 14 -> pool 2: 7
    assert hypermodel.feature_map_sizes(values)[-1] == ("block1_pool", (7, 7, 16))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"paddings": ("same", "full")}, "Received paddings='full'"),
        ({"paddings": ("same", -1)}, "Received paddings=-1"),
        ({"paddings": ("same", "SAME")}, "distinct"),
        ({"defaults": {"padding": "half"}}, "Received paddings='half'"),
        ({"defaults": {"padding": 2}}, "default '2' must be one of the choices"),
    ],
)
def test_bad_paddings_are_refused_when_the_hypermodel_is_made(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CNNHyperModel((28, 28, 1), 10, **kwargs)


def test_embedder_hypermodel_builds_each_vector_length_and_margin():
    from models.hypermodels import EmbeddingHyperModel

    geometry = {"filters": (4,), "kernel_size": 3, "strides": 1, "padding": "same"}
    defaults = {"embedding_size": 32, "margin": 0.5, "learning_rate": 1e-3}
    hypermodel = EmbeddingHyperModel(
        (28, 28, 1), geometry=geometry, embedding_sizes=(16, 32), margins=(0.2, 0.5),
        defaults=defaults,
    )  # fmt: skip
    hp = keras_tuner.HyperParameters()
    model = hypermodel.build(hp)
    assert model.output_shape == (None, 32)
    assert model.loss.get_config()["class_dimension"] == 16
    assert model.loss.margin == 0.5 and hypermodel.default_values() == defaults
    hp = keras_tuner.HyperParameters()
    hp.Fixed("embedding_size", 16)
    hp.Fixed("margin", 0.2)
    smaller = hypermodel.build(hp)
    assert smaller.output_shape == (None, 16) and smaller.loss.margin == 0.2
    contrastive = EmbeddingHyperModel(
        (28, 28, 1), geometry=geometry, embedding_sizes=(32,), defaults=defaults,
        class_loss="contrastive", copy_score_weight=3.0,
    )  # fmt: skip
    hp = keras_tuner.HyperParameters()
    weighted = contrastive.build(hp)
    assert "margin" not in hp.values and "margin" not in contrastive.default_values()
    # each trial's vectors weigh the copy part as the search task's do
    assert weighted.get_layer("copy_weighting").scale == pytest.approx(3.0**0.5)
    with pytest.raises(ValueError, match="copy_score_weight=0"):
        EmbeddingHyperModel((28, 28, 1), geometry=geometry, defaults=defaults,
                            embedding_sizes=(32,), copy_score_weight=0)  # fmt: skip
    with pytest.raises(ValueError, match=r"even lengths .* Received \[15\]"):
        EmbeddingHyperModel((28, 28, 1), geometry=geometry, embedding_sizes=(15, 32),
                            defaults=defaults)  # fmt: skip
    with pytest.raises(ValueError, match="the default 32 must be one of"):
        EmbeddingHyperModel((28, 28, 1), geometry=geometry, embedding_sizes=(16,),
                            defaults=defaults)  # fmt: skip


READER_SPACE = dict(
    blocks=2,
    padding=1,  # sizes a 3x3 conv as "same" does, and also takes stride 2
    kernel_sizes=(3, 5),
    strides=(1, 2),
    filters=(4, 8),
    units=(8, 16),
    defaults={"kernel_size": 3, "stride": 1, "filters": (4, 8), "units": 8, "learning_rate": 2e-3},
)


def test_text_reader_builds_the_chosen_conv_stack_and_width():
    from models.ocr import reader_conv

    hypermodel = TextReaderHyperModel(5, 16, {40: 6, 60: 9}, **READER_SPACE)
    hp = keras_tuner.HyperParameters()
    hp.values.update(kernel_size=5, stride=1, block1_filters=8, block2_filters=4, units=16)
    reader = hypermodel.build(hp)
    conv = reader_conv(reader)
    assert (conv.filters, conv.kernel_size, conv.stride) == ((8, 4), 5, 1)
    assert reader.get_layer("block1_conv").kernel.shape == (5, 5, 1, 8)
    assert reader.get_layer("bidirectional_1").forward_layer.units == 16
    assert reader.output_shape[-1] == 6 and reader.loss is not None
    assert hypermodel.default_values() == {
        "kernel_size": 3,
        "stride": 1,
        "block1_filters": 4,
        "block2_filters": 8,
        "units": 8,
        "learning_rate": 2e-3,
    }


def test_text_reader_skips_strides_that_leave_a_label_too_few_columns(monkeypatch):
    hypermodel = TextReaderHyperModel(5, 16, {40: 6, 60: 9}, **READER_SPACE)
    values = {**hypermodel.default_values(), "stride": 2}
    # stride 2 in both blocks and two width pools: 60 -> 30 -> 15 -> 8 -> 4 columns
    problem = hypermodel.geometry_problem(values)
    assert "leave 2 columns of an image 40 px wide, whose label needs 6" in problem
    monkeypatch.setattr("models.hypermodels.text_reader.text_reader", None)  # never reached
    hp = keras_tuner.HyperParameters()
    hp.values.update(values)
    with pytest.raises(InvalidGeometryError, match="needs 6"):
        hypermodel.build(hp)
    short = TextReaderHyperModel(5, 4, {40: 2}, **READER_SPACE)  # 4 px high: 2 -> 1 -> 1 -> 0
    assert "leave no row of an image 4 px high" in short.geometry_problem(values)
    same = TextReaderHyperModel(5, 16, {40: 6}, **{**READER_SPACE, "padding": "same"})
    assert "use an integer padding p" in same.geometry_problem(values)
    assert same.geometry_problem(same.default_values()) is None
    with pytest.raises(ValueError, match="does not fit the data.*needs 30"):
        TextReaderHyperModel(5, 16, {40: 30}, **READER_SPACE)
    with pytest.raises(ValueError, match="filters for each of the 3 blocks"):
        TextReaderHyperModel(5, 16, {40: 6}, **{**READER_SPACE, "blocks": 3})
    with pytest.raises(ValueError, match=r"Received units=\(0, 8\)"):
        TextReaderHyperModel(5, 16, {40: 6}, **{**READER_SPACE, "units": (0, 8)})
    with pytest.raises(ValueError, match="the default 7 must be one of the choices"):
        TextReaderHyperModel(
            5,
            16,
            {40: 6},
            **{**READER_SPACE, "defaults": {**READER_SPACE["defaults"], "kernel_size": 7}},
        )
