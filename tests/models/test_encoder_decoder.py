import keras
import numpy as np
import pytest

from models.captioning import captioner
from models.encoder_decoder import RecurrentDecoder, encoder_decoder
from models.recurrent import RecurrentSpec
from models.translation import seq2seq


def _decoder_layer_ids(model):
    names = ("decoder", "attention", "attention_combine")
    return {layer.name: id(layer) for layer in model.layers if layer.name in names}


def _translation():
    return seq2seq(9, 11, embedding_dim=4, recurrent=RecurrentSpec(units=5), attention="luong")


def _captioning():
    return captioner((8, 8, 3), 11, embedding_dim=4, recurrent=RecurrentSpec("gru", 5))


@pytest.mark.parametrize("build", [_translation, _captioning])
def test_training_and_step_models_share_one_decoder(build):
    model = build()
    training, step = _decoder_layer_ids(model.training), _decoder_layer_ids(model.decoder_step)
    assert set(training) == {"decoder", "attention", "attention_combine"}
    assert training == step
    shared = {id(w) for w in model.training.weights} & {id(w) for w in model.decoder_step.weights}
    assert shared == {id(w) for w in model.decoder_step.weights}  # no weight of its own
    assert model.decoder_step.output_shape[0] == (None, 11)


def test_the_decoder_takes_l1_l2_in_both_tasks():
    spec = RecurrentSpec("gru", 4, l2=0.5)
    kernels = {}
    for task, model in {
        "translation": seq2seq(9, 11, embedding_dim=4, recurrent=spec),
        "captioning": captioner((8, 8, 3), 11, embedding_dim=4, recurrent=spec),
    }.items():
        cell = model.training.get_layer("decoder").cell
        kernels[task] = (cell.kernel.numpy(), cell.recurrent_kernel.numpy())
        expected = sum(0.5 * np.square(w).sum() for w in kernels[task])
        decoder_losses = model.training.get_layer("decoder").losses
        np.testing.assert_allclose(float(sum(decoder_losses)), expected, rtol=1e-5)
    assert kernels["translation"][1].shape == kernels["captioning"][1].shape == (4, 12)


def test_only_gated_cells_decode():
    with pytest.raises(ValueError) as info:
        RecurrentDecoder.check_cell("simple_rnn", "A test decoder")
    assert str(info.value) == (
        "Invalid value for argument `cell`. A test decoder takes one of ['lstm', 'gru']. "
        "Received cell='simple_rnn'."
    )
    assert RecurrentDecoder.check_cell("gru") == "gru"


def test_builder_refuses_mismatched_encoder_outputs():
    decoder = RecurrentDecoder(RecurrentSpec("lstm", 3), 3, 7, 2, None)
    assert decoder.state_count == 2
    inputs = keras.Input((4,))
    state = keras.layers.Dense(3)(inputs)
    with pytest.raises(ValueError, match="expected 2 states .* Received 1 states"):
        encoder_decoder(decoder, inputs, [state], [state], [keras.Input((3,))], "broken")
    with pytest.raises(ValueError, match="Received attention='dot'"):
        RecurrentDecoder(RecurrentSpec("lstm", 3), 3, 7, 2, "dot")
