"""The MLproject entry points and the CLI agree: same names, types and defaults."""

import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

from pipelines.cli import build_parser, option_types
from pipelines.config import TrainConfig, parse_filters, parse_padding

REPO_ROOT = Path(__file__).resolve().parents[2]

MLFLOW_TYPES = {"int": {int}, "float": {float}, "string": {str, parse_filters, parse_padding}}


def load_mlproject():
    return yaml.safe_load((REPO_ROOT / "MLproject").read_text())


def train_subparser():
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices["train"]


@pytest.mark.parametrize("entry_point", ["main", "train"])
def test_every_parameter_reaches_the_option_of_the_same_name_and_type(entry_point):
    spec = load_mlproject()["entry_points"][entry_point]
    parameters, command = spec["parameters"], spec["command"]
    assert command.startswith("python -m pipelines.cli train ")
    pairs = re.findall(r"--(\w+) \{(\w+)\}", command)
    assert [option for option, _ in pairs] == [param for _, param in pairs]
    assert {param for _, param in pairs} == set(parameters)
    types = option_types()
    assert set(types) == set(parameters)
    for name, declared in parameters.items():
        assert types[name] in MLFLOW_TYPES[declared["type"]], name


@pytest.mark.parametrize("entry_point", ["main", "train"])
def test_defaults_agree_and_a_rendered_command_parses_to_the_config(entry_point):
    spec = load_mlproject()["entry_points"][entry_point]
    rendered = spec["command"].format(
        **{name: shlex.quote(str(p["default"])) for name, p in spec["parameters"].items()}
    )
    argv = shlex.split(rendered)[3:]  # drop "python -m pipelines.cli"
    args = build_parser().parse_args(argv)
    from_cli = TrainConfig(**{k: v for k, v in vars(args).items() if k != "command"})
    assert from_cli == TrainConfig()
    # Non-default values travel too, with their types.
    rendered = spec["command"].format(
        **{
            **{n: shlex.quote(str(p["default"])) for n, p in spec["parameters"].items()},
            "epochs": "3",
            "learning_rate": "0.01",
            "filters": "8,8,8",
            "padding": "2",
        }
    )
    args = build_parser().parse_args(shlex.split(rendered)[3:])
    assert (args.epochs, args.learning_rate, args.filters, args.padding) == (3, 0.01, (8, 8, 8), 2)


def test_cli_option_help_mentions_every_option():
    help_text = train_subparser().format_help()
    for name in option_types():
        assert f"--{name}" in help_text


def test_python_env_dependencies_match_pyproject():
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    python_env = yaml.safe_load((REPO_ROOT / "python_env.yaml").read_text())
    assert python_env["dependencies"] == pyproject["project"]["dependencies"]
    assert pyproject["project"]["scripts"]["convseq"] == "pipelines.cli:main"
