"""Gradient-flow pipeline: ‖∂loss/∂x_t‖ per timestep for RNN vs LSTM vs GRU, in MLflow.

Importing this module is light (no TensorFlow, Keras, MLflow or NumPy), so
the command line can show ``GradientFlowConfig``'s options at once; the
functions that measure and plot import what they need.
"""

from __future__ import annotations

import dataclasses
import typing

from common.recurrent import parse_cells
from common.validation import check_positive_int
from pipelines.options import format_option, option_field, parse_fields

if typing.TYPE_CHECKING:
    import numpy as np
    from matplotlib.figure import Figure


def parse_layers(text) -> tuple[str, ...]:
    """Parses ``"simple_rnn,lstm,gru"`` into names of `models.recurrent.RECURRENT_LAYERS`.

    Raises:
        ValueError: On an unknown or missing name.
    """
    return parse_cells(text, "layers")


@dataclasses.dataclass(frozen=True)
class GradientFlowConfig:
    """Settings of one gradient-flow comparison.

    Attributes:
        layers: Recurrent layers to compare.
        timesteps: Sequence length T (long sequences show vanishing gradients).
        features: Input features per step.
        units: Hidden units of each layer.
        batch_size: Sequences in the probe batch.
        seed: Seed of the weights and the random probe data.
    """

    layers: tuple[str, ...] = option_field(
        ("simple_rnn", "lstm", "gru"), "recurrent layers, comma-separated", parse=parse_layers
    )
    timesteps: int = option_field(100, "sequence length T", check=check_positive_int)
    features: int = option_field(8, "input features per step", check=check_positive_int)
    units: int = option_field(32, "hidden units per layer", check=check_positive_int)
    batch_size: int = option_field(32, "probe sequences", check=check_positive_int)
    seed: int = option_field(0, "seed of weights and data")

    def __post_init__(self):
        parse_fields(self)

    def as_params(self) -> dict[str, str]:
        """The config as MLflow parameters, formatted as the command line takes them."""
        return {f.name: format_option(getattr(self, f.name)) for f in dataclasses.fields(self)}


@dataclasses.dataclass(frozen=True)
class GradientFlowResult:
    """Per-layer gradient norms per timestep, and the MLflow run that holds them."""

    run_id: str
    norms: dict[str, np.ndarray]


def first_to_last_ratio(norms: np.ndarray) -> float:
    """‖∂L/∂x_0‖ / ‖∂L/∂x_{T-1}‖: how much of the gradient reaches the first step."""
    return float(norms[0] / max(norms[-1], 1e-300))


def gradient_flow_figure(norms: dict[str, np.ndarray]) -> Figure:
    """Log-scale ‖∂loss/∂x_t‖ against t, one line per layer."""
    import numpy as np
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4), layout="constrained")
    axis = figure.subplots()
    for name, values in norms.items():
        label = name
        underflow = np.flatnonzero(values == 0)
        if underflow.size:  # below float32's range: leave the gap, say so
            label = f"{name} (0 at t <= {underflow.max()}: float32 underflow)"
        axis.semilogy(np.arange(len(values)), np.where(values > 0, values, np.nan), label=label)
    axis.set_xlabel("timestep t (loss at the last step)")
    axis.set_ylabel("‖∂loss/∂x_t‖")
    axis.set_title("Gradient flow back through time")
    axis.grid(alpha=0.3, which="both")
    axis.legend()
    return figure


def gradient_flow(config: GradientFlowConfig) -> GradientFlowResult:
    """Measures how the loss gradient reaches back in time for each layer type.

    Each layer reads the same random sequences; a dense head predicts one
    value from the last state; the loss is the MSE against random targets.
    Logs the norms per timestep (``gradient_norms.json``), the figure
    ``plots/gradient_flow.png`` and, per layer, the metrics
    ``<layer>_first_to_last_ratio`` (‖∂L/∂x_0‖ / ‖∂L/∂x_{T-1}‖).

    Args:
        config: The comparison's settings.

    Returns:
        A `GradientFlowResult`.
    """
    import keras
    import mlflow
    import numpy as np

    from models.diagnostics import timestep_gradient_norms
    from models.recurrent import RECURRENT_LAYERS
    from pipelines.tracking import environment_tags, log_new_params, tracked_run

    with tracked_run() as run:
        log_new_params(config.as_params())
        mlflow.set_tags(environment_tags())
        rng = np.random.default_rng(config.seed)
        inputs = rng.normal(size=(config.batch_size, config.timesteps, config.features))
        targets = rng.normal(size=(config.batch_size, 1)).astype("float32")
        norms = {}
        for name in config.layers:
            keras.utils.set_random_seed(config.seed)
            model = keras.Sequential(
                [
                    keras.Input((config.timesteps, config.features)),
                    RECURRENT_LAYERS[name](config.units),
                    keras.layers.Dense(1),
                ]
            )
            norms[name] = timestep_gradient_norms(model, inputs.astype("float32"), targets)
            mlflow.log_metric(f"{name}_first_to_last_ratio", first_to_last_ratio(norms[name]))
        mlflow.log_dict({k: v.tolist() for k, v in norms.items()}, "gradient_norms.json")
        mlflow.log_figure(gradient_flow_figure(norms), "plots/gradient_flow.png")
        return GradientFlowResult(run_id=run.info.run_id, norms=norms)
