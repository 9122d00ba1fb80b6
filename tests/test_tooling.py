"""The project's own rules, checked on every CI run: layering, lint and types."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> str:
    path = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return path


def test_import_contracts_hold() -> None:
    """The import-linter contracts in pyproject.toml: core/ imports no Qt, pyqtgraph or app;
    no package's modules import each other in a circle; core's and app's layers import only
    downwards."""
    result = subprocess.run([_tool("lint-imports")], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout[-2000:]


def test_ruff_is_clean() -> None:
    result = subprocess.run([_tool("ruff"), "check", "core", "app", "tests", "benchmarks",
                             "scripts"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:]


def test_core_and_app_type_check() -> None:
    """mypy over pyproject's files: core/ strictly, app/ with every function body checked (a
    window attribute that no longer exists is a crash a user finds)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert {"core", "app"} <= set(config["files"]) and config["strict"]
    app = next(o for o in config["overrides"] if o["module"] == ["app.*"])
    assert app["check_untyped_defs"] and "follow_imports" not in app and "ignore_errors" not in app
    result = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout[-3000:]
