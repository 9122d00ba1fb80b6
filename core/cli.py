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
        "Without a command, opens the window.",
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from app.main import run_gui

        return run_gui(args)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
