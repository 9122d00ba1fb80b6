"""Render the layout matrix to pictures: every page × screen × text size × theme.

The states are the ones tests/app/test_layout_matrix.py checks (same walk, same checks): a trained
digits_small run open, the RGB lesson on the Classroom tab, the theme and text size set through
the View menu, presentation mode entered from the Classroom and left again. Each picture is the
whole window; the faults the checks find are printed beside it and written to faults.txt.

    QT_QPA_PLATFORM=offscreen python scripts/layout_matrix.py OUT [--screen 1920x1080 ...]
        [--text normal projector present] [--theme light dark] [--readme]

--readme also copies the README's layout pictures (docs/layout-*.png) from the matrix.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
LESSON = "rgb_minus_25"
"""The lesson the Classroom shows: an RGB input, the widest step-through."""
SCREENS = {"1366x768": (1366, 768), "1920x1080": (1920, 1080), "2560x1440": (2560, 1440)}
README_PICTURES = {
    # docs name: (screen, text, theme, page)
    "layout-build-1366x768.png": ("1366x768", "normal", "light", "Build"),
    "layout-train-1920x1080-projector.png": ("1920x1080", "projector", "light", "Train"),
    "layout-inspect-1920x1080-dark.png": ("1920x1080", "normal", "dark", "Inspect / Activations"),
    "layout-classroom-1920x1080-present.png": ("1920x1080", "present", "light", "Classroom"),
    "layout-classroom-1920x1080-projector.png": ("1920x1080", "projector", "light",
                                                 "Classroom / lesson"),
}


def _screen_config(width: int, height: int) -> None:
    """Offscreen Qt's screen is 800×800; give it the matrix's largest (before QApplication)."""
    if os.environ.get("QT_QPA_PLATFORM", "offscreen") != "offscreen":
        return
    config = Path(tempfile.mkdtemp()) / "screen.json"
    config.write_text(json.dumps({"screens": [{
        "name": "matrix", "x": 0, "y": 0, "width": width, "height": height,
        "logicalDpi": 96, "logicalDpiX": 96, "logicalDpiY": 96}]}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"


def _trained_run(folder: Path) -> Path:
    from core.data.datasets import load_digits_dataset
    from core.presets import load_preset
    from core.train.engine import train
    from core.train.settings import Finished, TrainingSettings

    settings = TrainingSettings(epochs=1, batch_size=32, device="cpu", snapshots=False,
                                live_filters_every=0)
    done = list(train(load_preset("digits_small"), load_digits_dataset(), settings, folder))[-1]
    assert isinstance(done, Finished), done
    return Path(done.run_dir)


def _slug(page: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", page.lower()).strip("-")


def render(out: Path, screens: list[str], texts: list[str], themes: list[str]) -> dict[
        tuple[str, str, str, str], Path]:
    sys.path.insert(0, str(ROOT))
    _screen_config(*max(SCREENS[s] for s in screens))
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    run = _trained_run(Path(tempfile.mkdtemp()))

    def wait(done: Any) -> None:
        while not done():
            app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)

    shots: dict[tuple[str, str, str, str], Path] = {}
    report: list[str] = []
    for screen in screens:
        for text in texts:
            for theme in themes:
                faults = _render_state(out, run, wait, (screen, text, theme), shots)
                report.append(f"## {screen} · {text} · {theme}: {len(faults)} fault(s)")
                report.extend(f"- {f}" for f in faults)
    (out / "faults.txt").write_text("\n".join(report) + "\n", encoding="utf-8")
    print("wrote", out / "faults.txt")
    return shots


def _render_state(out: Path, run: Path, wait: Any, state: tuple[str, str, str],
                  shots: dict[tuple[str, str, str, str], Path]) -> list[str]:
    """One window in one state of the matrix: every page's picture; the faults found."""
    from PySide6.QtCore import QRect, Qt

    from app.main_window import MainWindow
    from tests.app.layout_checks import (
        every_fault,
        menus_off_screen,
        settle,
        settle_classroom,
        walk_pages,
    )
    from tests.app.window_driver import menu_action

    screen, text, theme = state
    width, height = SCREENS[screen]
    # each state from the default settings: one shared folder kept the last state's theme and
    # text size, so a "light" state opened dark and Dark Theme then turned it light
    os.environ["CONVSCOPE_HOME"] = tempfile.mkdtemp()
    window = MainWindow()
    window.available_screen = lambda: QRect(0, 0, width, height)  # type: ignore[method-assign]
    window.resize(width, height)
    window.show()
    window.apply_view_settings()  # as app.main.run_gui does (the default settings here)
    settle()
    window.open_run(run)  # what Build, Train and Inspect show; the lessons come after
    if theme == "dark":
        menu_action(window, "View → Dark Theme").trigger()
    if text == "projector":
        menu_action(window, "View → Projector Text (24 pt)").trigger()
    settle()
    folder = out / f"{screen}-{text}-{theme}"
    folder.mkdir(parents=True, exist_ok=True)
    faults = menus_off_screen(window.menuBar(), QRect(0, 0, width, height))

    def shoot(page: str, seen: str) -> None:
        path = folder / f"{len(list(folder.iterdir())):02d}-{_slug(seen + ' ' + page)}.png"
        window.grab().save(str(path))
        shots[(screen, seen, theme, page)] = path
        found = every_fault(window)
        faults.extend(f"{seen} · {page}: {f}" for f in found)
        print(f"{path.relative_to(out)}: {len(found)} fault(s)")

    seen = text
    if text == "present":
        window.classroom.open_lesson(LESSON)  # a class is shown a lesson
        settle_classroom(window, wait)
        menu_action(window, "View → Present").trigger()
        window.setWindowState(Qt.WindowState.WindowNoState)
        window.setGeometry(QRect(0, 0, width, height))
        settle_classroom(window, wait)
        shoot("Classroom", "present")
        window.classroom.present.key(Qt.Key.Key_Escape)
        settle()
        seen = "after present"
    for page in walk_pages(window, wait, lesson=LESSON if text != "present" else None):
        shoot(page, seen)
    window.classroom.stop()
    window.close()
    window.deleteLater()
    from PySide6.QtWidgets import QApplication

    from app.style import BASE_POINT_SIZE, apply_theme

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, False, BASE_POINT_SIZE)  # the next state starts from the defaults
    settle()
    return faults


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--screen", nargs="+", default=list(SCREENS), choices=list(SCREENS))
    parser.add_argument("--text", nargs="+", default=["normal", "projector", "present"],
                        choices=["normal", "projector", "present"])
    parser.add_argument("--theme", nargs="+", default=["light", "dark"],
                        choices=["light", "dark"])
    parser.add_argument("--readme", action="store_true",
                        help="copy the README's layout pictures into docs/ from the matrix")
    args = parser.parse_args()
    shots = render(args.out, args.screen, args.text, args.theme)
    if args.readme:
        for name, key in README_PICTURES.items():
            if key in shots:
                shutil.copyfile(shots[key], DOCS / name)
                print("wrote", DOCS / name)


if __name__ == "__main__":
    main()
