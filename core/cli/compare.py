"""``convscope compare``: two or more run folders side by side in one picture (curves, final
metrics, confusion matrices and their difference, first filters), ``--json`` the numbers."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from core.cli.common import fail
from core.model.errors import ModelError


def run(args: argparse.Namespace) -> int:
    from core.inspect.compare import read_runs
    from core.inspect.compare_render import comparison_figure
    from core.inspect.render import save_png
    from core.train.preflight import MemoryRefused

    output = Path(args.output) if args.output else None
    if output is None and not args.json:
        return fail("give -o FILE.png for the picture, --json for the numbers, or both")
    if output is not None:
        if output.is_dir():
            return fail(f"-o {output} is a folder; give a file name ending in .png")
        if output.suffix.lower() != ".png":
            return fail(f"-o {output}: the output is a PNG image; use a name ending in .png")
    names = [n.strip() for n in args.name.split(",")] if args.name else None
    try:
        comparison = read_runs([Path(r) for r in args.runs], names,
                               confusion=not args.no_confusion)
        if output is not None:
            save_png(comparison_figure(comparison, args.title or ""), output)
    except MemoryRefused as exc:
        return fail(str(exc))
    except (ModelError, OSError) as exc:
        return fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    if args.json:
        print(json.dumps(comparison.to_json(), indent=1))
    elif output is not None:
        print(f"wrote {output}")
    return 0


def add_parser(commands: Any) -> None:
    """The sub-command and its arguments, on the dispatcher's sub-parsers."""
    compare = commands.add_parser(
        "compare", help="two or more training runs side by side: curves, final metrics, "
        "confusion matrices and first filters")
    compare.add_argument("runs", nargs="+", metavar="RUN",
                         help="run folders written by convscope train (two or more, same task)")
    compare.add_argument("-o", "--output", help="the picture to write (.png)")
    compare.add_argument("--json", action="store_true",
                         help="print the numbers (curves, final metrics, confusion) as JSON")
    compare.add_argument("--name", help="the runs' names in the legend, comma-separated "
                         "(default: their folder names)")
    compare.add_argument("--title", help="the picture's title")
    compare.add_argument("--no-confusion", action="store_true",
                         help="skip the confusion matrices (they run each model on the "
                         "validation split)")
    compare.set_defaults(run=run)
