"""First uses of the window while torch loads: first Train-tab click, Start, the Import dialog
shown and filled, Import OK, Export OK (issues 24 and 17).

Targets: Import/Export OK → dialog closed < 300 ms plus the task's own time; a first tab click
or dialog open painted < 100 ms with no UI gap > 50 ms; pressing Start no gap > 50 ms. Each
scenario runs in a fresh process (tests/app/cold_start_child.py), in two orders: the Train tab
clicked first, or File → Import first. The reference, in the same run, is a bare PySide6
window with two tabs and an empty dialog (what Qt itself takes here) and its idle loop's
longest gap (the machine's noise). "max gap" is the longest gap between ticks of a 2 ms UI
timer outside the marked first import; "first-import gap" the longest while the warm-up loads
torch (busy cursor and status line showing; loading a library holds the GIL).

Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_ui_first_use.py [--repeats 1]
[--against ../main] (another checkout's cold start in the same run: before/after)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

REFERENCE = """
import json, sys, time
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QMainWindow, QTabWidget
sys.path.insert(0, sys.argv[2])
from tests.app.cold_start_child import GapMeter, paint_recorder, run_until
app = QApplication([])
window = QMainWindow()
tabs = QTabWidget()
tabs.addTab(QLabel("one"), "One")
second = QLabel("two")
tabs.addTab(second, "Two")
window.setCentralWidget(tabs)
window.resize(1400, 860)
out = {}
painted = paint_recorder(window)
start = time.perf_counter()
window.show()
run_until(lambda: bool(painted), 30)
out["window shown → painted"] = {"ms": (painted[0] - start) * 1e3}
meter = GapMeter()
painted = paint_recorder(second)
meter.begin()
start = time.perf_counter()
tabs.setCurrentWidget(second)
run_until(lambda: bool(painted), 30)
out["tab click → painted"] = {"ms": (painted[0] - start) * 1e3, **meter.end()}
dialog = QDialog(window)
painted = paint_recorder(dialog)
meter.begin()
start = time.perf_counter()
dialog.show()
run_until(lambda: bool(painted), 30)
out["dialog opened → painted"] = {"ms": (painted[0] - start) * 1e3, **meter.end()}
meter.begin()
run_until(lambda: False, 3.0)
out["idle loop, 3 s"] = meter.end()
open(sys.argv[1], "w").write(json.dumps(out))
"""


def child(args: list[str], script: str | None = None, root: Path = ROOT) -> dict:
    """One fresh process: ``script``, or ConvScope's cold-start child of the checkout at
    ``root``."""
    out = Path(tempfile.mkdtemp()) / "out.json"
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
           "PYTHONPATH": str(root), "CONVSCOPE_HOME": tempfile.mkdtemp()}
    command = ([sys.executable, "-c", script, str(out), str(root)] if script else
               [sys.executable, "-m", "tests.app.cold_start_child", str(out), *args])
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=root,
                            timeout=900, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{command[1:3]} failed:\n{result.stderr[-3000:]}")
    return json.loads(out.read_text())


def line(name: str, figures: dict) -> str:
    parts = []
    for key, label in (("ms", ""), ("filled_ms", "filled "), ("after_report_ms",
                                                              "after the report "),
                       ("click_ms", "click handled in "), ("max_gap_ms", "max gap "),
                       ("max_gap_first_import_ms", "first-import gap ")):
        if figures.get(key) is not None:
            parts.append(f"{label}{figures[key]:.0f} ms")
    return f"  {name:<42} " + " · ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--against", type=Path, default=None,
                        help="another checkout (e.g. main's): its cold start too, after each "
                        "of this one's, in the same run (before/after)")
    args = parser.parse_args()
    roots = [("ConvScope", ROOT)] + ([(f"{args.against}", args.against.resolve())]
                                     if args.against else [])
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    print(f"{os.cpu_count()} CPUs; uptime at start: {uptime.strip()}")
    for repeat in range(args.repeats):
        reference = child([], REFERENCE)
        print(f"run {repeat + 1}: reference, a bare PySide6 window, tabs and dialog")
        for name, figures in reference.items():
            print(line(name, figures))
        for order, (name, root) in ((o, r) for o in ("train-first", "import-first")
                                    for r in roots):
            result = child([order], root=root)
            print(f"run {repeat + 1}: {name}, cold start, {order}; watchdog stalls "
                  f"{len(result['stalls'])}, heavy imports on the UI thread "
                  f"{len(result['ui_thread_imports'])}, busy cursor + status seen "
                  f"{sum(1 for busy, status in result['busy_seen'] if busy and status)}/"
                  f"{len(result['busy_seen'])}")
            for name, figures in result["steps"].items():
                print(line(name, figures))
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    print(f"uptime at the end: {uptime.strip()}")


if __name__ == "__main__":
    main()
