import json
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from pipelines.cli import main
from pipelines.gradient_flow import GradientFlowConfig, first_to_last_ratio, gradient_flow


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
    assert main(["gradient-flow", "--layers", "simple_rnn", "--timesteps", "20"]) == 0
    lines = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())
    assert float(lines["simple_rnn_first_to_last_ratio"]) < 1
    with pytest.raises(SystemExit):
        main(["gradient-flow", "--layers", "transformer"])
    assert "Received layers='transformer'" in capsys.readouterr().err
