"""Render the Inspect tab's Masks and Boxes views at 1920×1080, in normal and projector text.

Give it a segmentation run and a detection run trained on digit scenes, e.g.
  python -m core.cli train fcn_skips_digits --dataset digit-scenes:n=8000 --epochs 10 --out /tmp/r
  python -m core.cli train grid_detector_digits --dataset digit-scenes:n=3000 --epochs 7 \
      --out /tmp/r
It opens each run (as File → Open Trained Run does), shows a test scene of the run's own dataset,
scores the test split (on the worker, waiting for it), shows the scene in the middle of the
ranking (a typical one) and grabs the window. The normal-text shots
the README uses go to docs/ (seg-masks-view.png, det-boxes-view.png); every shot goes to --out.
Run: QT_QPA_PLATFORM=offscreen python scripts/screenshots_scenes.py SEG_RUN DET_RUN [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README_SHOTS = {"masks": "seg-masks-view.png", "boxes": "det-boxes-view.png"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seg_run", type=Path, help="a segmentation run folder")
    parser.add_argument("det_run", type=Path, help="a detection run folder")
    parser.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp(prefix="scenes-")))
    parser.add_argument("--scene", type=int, default=3, help="the run's test scene to show")
    parser.add_argument("--normal-only", action="store_true")
    parser.add_argument("--only", choices=("masks", "boxes"), help="one of the two views")
    args = parser.parse_args()
    os.environ.setdefault("CONVSCOPE_HOME", tempfile.mkdtemp())
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication
    from screenshots import grab_to, wait_for_inspect

    from app.main_window import MainWindow
    from app.style import BASE_POINT_SIZE

    _app = QApplication.instance() or QApplication([])  # kept alive for the whole run
    args.out.mkdir(parents=True, exist_ok=True)

    def shot(window: MainWindow, name: str, text: str) -> None:
        readme = README_SHOTS.get(name) if text == "normal" else None
        grab_to(window, args.out / f"{name}-{text}.png", readme and DOCS / readme)

    texts = [("normal", BASE_POINT_SIZE)] + ([] if args.normal_only else [("projector", 24)])
    for text, size in texts:
        for name, run, title in (("masks", args.seg_run, "Masks"),
                                 ("boxes", args.det_run, "Boxes")):
            if args.only not in (None, name):
                continue
            window = MainWindow()
            window.settings.set("font_size", size)
            window.apply_view_settings()
            window.resize(1920, 1080)
            window.show()
            window.open_run(run)
            tab = window.inspect
            window.tabs.setCurrentWidget(tab)
            view = tab.view(title)
            tab.views.setCurrentWidget(view)
            tab.input_kind.setCurrentIndex(3)  # the run's test image
            tab.run_index.setValue(args.scene)
            wait_for_inspect(window)
            view.score_button.click()  # type: ignore[attr-defined]
            wait_for_inspect(window)
            ranking = view.ranking  # type: ignore[attr-defined]
            ranking.setCurrentRow(ranking.count() // 2)  # a typical scene, not the worst
            shot(window, name, text)
            window.close()


if __name__ == "__main__":
    main()
