"""Render the Inspect tab's views at 1920×1080, in normal and projector text, and the README's
time-lapse GIF.

Trains digits-small for a few epochs (on the CPU, about half a minute), opens the run and shows
every view. The normal-text shots the README uses go to docs/ (inspect-*.png); every shot,
projector text included, goes to the folder given with --out (default: a temporary folder) for
looking at. The time-lapse is made as a user makes it, with the command line: ``convscope
train`` two epochs of the default model on the bundled digits, then ``convscope render
timelapse RUN --layer conv1 -o docs/timelapse-conv1.gif``.
Run: QT_QPA_PLATFORM=offscreen python scripts/screenshots_inspect.py [--out DIR]
[--timelapse-only]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README_SHOTS = {"filters": "inspect-filters.png", "activations": "inspect-activations.png",
                "predictions": "inspect-predictions.png", "gradcam": "inspect-gradcam.png",
                "vgg16": "inspect-vgg16.png"}
TIMELAPSE = DOCS / "timelapse-conv1.gif"


def timelapse(epochs: int = 2) -> Path:
    """The README's time-lapse, with the real command line (a fresh run folder each time):
    the default model (core.presets.DEFAULT_PRESET) on its default dataset, the bundled digits."""
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cli = [sys.executable, "-m", "core.cli"]
    with tempfile.TemporaryDirectory(prefix="timelapse-") as out:
        subprocess.run([*cli, "train", "digits_small", "--epochs", str(epochs), "--device",
                        "cpu", "--out", out], check=True, env=env, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        run = next(Path(out).iterdir())
        subprocess.run([*cli, "render", "timelapse", str(run), "--layer", "conv1", "-o",
                        str(TIMELAPSE)], check=True, env=env, cwd=ROOT)
    return TIMELAPSE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp(prefix="inspect-")))
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--no-vgg", action="store_true", help="skip the VGG-16 shot")
    parser.add_argument("--vgg-only", action="store_true", help="only the VGG-16 shot")
    parser.add_argument("--timelapse-only", action="store_true",
                        help=f"only the time-lapse GIF ({TIMELAPSE.relative_to(ROOT)})")
    args = parser.parse_args()
    if not args.vgg_only:
        timelapse()
    if args.timelapse_only:
        return
    os.environ.setdefault("CONVSCOPE_HOME", tempfile.mkdtemp())
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication
    from screenshots import grab_to, wait_for_inspect

    from app.main_window import MainWindow
    from app.style import BASE_POINT_SIZE
    from core.data.datasets import load_digits_dataset
    from core.presets import load_preset
    from core.train.engine import train
    from core.train.settings import TrainingSettings

    _app = QApplication.instance() or QApplication([])  # kept alive for the whole run
    args.out.mkdir(parents=True, exist_ok=True)
    texts = () if args.vgg_only else (("normal", BASE_POINT_SIZE), ("projector", 24))
    if texts:
        settings = replace(TrainingSettings(), epochs=args.epochs, device="cpu")
        done = list(train(load_preset("digits_small"), load_digits_dataset(), settings,
                          Path(tempfile.mkdtemp())))[-1]
        run = Path(done.run_dir)  # type: ignore[attr-defined]

    def shot(window: MainWindow, name: str, text: str) -> None:
        readme = README_SHOTS.get(name) if text == "normal" else None
        grab_to(window, args.out / f"inspect-{name}-{text}.png", readme and DOCS / readme)

    for text, size in texts:
        window = MainWindow()
        window.settings.set("font_size", size)
        window.apply_view_settings()
        window.resize(1920, 1080)
        window.show()
        window.open_run(run)
        tab = window.inspect
        window.tabs.setCurrentWidget(tab)
        tab.digit_index.setValue(11)
        tab.views.setCurrentWidget(tab.view("Filters"))
        shot(window, "filters", text)
        acts = tab.view("Activations")
        tab.views.setCurrentWidget(acts)
        acts.act_layer.setCurrentText("conv2")  # type: ignore[attr-defined]
        wait_for_inspect(window)
        top, left = acts._act_mosaic.cells[3]  # type: ignore[attr-defined]
        acts._act_clicked(top, left)  # type: ignore[attr-defined]
        acts._big_clicked(4, 5)  # type: ignore[attr-defined]
        shot(window, "activations", text)
        acts.act_layer.setCurrentText("fc")  # type: ignore[attr-defined]
        shot(window, "outputs", text)
        predictions = tab.view("Predictions")
        tab.views.setCurrentWidget(predictions)
        wait_for_inspect(window)
        predictions.confusion_button.click()  # type: ignore[attr-defined]
        wait_for_inspect(window)
        cells = predictions._cells  # type: ignore[attr-defined]
        if cells:
            worst = max(cells, key=lambda cell: len(cells[cell]))
            predictions._confusion_cell(*worst)  # type: ignore[attr-defined]
        shot(window, "predictions", text)
        tab.views.setCurrentWidget(tab.view("Attributions"))
        shot(window, "gradcam", text)
        dream = tab.view("What a channel looks for")
        tab.views.setCurrentWidget(dream)
        dream.max_layer.setCurrentText("conv3")  # type: ignore[attr-defined]
        dream.max_steps.setValue(64)  # type: ignore[attr-defined]
        dream.max_run.click()  # type: ignore[attr-defined]
        shot(window, "dream", text)
        tab.views.setCurrentWidget(tab.view("How they formed"))
        shot(window, "formation", text)
        window.close()

    if not args.no_vgg:
        vgg = MainWindow(load_preset("vgg16"))
        vgg.apply_view_settings()
        vgg.resize(1920, 1080)
        vgg.show()
        vgg.tabs.setCurrentWidget(vgg.inspect)
        vgg.inspect.input_kind.setCurrentIndex(1)
        vgg.inspect.views.setCurrentIndex(1)
        vgg.inspect.view("Activations").act_layer.setCurrentText(  # type: ignore[attr-defined]
            "conv1_2")
        shot(vgg, "vgg16", "normal")
        vgg.close()


if __name__ == "__main__":
    main()
