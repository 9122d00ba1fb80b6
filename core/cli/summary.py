"""``convscope summary``: a model's layers, shapes, parameters and MACs (text, Markdown, JSON)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from core.cli.common import fail, resolve_model
from core.model.errors import ModelError


def run(args: argparse.Namespace) -> int:
    from core.analysis.model_analysis import analyze_model
    from core.analysis.summary import format_markdown, format_table, summary_dict
    from core.model.spec import load_model

    try:
        spec = load_model(resolve_model(args.model))
    except ModelError as exc:
        return fail(str(exc))
    analysis = analyze_model(spec)
    if analysis.error is not None:
        if not args.json and not args.markdown:
            sys.stdout.write(format_table(analysis))
        return fail(str(analysis.error))
    if args.json:
        print(json.dumps(summary_dict(analysis), indent=1))
    elif args.markdown:
        sys.stdout.write(format_markdown(analysis))
    else:
        sys.stdout.write(format_table(analysis))
    return 0


def add_parser(commands: Any) -> None:
    """The sub-command and its arguments, on the dispatcher's sub-parsers."""
    summary = commands.add_parser(
        "summary", help="print a model's layers, output shapes, parameters and MACs"
    )
    summary.add_argument("model", help="a model file (.json) or a preset name, e.g. resnet18")
    out = summary.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the summary as JSON")
    out.add_argument("--markdown", action="store_true", help="print a Markdown table")
    summary.set_defaults(run=run)
