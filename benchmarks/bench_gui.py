"""The builder window's speed and footprint: edit-to-repaint and start-up to first paint.

Targets (issue 12 §2): an edit in the property editor → repainted window under 16 ms median on
ResNet-152 (515 layers, built from its model file), and linear in the layer count (stacks of
100, 500 and 1,000 layers); the main window paints without importing torch (asserted in the
start-up child process at its first paint: the warm-up, app.warm_up, imports torch on a worker
right after it, by design) and without pyqtgraph (issue 24; printed), with its memory at first
paint beside an empty PySide6 window's.
Each figure is printed beside its reference measured in the same run: the bare analysis and a
forced repaint of the whole window for edits, an empty PySide6 window for start-up; the
machine's load average is printed before and after. The edits are measured once the warm-up's
modules are loaded (as the window is seconds after start-up).
Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui.py [--only first-paint]
[--repeats 7] [--against ../main] (another checkout's window in the same run: before/after)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

FIRST_PAINT = """
import resource, sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QLabel
app = QApplication([])
if sys.argv[1] == "convscope":
    from app.main_window import MainWindow
    w = MainWindow()
    w.apply_view_settings()
else:
    w = QMainWindow(); w.setCentralWidget(QLabel("empty"))
w.show()
w.repaint()
assert "torch" not in sys.modules, "torch was imported before the first paint"
print("PAINTED", flush=True)
# at the first paint, before the event loop turns: the warm-up (started by a zero-time timer
# after the paint) has not begun loading torch yet
rss = int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize()
print("RSS", rss, "PYQTGRAPH", "pyqtgraph" in sys.modules, flush=True)
import os
os._exit(0)  # measured; the warm-up never started (the event loop did not turn)
"""


def first_paint(kind: str, root: Path = ROOT) -> tuple[float, float, bool]:
    """Seconds to first paint, resident memory (MB) at it, and whether pyqtgraph was imported
    by then, of a fresh process (ConvScope from the checkout at ``root``)."""
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
           "CONVSCOPE_HOME": tempfile.mkdtemp(), "PYTHONPATH": str(root)}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", FIRST_PAINT, kind], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=root)
    assert proc.stdout is not None and proc.stderr is not None
    elapsed, lines = 0.0, []
    for line in proc.stdout:  # as it is printed: the time of the paint, not of the exit
        if line.startswith("PAINTED"):
            elapsed = time.perf_counter() - start  # upper bound: includes reading the pipe
        lines.append(line)
    err = proc.stderr.read()
    if proc.wait() != 0 or not elapsed:
        raise SystemExit(f"start-up check failed for {kind}:\n{err}")
    rss, plots = 0.0, False
    for line in lines:
        if line.startswith("RSS"):
            rss = int(line.split()[1]) / 1e6
            plots = line.split()[3] == "True"
    return elapsed, rss, plots


def resnet152_file(folder: Path) -> Path:
    """ResNet-152 written by the preset generator (515 layers), as a model file."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from make_presets import resnet

    path = folder / "resnet152.json"
    path.write_text(json.dumps(resnet(152)), encoding="utf-8")
    return path


def stack_file(folder: Path, layers: int) -> Path:
    """A plain stack of ``layers`` layers: 3×3 convolutions (padding 1) and ReLUs."""
    body: list[dict[str, Any]] = []
    for i in range(layers):
        body.append({"type": "Conv2d", "out_channels": 16, "kernel_size": 3, "padding": 1}
                    if i % 2 == 0 else {"type": "ReLU"})
    path = folder / f"stack{layers}.json"
    path.write_text(json.dumps({"format": "convscope.model/1", "name": f"stack-{layers}",
                                "input": {"shape": [3, 32, 32]}, "layers": body}))
    return path


def edit_latency(path: Path, layer: str, edits: int = 40) -> dict[str, list[float]]:
    """Per out_channels edit in the property editor: ``frame`` = the edit and the event loop's
    repaint of what it changed (wall clock), ``cpu`` = the same in the UI thread's CPU time (what
    a busy, shared machine inflates least), ``full`` = a forced synchronous repaint of the whole
    window after it, and ``analysis`` = a fresh analysis of the spec alone."""
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from app.warm_up import _import_all
    from core.analysis.model_analysis import analyze_model

    app = QApplication.instance() or QApplication([])
    _import_all()  # what the warm-up loads seconds after start-up: not inside the edits
    window = MainWindow()
    window.resize(1920, 1080)
    window.show()
    window.open_file(path, ask=False)
    window.document.select(layer)
    for _ in range(5):
        app.processEvents()
    box = window.editor.fields["out_channels"].widget  # type: ignore[union-attr]
    row = window.document.spec.index(layer)
    times: dict[str, list[float]] = {"frame": [], "cpu": [], "full": [], "analysis": []}
    base = box.value()
    for i in range(edits):
        value = base + (i % 2) * 8
        start, cpu = time.perf_counter(), time.thread_time()
        box.setValue(value)  # the property editor's spin box: edit → analysis → views
        app.processEvents()  # the event loop paints what the edit changed
        times["frame"].append(time.perf_counter() - start)
        times["cpu"].append(time.thread_time() - cpu)
        assert window.table.table_model.index(row, 4).data().startswith(f"{value}×")
        start = time.perf_counter()
        window.repaint()
        times["full"].append(time.perf_counter() - start)
        start = time.perf_counter()
        analyze_model(window.document.spec)
        times["analysis"].append(time.perf_counter() - start)
        app.processEvents()
    window.document.undo_stack.setClean()
    window.close()
    while window.closing.clean is None:  # the window ends its jobs before it closes
        app.processEvents()
        time.sleep(0.01)
    window.deleteLater()
    app.processEvents()
    return times


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    return (f"median {statistics.median(values) * 1e3:6.1f} ms, p95 "
            f"{ordered[int(0.95 * len(ordered))] * 1e3:6.1f} ms, max {max(values) * 1e3:6.1f} ms")


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("first-paint", "edits"), default=None)
    parser.add_argument("--repeats", type=int, default=3,
                        help="fresh processes per start-up figure (median; default 3)")
    parser.add_argument("--against", type=Path, default=None,
                        help="another checkout (e.g. main's) whose window starts in the same "
                        "run, alternating with this one's: a before/after figure")
    args = parser.parse_args()
    only = args.only
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["CONVSCOPE_HOME"] = tempfile.mkdtemp()
    sys.path.insert(0, str(ROOT))
    print("load average (1, 5, 15 min) before: " + " ".join(f"{v:.2f}" for v in os.getloadavg()))
    if only != "edits":
        start_up(only, args.repeats, args.against)
    if only != "first-paint":
        edits()


def start_up(only: str | None, repeats: int = 3, against: Path | None = None) -> None:
    convscope, empty, other = [], [], []
    for _ in range(repeats):  # alternating, so a change of load touches both alike
        convscope.append(first_paint("convscope"))
        empty.append(first_paint("empty"))
        if against is not None:
            other.append(first_paint("convscope", against.resolve()))
    paint = statistics.median(t for t, _, _ in convscope)
    reference = statistics.median(t for t, _, _ in empty)
    print(f"start-up to first paint (median of {repeats} fresh processes; torch not imported: "
          "asserted)")
    print(f"  ConvScope main window (default preset): {paint:.2f} s, memory at first paint "
          f"{statistics.median(m for _, m, _ in convscope):.0f} MB, pyqtgraph imported: "
          f"{any(p for _, _, p in convscope)}")
    print(f"  empty PySide6 window:                   {reference:.2f} s, memory "
          f"{statistics.median(m for _, m, _ in empty):.0f} MB")
    print(f"  ratio {paint / reference:.1f}× (target ≤ 3×)")
    if other:
        before = statistics.median(t for t, _, _ in other)
        print(f"  {against} (alternating with the above): {before:.2f} s, memory "
              f"{statistics.median(m for _, m, _ in other):.0f} MB, pyqtgraph imported: "
              f"{any(p for _, _, p in other)}; ratio {before / reference:.1f}×")
    print("  Python writes no bytecode cache (PYTHONDONTWRITEBYTECODE: every start compiles "
          "the app's modules)" if sys.flags.dont_write_bytecode else
          "  with Python's bytecode cache (as an installed app starts after its first run)")
    if only == "first-paint":
        print("load average (1, 5, 15 min) after: "
              + " ".join(f"{v:.2f}" for v in os.getloadavg()))


def edits() -> None:
    folder = Path(tempfile.mkdtemp())
    median = statistics.median
    print("edit in the property editor → window repainted by the event loop, 1920×1080, 40 edits")
    times = edit_latency(resnet152_file(folder), "layer3_17_conv2")
    print(f"  ResNet-152 (515 layers): wall {_ms(times['frame'])}; "
          f"{median(times['frame']) / median(times['full']):.1f}× a forced full repaint "
          "(target ≤ 1.5×, < 16 ms median)")
    print(f"    UI-thread CPU median {median(times['cpu']) * 1e3:.1f} ms; forced repaint of the "
          f"whole window median {median(times['full']) * 1e3:.1f} ms; a fresh analysis alone "
          f"median {median(times['analysis']) * 1e3:.1f} ms")
    per_layer = {}
    for layers in (100, 500, 1000):
        times = edit_latency(stack_file(folder, layers), f"conv{layers // 4}")
        per_layer[layers] = median(times["cpu"]) / layers * 1e6
        print(f"  stack of {layers:4d} layers: wall {_ms(times['frame'])}; UI-thread CPU median "
              f"{median(times['cpu']) * 1e3:.1f} ms; fresh analysis "
              f"{median(times['analysis']) * 1e3:.1f} ms")
    print("  UI-thread CPU per layer: " + ", ".join(
        f"{n} layers {v:.1f} µs" for n, v in per_layer.items()))
    print("load average (1, 5, 15 min) after: " + " ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
