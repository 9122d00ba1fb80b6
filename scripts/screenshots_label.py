"""Render the Label tab at 1920×1080 in normal and projector text, on scikit-image's sample
photos with a box and a painted mask (drawn as the tools draw them).

The normal-text shot the README uses goes to docs/label-tab.png; every shot goes to --out.
Run: QT_QPA_PLATFORM=offscreen python scripts/screenshots_label.py [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp(prefix="label-")))
    args = parser.parse_args()
    os.environ.setdefault("CONVSCOPE_HOME", tempfile.mkdtemp())
    sys.path.insert(0, str(ROOT))
    from PIL import Image
    from PySide6.QtWidgets import QApplication
    from skimage import data

    from app.main_window import MainWindow
    from app.style import BASE_POINT_SIZE
    from core.labels import mask_edits
    from core.labels.label_set import Box

    app = QApplication.instance() or QApplication([])
    args.out.mkdir(parents=True, exist_ok=True)
    photos = Path(tempfile.mkdtemp(prefix="photos-"))
    for name in ("chelsea", "coffee", "astronaut", "rocket", "camera"):
        Image.fromarray(getattr(data, name)()).save(photos / f"{name}.png")
    for text, size in (("normal", BASE_POINT_SIZE), ("projector", 24)):
        window = MainWindow()
        window.settings.set("font_size", size)
        window.apply_view_settings()
        window.resize(1920, 1080)
        window.show()
        window.tabs.setCurrentWidget(window.label)
        tab = window.label
        tab.open_path(photos)
        deadline = time.monotonic() + 120
        while tab.canvas.item is None and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        if not tab.labels.classes:
            tab.classes.add_named("cat")
            tab.classes.add_named("eye")
        item = tab.canvas.item
        w, h = item.width, item.height
        item.boxes = [Box(0, 0.22 * w, 0.05 * h, 0.78 * w, 0.98 * h)]
        for x, y in ((0.37, 0.45), (0.58, 0.43)):
            patch = mask_edits.stroke(item.mask_or_empty(), [(x * w, y * h)], 0.035 * w, 2)
            if patch is not None:
                tab._patch(patch)
        tab.canvas.selected = 0
        tab.canvas.refresh_overlay()
        for _ in range(100):
            app.processEvents()
            time.sleep(0.02)
        path = args.out / f"label-1920x1080-{text}.png"
        window.grab().save(str(path))
        print("wrote", path)
        if text == "normal":
            window.grab().save(str(DOCS / "label-tab.png"))
            print("wrote", DOCS / "label-tab.png")
        window.close()


if __name__ == "__main__":
    main()
