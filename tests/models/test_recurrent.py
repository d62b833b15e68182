import keras
import numpy as np
import pytest

from models.layers.rnn import GRU, LSTM, SimpleRNN
from models.recurrent import RecurrentSpec, weight_regularizer


@pytest.mark.parametrize(
    ("cell", "layer_class"), [("lstm", LSTM), ("gru", GRU), ("simple_rnn", SimpleRNN)]
)
def test_cells_are_our_layers(cell, layer_class):
    layer = RecurrentSpec(cell=cell, units=5).layer(0, return_sequences=False)
    assert type(layer) is layer_class and layer.units == 5


def test_stack_shapes_and_bidirectional_width():
    spec = RecurrentSpec(cell="gru", units=4, layers=3, bidirectional=True)
    inputs = keras.Input((7, 3))
    last = spec(inputs)
    assert last.shape == (None, 8) and spec.output_units == 8
    sequences = spec(keras.Input((7, 3)), return_sequences=True)
    assert sequences.shape == (None, 7, 8)


def test_l1_l2_penalties_reach_kernel_and_recurrent_weights():
    spec = RecurrentSpec(cell="simple_rnn", units=3, l1=0.01, l2=0.02)
    model = keras.Sequential([keras.Input((4, 2)), spec.layer(0, False)])
    kernel, recurrent = model.layers[0].cell.kernel, model.layers[0].cell.recurrent_kernel
    expected = sum(
        0.01 * np.abs(w.numpy()).sum() + 0.02 * np.square(w.numpy()).sum()
        for w in (kernel, recurrent)
    )
    model(np.zeros((1, 4, 2), np.float32))
    assert len(model.losses) == 2
    np.testing.assert_allclose(float(sum(model.losses)), expected, rtol=1e-5)
    assert weight_regularizer(0.0, 0.0) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cell": "transformer"}, "Received cell='transformer'"),
        ({"units": 0}, "Received units=0"),
        ({"layers": -1}, "Received layers=-1"),
        ({"dropout": 1.5}, "Received dropout=1.5"),
        ({"l1": -0.1}, "Received l1=-0.1"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RecurrentSpec(**kwargs)


def test_one_vocabulary_of_cells():
    import models.recurrent as recurrent
    from common import recurrent as vocabulary

    assert tuple(recurrent.RECURRENT_LAYERS) == vocabulary.CELL_NAMES
    assert recurrent.check_cell is vocabulary.check_cell
    assert set(vocabulary.GATED_CELL_NAMES) < set(recurrent.RECURRENT_LAYERS)
