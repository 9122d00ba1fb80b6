"""core/ never imports Qt or the GUI, and importing it does not import torch either."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import core


def test_core_imports_no_qt_and_plain_core_no_torch() -> None:
    modules = [m.name for m in pkgutil.walk_packages(core.__path__, "core.")]
    code = (
        "import sys, core\n"
        "assert 'torch' not in sys.modules, 'import core pulled in torch'\n"
        f"for name in {modules!r}: __import__(name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'app')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
