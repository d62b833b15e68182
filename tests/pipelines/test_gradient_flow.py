import json
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from pipelines.gradient_flow import GradientFlowConfig, first_to_last_ratio, gradient_flow

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_config_loads_no_heavy_library():
    code = (
        "import sys, pipelines.gradient_flow; "
        "heavy = {'tensorflow', 'keras', 'mlflow', 'numpy'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True, timeout=60)


def test_config_parses_command_line_strings_once():
    config = GradientFlowConfig(layers=" gru, simple_rnn ", timesteps="150", seed="7")
    assert (config.layers, config.timesteps, config.seed) == (("gru", "simple_rnn"), 150, 7)
    assert config == GradientFlowConfig(layers=("gru", "simple_rnn"), timesteps=150, seed=7)
    assert config.as_params() == {
        "layers": "gru,simple_rnn",
        "timesteps": "150",
        "features": "8",
        "units": "32",
        "batch_size": "32",
        "seed": "7",
    }
    assert GradientFlowConfig(**config.as_params()) == config


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"layers": "lstm,transformer"}, "`layers`.*Received layers='lstm,transformer'"),
        ({"layers": ""}, "`layers`.*Received layers=''"),
        ({"timesteps": 0}, "`timesteps`. Expected a strictly positive integer. .*=0"),
        (
            {"units": "many"},
            "`units`. Expected an integer. Received units='many'\\.$",
        ),
        ({"batch_size": True}, "`batch_size`.*Received batch_size=True"),
    ],
)
def test_config_rejects_bad_values_naming_the_option(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GradientFlowConfig(**kwargs)


def test_gradient_flow_logs_norms_plot_and_shows_vanishing_gradients(mlflow_store):
    config = GradientFlowConfig(timesteps=100)
    result = gradient_flow(config)
    client = MlflowClient(mlflow_store)
    run = client.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["timesteps"] == "100"
    assert run.data.params["layers"] == "simple_rnn,lstm,gru"
    norms = result.norms
    assert set(norms) == {"simple_rnn", "lstm", "gru"}
    assert all(len(values) == 100 for values in norms.values())
    ratios = {name: values[0] / values[-1] for name, values in norms.items()}
    assert ratios == {name: first_to_last_ratio(values) for name, values in norms.items()}
    # A vanilla RNN's gradient vanishes over 100 steps; the LSTM's (forget
    # bias 1) reaches further back.
    assert ratios["simple_rnn"] < 1e-6
    assert ratios["lstm"] > 100 * ratios["simple_rnn"]
    for name, ratio in ratios.items():
        assert run.data.metrics[f"{name}_first_to_last_ratio"] == pytest.approx(ratio, rel=1e-6)
    local = Path(mlflow.artifacts.download_artifacts(run_id=result.run_id))
    assert (local / "plots" / "gradient_flow.png").read_bytes()[:4] == b"\x89PNG"
    logged = json.loads((local / "gradient_norms.json").read_text())
    assert logged["lstm"] == pytest.approx(list(norms["lstm"]))


def test_cli_gradient_flow(mlflow_store, capsys):
    from pipelines.cli import main

    assert main(["gradient-flow", "--layers", "simple_rnn", "--timesteps", "20"]) == 0
    lines = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())
    assert float(lines["simple_rnn_first_to_last_ratio"]) < 1
    with pytest.raises(SystemExit):
        main(["gradient-flow", "--layers", "transformer"])
    assert "Received layers='transformer'" in capsys.readouterr().err
