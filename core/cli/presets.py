"""``convscope presets``: the bundled preset models."""

from __future__ import annotations

import argparse
from typing import Any


def run(args: argparse.Namespace) -> int:
    from core.presets import list_presets

    for preset in list_presets():
        print(f"{preset.key:18} {preset.description}")
    return 0


def add_parser(commands: Any) -> None:
    """The sub-command and its arguments, on the dispatcher's sub-parsers."""
    presets = commands.add_parser("presets", help="list the bundled preset models")
    presets.set_defaults(run=run)
