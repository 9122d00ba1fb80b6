"""ResNet-152's diagram with its 50 bottleneck blocks grouped (collapsed) beside ungrouped: an
edit → repainted window, and opening / closing one group (the double-click).

Target (issue 19): an edit → repainted window < 16 ms median on ResNet-152; groups must not
make it slower. Prints both medians side by side, their ratio, and the load average.
Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_diagram_groups.py [edits]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER = "layer4_0_conv2"


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["CONVSCOPE_HOME"] = tempfile.mkdtemp()
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import igraph  # noqa: F401  (the layered layout, loaded as the app's warm-up does)
    from bench_edit_repaint import resnet152_file
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from core.model.groups import group_layers

    edits = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    window.resize(1920, 1080)
    window.show()
    window.open_file(resnet152_file(Path(tempfile.mkdtemp())), ask=False)
    document, view = window.document, window.diagram

    def settle() -> None:
        app.processEvents()
        app.processEvents()

    def edit_times() -> list[float]:
        times = []
        for i in range(edits):
            document.select(LAYER)
            settle()
            start = time.perf_counter()
            document.set_param(LAYER, "bias", i % 2 == 0)
            settle()
            times.append(time.perf_counter() - start)
        return times

    settle()
    plain = edit_times()
    spec = document.spec
    blocks: dict[str, list[str]] = {}
    for layer in spec.layers:
        parts = layer.name.split("_")
        if len(parts) >= 3 and parts[0].startswith("layer"):
            blocks.setdefault("_".join(parts[:2]), []).append(layer.name)
    grouped = spec
    for name, members in blocks.items():
        if name != "layer4_0":  # the edited block stays open
            grouped = group_layers(grouped, members, f"g_{name}")
    document.apply(grouped, "Group every block")
    settle()
    with_groups = edit_times()
    toggles = []
    for i in range(edits):
        start = time.perf_counter()  # open by the group's block, close by one of its layers
        assert view.editor.toggle_group("g_layer3_10" if i % 2 == 0 else "layer3_10_conv1")
        settle()
        toggles.append(time.perf_counter() - start)
    load = os.getloadavg()
    med = statistics.median
    print(f"ResNet-152 ({len(spec.layers)} layers), 1920×1080, {edits} edits; "
          f"{len(grouped.groups)} groups collapsed into {len(view.blocks)} blocks; load average "
          f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs")
    print(f"  edit → painted, no groups:   median {med(plain) * 1e3:6.1f} ms")
    print(f"  edit → painted, with groups: median {med(with_groups) * 1e3:6.1f} ms "
          f"(ratio {med(with_groups) / med(plain):.2f}×)")
    print(f"  open / close one group (double-click): median {med(toggles) * 1e3:6.1f} ms")
    document.undo_stack.setClean()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
