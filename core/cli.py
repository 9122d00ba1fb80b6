"""The ``convscope`` command: the GUI without arguments, sub-commands for headless work."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from core.model.errors import ModelError

USAGE_ERROR = 2


def _fail(message: str) -> int:
    print(f"convscope: {message}", file=sys.stderr)
    return USAGE_ERROR


def _resolve_model(source: str) -> Path:
    """A model file path, or a bundled preset's file when ``source`` names one."""
    from core.presets import find_preset

    path = Path(source)
    if path.exists() or path.suffix == ".json":
        return path
    return find_preset(source).path


def _summary(args: argparse.Namespace) -> int:
    from core.analysis.model_analysis import analyze_model
    from core.analysis.summary import format_markdown, format_table, summary_dict
    from core.model.spec import load_model

    try:
        spec = load_model(_resolve_model(args.model))
    except ModelError as exc:
        return _fail(str(exc))
    analysis = analyze_model(spec)
    if analysis.error is not None:
        if not args.json and not args.markdown:
            sys.stdout.write(format_table(analysis))
        return _fail(str(analysis.error))
    if args.json:
        print(json.dumps(summary_dict(analysis), indent=1))
    elif args.markdown:
        sys.stdout.write(format_markdown(analysis))
    else:
        sys.stdout.write(format_table(analysis))
    return 0


def _presets(args: argparse.Namespace) -> int:
    from core.presets import list_presets

    for preset in list_presets():
        print(f"{preset.key:18} {preset.description}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="convscope",
        description="Build, train and look inside convolutional neural networks. "
        "Without a command, opens the window (convscope [MODEL.json] opens a model in it).",
    )
    commands = parser.add_subparsers(dest="command")
    summary = commands.add_parser(
        "summary", help="print a model's layers, output shapes, parameters and MACs"
    )
    summary.add_argument("model", help="a model file (.json) or a preset name, e.g. resnet18")
    out = summary.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the summary as JSON")
    out.add_argument("--markdown", action="store_true", help="print a Markdown table")
    summary.set_defaults(run=_summary)
    presets = commands.add_parser("presets", help="list the bundled preset models")
    presets.set_defaults(run=_presets)
    return parser


COMMANDS = ("summary", "presets")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    model_file = None
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        model_file = argv.pop(0)  # convscope MODEL.json opens it in the window
    parser = _parser()
    args = parser.parse_args(argv)
    args.model_file = model_file
    if args.command is None:
        from app.main import run_gui

        return run_gui(args)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
