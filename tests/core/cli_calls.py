"""The command line called in-process, as the CLI tests call it: exit code, stdout, stderr."""

from __future__ import annotations

import pytest

from core.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``convscope ARGV...``: the exit code and what it printed to stdout and stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str) -> str:
    """``err`` after checking it is a refusal: exit 2 and one ``convscope: `` line."""
    assert code == 2
    assert err.startswith("convscope: ") and err.count("\n") == 1, err
    return err
