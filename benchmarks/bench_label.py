"""Label tab speed: a frame while brushing, panning and zoomed in on a 4,000×3,000 photo
(target < 16 ms), and one suggestion for a 1,024×768 image with a small FCN (target < 1 s on a
CPU). Prints each figure beside its target and the machine's load.

Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_label.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _median_ms(step, repeat: int = 30) -> float:  # type: ignore[no-untyped-def]
    times = []
    for i in range(repeat):
        start = time.perf_counter()
        step(i)
        times.append((time.perf_counter() - start) * 1e3)
    return sorted(times)[len(times) // 2]


def main() -> None:
    import numpy as np
    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QApplication

    from app.label.canvas import LabelCanvas, pyramid
    from core.labels import mask_edits
    from core.labels.label_set import ImageLabels

    app = QApplication.instance() or QApplication([])
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 255, (3000, 4000, 3), dtype=np.uint8)
    item = ImageLabels("photo.jpg", 3000, 4000)
    canvas = LabelCanvas()
    canvas.resize(1600, 900)
    canvas.show()
    canvas.set_colours([(230, 25, 75), (60, 180, 75)])
    canvas.show_image(item, pyramid(photo))
    app.processEvents()

    def brush(i: int) -> None:
        centre = canvas.to_image(QPointF(800, 450))
        x, y = centre.x() - 300 / canvas.zoom + 20 * i / canvas.zoom, centre.y()
        patch = mask_edits.stroke(item.mask_or_empty(), [(x, y), (x + 20 / canvas.zoom, y)],
                                  canvas.brush_px / 2 / canvas.zoom, 1 + i % 2)
        assert patch is not None
        patch.apply(item.mask_or_empty())
        canvas.refresh_overlay(patch.rect)
        canvas.repaint()

    def pan(i: int) -> None:
        canvas.offset += QPointF(3 if i % 2 else -3, 2)
        canvas.repaint()

    rows = [("brush stroke + frame, whole photo", _median_ms(brush))]
    rows.append(("pan frame, whole photo", _median_ms(pan)))
    canvas.zoom_at(4.0, QPointF(800, 450))
    rows.append(("brush stroke + frame, zoomed in", _median_ms(brush)))
    rows.append(("pan frame, zoomed in", _median_ms(pan)))
    load = os.getloadavg()
    print(f"machine load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    print(f"{'4,000×3,000 photo, 1600×900 canvas':40} {'median ms':>10} {'target':>8} "
          f"{'ratio':>6}")
    for name, ms in rows:
        print(f"{name:40} {ms:10.1f} {16:8} {ms / 16:6.2f}")

    from core.labels.suggest import model_helper, suggest
    from core.presets import load_preset

    helper = model_helper(load_preset("fcn_small"), None, None)
    image = rng.integers(0, 255, (768, 1024, 3), dtype=np.uint8)
    suggest(helper, image)  # warm
    ms = _median_ms(lambda _i: suggest(helper, image), 5)
    print(f"{'suggest 1,024×768, fcn_small, CPU':40} {ms:10.1f} {1000:8} {ms / 1000:6.2f}")


if __name__ == "__main__":
    main()
