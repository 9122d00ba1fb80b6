"""The ``convscope`` command: the GUI without arguments, sub-commands for headless work.

This package's modules are one sub-command each (its arguments and its body); this module only
assembles their parsers and dispatches.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from core.cli import (
    compare,
    export_model,
    import_model,
    lesson,
    presets,
    render,
    step,
    summary,
    train,
)
from core.cli.common import USAGE_ERROR, Parser

__all__ = ["COMMANDS", "USAGE_ERROR", "main"]

_SUB_COMMANDS = (summary, train, render, import_model, export_model, step, lesson, presets,
                 compare)
"""In the order ``convscope --help`` lists them."""


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="convscope",
        description="Build, train and look inside convolutional neural networks. "
        "Without a command, opens the window (convscope [MODEL.json] opens a model in it).",
    )
    commands = parser.add_subparsers(dest="command", parser_class=Parser)
    for command in _SUB_COMMANDS:
        command.add_parser(commands)
    return parser


COMMANDS: tuple[str, ...] = ("summary", "presets", "train", "render", "import", "export")
COMMANDS += ("step", "lesson")  # the classroom (issue 9)
COMMANDS += ("compare",)  # runs side by side (issue 21)


def main(argv: Sequence[str] | None = None,
         gui: Callable[[argparse.Namespace], int] | None = None) -> int:
    """Run a command; without one, open the window through ``gui`` (given by app.launcher)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    model_file = None
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        model_file = argv.pop(0)  # convscope MODEL.json opens it in the window
    parser = _parser()
    args = parser.parse_args(argv)
    args.model_file = model_file
    if args.command is None:
        if gui is None:
            parser.print_help()
            return USAGE_ERROR
        return gui(args)
    code = args.run(args)
    assert isinstance(code, int)
    return code
