"""The floors import downward only: common <- data, models <- pipelines; baselines read data."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# package -> top-level names its modules must never import
FORBIDDEN = {
    "common": {"data", "models", "pipelines", "tensorflow", "keras", "numpy", "mlflow"},
    "data": {"models", "pipelines"},
    "models": {"data", "pipelines"},
    "baselines": {"models", "pipelines"},
}


def imported_roots(source: str, module: str) -> set[str]:
    """Top-level package names imported anywhere in ``source`` (lazy imports included)."""
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing module
                base = module.split(".")[: -node.level]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module
            roots.add(name.split(".")[0])
    return roots


def modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield ".".join(parts), path


def test_every_package_has_modules_to_check():
    counts = {package: len(list(modules(package))) for package in FORBIDDEN}
    assert counts["common"] >= 4 and counts["data"] >= 10 and counts["models"] >= 15


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_downward(package):
    violations = [
        f"{module} imports {sorted(roots)}"
        for module, path in modules(package)
        if (roots := imported_roots(path.read_text(encoding="utf-8"), module) & FORBIDDEN[package])
    ]
    assert violations == []


def test_checker_sees_every_kind_of_import():
    source = (
        "import data.sources\n"
        "from pipelines import cli\n"
        "def f():\n"
        "    from ..data import specs\n"
        "    import keras as k\n"
        "from . import geometry\n"
    )
    assert imported_roots(source, "models.layers.conv") == {
        "data",
        "pipelines",
        "keras",
        "models",
    }


def test_common_imports_no_heavy_library():
    code = (
        "import sys, common.network, common.padding, common.recurrent, common.validation; "
        "heavy = {'tensorflow', 'keras', 'numpy', 'mlflow'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
