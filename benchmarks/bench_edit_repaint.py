"""An edit on ResNet-152 → the window repainted by the event loop, beside a forced full repaint.

Target (issue 24): edit → repaint ≤ 1.5× a forced repaint of the whole window and < 16 ms
median. Four kinds of edit, each made through the document with the edited layer selected (as
the property editor makes them), alternated with the edit that undoes it: a value that keeps
every shape (a conv's bias), one that changes the shapes below it (a conv's out_channels), a
rename, and deleting a layer (its undo inserts it again). Each edit's time runs from the call
to the end of the event loop's layout and paint; the forced full repaint is measured between
the edits, in the same run: every visible widget is updated and the event loop paints them, as
it paints an edit. (``window.repaint()``, the reference until 2026-12-03, is printed beside it:
Qt repaints the window's own widgets with it but not the contents of its scroll areas, the
layer table, the diagram, the properties and the palette, so it measured ~2.5 of a full
repaint's ~18 ms.) The UI thread's CPU time is printed beside the
wall clock (what a shared machine inflates least), and so is the load average.

The edits start once the app's warm-up (torch and the other libraries imported on a worker
after the first paint, a marked busy moment) has ended: while it imports, the worker holds the
GIL in long stretches and an edit's figure measured the import, not the edit (the medians of
2026-12-02 were 2-3x the edits' own). ``--during-warm-up`` measures from the first paint on,
as before.
Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_edit_repaint.py [edits per kind]
[--during-warm-up]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER = "layer3_17_conv2"


def resnet152_file(folder: Path) -> Path:
    """ResNet-152 written by the preset generator (515 layers), as a model file."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from make_presets import resnet

    path = folder / "resnet152.json"
    path.write_text(json.dumps(resnet(152)), encoding="utf-8")
    return path


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["CONVSCOPE_HOME"] = tempfile.mkdtemp()
    sys.path.insert(0, str(ROOT))
    import igraph  # noqa: F401  (the diagram's layered layout, loaded as the app's warm-up does)
    from PySide6.QtWidgets import QApplication, QWidget

    from app.main_window import MainWindow

    numbers = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    edits = int(numbers[0]) if numbers else 30
    during_warm_up = "--during-warm-up" in sys.argv
    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    window.resize(1920, 1080)
    window.show()
    window.open_file(resnet152_file(Path(tempfile.mkdtemp())), ask=False)
    document = window.document
    for _ in range(5):
        app.processEvents()
    if not during_warm_up:
        from app import warm_up

        start = time.perf_counter()
        warm_up.start()  # (started by the first paint already; this only makes sure)
        while not warm_up.is_ready() and time.perf_counter() - start < 120:
            app.processEvents()
            time.sleep(0.005)
        for _ in range(5):
            app.processEvents()
        print(f"warm-up ended {time.perf_counter() - start:.1f} s after the model was shown; "
              "the edits start now")

    def settle() -> None:
        app.processEvents()  # the event loop's layout and paint of what the edit changed
        app.processEvents()  # anything the first pass posted (delayed layouts)

    state = {"i": 0}

    def value() -> None:
        document.set_param(LAYER, "bias", state["i"] % 2 == 0)

    def shapes() -> None:
        document.set_param(LAYER, "out_channels", 256 + 8 * (state["i"] % 2 == 0))

    def rename() -> None:
        old, new = (LAYER, "renamed") if state["i"] % 2 == 0 else ("renamed", LAYER)
        document.rename_layer(old, new)

    def delete() -> None:
        if state["i"] % 2 == 0:
            document.remove_layers(["layer3_17_relu1"])
        else:
            document.undo_stack.undo()

    kinds: dict[str, Callable[[], None]] = {
        "a value that keeps every shape (bias)": value,
        "a value that changes shapes below (out_channels)": shapes,
        "rename": rename,
        "delete a layer / undo it": delete,
    }
    load = os.getloadavg()
    print(f"ResNet-152 ({len(document.spec.layers)} layers), 1920×1080, {edits} edits per kind; "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs")
    for label, edit in kinds.items():
        wall: list[float] = []
        cpu: list[float] = []
        full: list[float] = []
        full_cpu: list[float] = []
        chrome: list[float] = []
        chrome_cpu: list[float] = []
        for i in range(edits):
            state["i"] = i
            document.select("layer3_17_relu1" if edit is delete and i % 2 == 0 else
                            "renamed" if edit is rename and i % 2 else LAYER)
            settle()
            start, used = time.perf_counter(), time.thread_time()
            edit()
            settle()
            wall.append(time.perf_counter() - start)
            cpu.append(time.thread_time() - used)
            shown = [w for w in window.findChildren(QWidget) if w.isVisible()]
            start, used = time.perf_counter(), time.thread_time()
            for widget in shown:
                widget.update()
            settle()
            full.append(time.perf_counter() - start)
            full_cpu.append(time.thread_time() - used)
            start, used = time.perf_counter(), time.thread_time()
            window.repaint()
            chrome.append(time.perf_counter() - start)
            chrome_cpu.append(time.thread_time() - used)
        median = statistics.median
        ratio, cpu_ratio = median(wall) / median(full), median(cpu) / median(full_cpu)
        print(f"  {label}:\n    edit → painted: wall median {median(wall) * 1e3:5.1f} ms (p95 "
              f"{sorted(wall)[int(0.95 * len(wall))] * 1e3:5.1f}), UI CPU "
              f"{median(cpu) * 1e3:5.1f} ms\n    forced full repaint: wall "
              f"{median(full) * 1e3:5.1f} ms, UI CPU {median(full_cpu) * 1e3:5.1f} ms\n"
              f"    ratio: wall {ratio:.2f}×, UI CPU {cpu_ratio:.2f}×\n"
              f"    window.repaint() (not the scroll areas' contents): wall "
              f"{median(chrome) * 1e3:5.1f} ms, UI CPU {median(chrome_cpu) * 1e3:5.1f} ms; "
              f"ratio wall {median(wall) / median(chrome):.2f}×, UI CPU "
              f"{median(cpu) / median(chrome_cpu):.2f}×")
    load = os.getloadavg()
    print(f"load average after: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    document.undo_stack.setClean()
    sys.stdout.flush()
    os._exit(0)  # the figures are out; skip tearing down the window and its warm-up thread


if __name__ == "__main__":
    main()
