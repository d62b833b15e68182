from models import (
    conv_vs_dense_parameters,
    format_parameter_report,
    lenet,
    parameter_report,
    single_conv_weights,
    stacked_conv_weights,
)
from models.parameters import receptive_field


def test_report_rows_sum_to_the_model_count():
    model = lenet()
    rows = parameter_report(model)
    assert sum(row.parameters for row in rows) == model.count_params() == 61_706
    by_name = {row.name: row for row in rows}
    assert by_name["block1_conv1"].parameters == 5 * 5 * 1 * 6 + 6
    assert by_name["block1_conv1"].output_shape == (None, 28, 28, 6)
    assert by_name["block2_conv1"].output_shape == (None, 10, 10, 16)
    text = format_parameter_report(model)
    assert "61,706" in text.splitlines()[-1] and "block2_pool" in text


def test_seven_by_seven_vs_three_stacked_three_by_three():
    for channels in (1, 64, 512):
        assert single_conv_weights(channels, 7) == 49 * channels**2
        assert stacked_conv_weights(channels, 3, 3) == 27 * channels**2
    assert receptive_field(3, 3) == receptive_field(7, 1) == 7


def test_conv_vs_dense_for_six_five_by_five_filters_on_32x32x3():
    counts = conv_vs_dense_parameters((32, 32, 3), filters=6, kernel_size=5)
    assert counts == {
        "conv_parameters": 456,
        "dense_weights": 14_450_688,
        "input_units": 3072,
        "output_units": 4704,
    }
