"""The MLproject entry points and the CLI agree: same names, types and defaults."""

import dataclasses
import re
import shlex
import tomllib
import typing
from pathlib import Path

import pytest
import yaml

from pipelines.cli import COMMANDS, build_parser

REPO_ROOT = Path(__file__).resolve().parents[2]
MLFLOW_TYPES = {"int": "int", "float": "float"}  # every other option is an MLflow string


def mlflow_types(config_class) -> dict[str, str]:
    """The MLflow parameter type of each option: int, float or string (parsed by the option)."""
    hints = typing.get_type_hints(config_class)
    return {
        field.name: MLFLOW_TYPES.get(getattr(hints[field.name], "__name__", ""), "string")
        for field in dataclasses.fields(config_class)
    }


ENTRY_POINTS = yaml.safe_load((REPO_ROOT / "MLproject").read_text())["entry_points"]


def command_of(entry_point):
    command = ENTRY_POINTS[entry_point]["command"]
    prefix = "python -m pipelines.cli "
    assert command.startswith(prefix)
    return command, command[len(prefix) :].split()[0]


# Parameters without a default (mlflow run requires them), with example values.
REQUIRED = {
    "run_id": "0123abcd",
    "model": "exports/m/1",
    "input": "texts.txt",
    "images": "queries",
    "item": "17",
}


def render(entry_point, **overrides):
    spec = ENTRY_POINTS[entry_point]
    values = {
        name: str(p["default"]) if "default" in p else REQUIRED[name]
        for name, p in spec["parameters"].items()
    }
    values.update(overrides)
    command, _ = command_of(entry_point)
    rendered = command.format(**{k: shlex.quote(v) for k, v in values.items()})
    return shlex.split(rendered)[3:]  # drop "python -m pipelines.cli"


def test_the_main_entry_point_trains():
    assert set(ENTRY_POINTS) == {
        "main",
        "train",
        "tune",
        "export",
        "predict",
        "search",
        "recommend",
        "gradient_flow",
    }
    assert ENTRY_POINTS["main"] == ENTRY_POINTS["train"]


@pytest.mark.parametrize("entry_point", sorted(ENTRY_POINTS))
def test_every_parameter_reaches_the_option_of_the_same_name_and_type(entry_point):
    parameters = ENTRY_POINTS[entry_point]["parameters"]
    command, subcommand = command_of(entry_point)
    pairs = re.findall(r"--(\w+) \{(\w+)\}", command)
    assert [option for option, _ in pairs] == [param for _, param in pairs]
    assert {param for _, param in pairs} == set(parameters)
    types = mlflow_types(COMMANDS[subcommand].config_class)
    assert set(types) == set(parameters)
    for name, declared in parameters.items():
        assert types[name] == declared["type"], name


@pytest.mark.parametrize("entry_point", sorted(ENTRY_POINTS))
def test_defaults_agree_with_the_config(entry_point):
    _, subcommand = command_of(entry_point)
    args = vars(build_parser().parse_args(render(entry_point)))
    config_class = COMMANDS[subcommand].config_class
    required = {k: v for k, v in REQUIRED.items() if k in ENTRY_POINTS[entry_point]["parameters"]}
    options = {k: v for k, v in args.items() if k not in ("command", "verbose")}
    assert config_class(**options) == config_class(**required)


def _config_of(entry_point, **overrides):
    args = vars(build_parser().parse_args(render(entry_point, **overrides)))
    _, subcommand = command_of(entry_point)
    options = {k: v for k, v in args.items() if k not in ("command", "verbose")}
    return COMMANDS[subcommand].config_class(**options)


def test_non_default_values_travel_with_their_types():
    config = _config_of(
        "train", epochs="3", learning_rate="0.01", filters="8,8,8", padding="2", clipnorm="1.5"
    )
    assert (config.epochs, config.learning_rate, config.filters, config.padding) == (
        3,
        0.01,
        (8, 8, 8),
        2,
    )
    assert config.clipnorm == 1.5
    config = _config_of("gradient_flow", layers="lstm", timesteps="150")
    assert (config.layers, config.timesteps) == (("lstm",), 150)


def test_python_env_dependencies_match_pyproject():
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    python_env = yaml.safe_load((REPO_ROOT / "python_env.yaml").read_text())
    assert python_env["dependencies"] == pyproject["project"]["dependencies"]
    assert pyproject["project"]["scripts"]["convseq"] == "pipelines.cli:main"
