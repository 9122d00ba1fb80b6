"""The ``convscope`` command: the window without a sub-command, core's commands otherwise.

It lives in app/ because it may open the window; core.cli stays Qt-free and runs headless.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from core.cli import main as cli_main

    def gui(args: object) -> int:
        from app.main import run_gui

        return run_gui(args)  # type: ignore[arg-type]

    return cli_main(argv, gui=gui)


if __name__ == "__main__":
    sys.exit(main())
