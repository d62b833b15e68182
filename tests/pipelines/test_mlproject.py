"""The MLproject entry points and the CLI agree: same names, types and defaults."""

import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

from pipelines.cli import COMMANDS, build_parser, option_types
from pipelines.config import (
    parse_bool,
    parse_columns,
    parse_device,
    parse_filters,
    parse_padding,
    parse_precision,
    parse_task,
)
from pipelines.gradient_flow import parse_layers
from pipelines.tune_config import parse_paddings

REPO_ROOT = Path(__file__).resolve().parents[2]
MLFLOW_TYPES = {
    "int": {int},
    "float": {float},
    "string": {
        str,
        parse_bool,
        parse_columns,
        parse_filters,
        parse_padding,
        parse_layers,
        parse_task,
        parse_paddings,
        parse_device,
        parse_precision,
    },
}
ENTRY_POINTS = yaml.safe_load((REPO_ROOT / "MLproject").read_text())["entry_points"]


def command_of(entry_point):
    command = ENTRY_POINTS[entry_point]["command"]
    prefix = "python -m pipelines.cli "
    assert command.startswith(prefix)
    return command, command[len(prefix) :].split()[0]


# Parameters without a default (mlflow run requires them), with example values.
REQUIRED = {"run_id": "0123abcd", "model": "exports/m/1", "input": "texts.txt"}


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
    assert set(ENTRY_POINTS) == {"main", "train", "tune", "export", "predict", "gradient_flow"}
    assert ENTRY_POINTS["main"] == ENTRY_POINTS["train"]


@pytest.mark.parametrize("entry_point", sorted(ENTRY_POINTS))
def test_every_parameter_reaches_the_option_of_the_same_name_and_type(entry_point):
    parameters = ENTRY_POINTS[entry_point]["parameters"]
    command, subcommand = command_of(entry_point)
    pairs = re.findall(r"--(\w+) \{(\w+)\}", command)
    assert [option for option, _ in pairs] == [param for _, param in pairs]
    assert {param for _, param in pairs} == set(parameters)
    types = option_types(COMMANDS[subcommand].config_class)
    assert set(types) == set(parameters)
    for name, declared in parameters.items():
        assert types[name] in MLFLOW_TYPES[declared["type"]], name


@pytest.mark.parametrize("entry_point", sorted(ENTRY_POINTS))
def test_defaults_agree_with_the_config(entry_point):
    _, subcommand = command_of(entry_point)
    args = build_parser().parse_args(render(entry_point))
    config_class = COMMANDS[subcommand].config_class
    required = {k: v for k, v in REQUIRED.items() if k in ENTRY_POINTS[entry_point]["parameters"]}
    assert config_class(**{k: v for k, v in vars(args).items() if k != "command"}) == (
        config_class(**required)
    )


def test_non_default_values_travel_with_their_types():
    args = build_parser().parse_args(
        render(
            "train", epochs="3", learning_rate="0.01", filters="8,8,8", padding="2", clipnorm="1.5"
        )
    )
    assert (args.epochs, args.learning_rate, args.filters, args.padding, args.clipnorm) == (
        3,
        0.01,
        (8, 8, 8),
        2,
        1.5,
    )
    args = build_parser().parse_args(render("gradient_flow", layers="lstm", timesteps="150"))
    assert (args.layers, args.timesteps) == (("lstm",), 150)


def test_python_env_dependencies_match_pyproject():
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    python_env = yaml.safe_load((REPO_ROOT / "python_env.yaml").read_text())
    assert python_env["dependencies"] == pyproject["project"]["dependencies"]
    assert pyproject["project"]["scripts"]["convseq"] == "pipelines.cli:main"
