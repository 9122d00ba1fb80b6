"""Boxes: a grid detector's boxes (class and score) over the input with the ground truth in
white, score-threshold and NMS-IoU sliders that redraw from the cached raw output, the grid's
objectness heat map (what the detector "thinks" before NMS), per-class AP with the mAP figures,
a precision–recall curve, and the test scenes with the most misses first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
)

from app.image_pane import ImagePane
from app.inspect.base import Context, InspectView, ViewHost
from app.inspect.masks import SummaryText, ranking_list, shown_from_list
from app.plot_text import scale_plot_text

if TYPE_CHECKING:
    from app.workers import Task


PICTURE_TITLE = "predicted boxes coloured (class score), truth white"
PR_RANGE = ((0.0, 1.0), (0.0, 1.02))
"""The precision–recall plot's axes (recall, precision), also once emptied."""


class BoxesView(InspectView):
    title = "Boxes"

    def __init__(self, tab: ViewHost) -> None:
        super().__init__(tab)
        self.picture = ImagePane(PICTURE_TITLE, colorbar=False)
        self.heat = ImagePane("objectness per grid cell (before NMS)")
        self.score = self._slider(30)
        self.nms = self._slider(50)
        self.readout = QLabel()
        sliders = QHBoxLayout()
        for name, slider in (("score ≥", self.score), ("NMS IoU", self.nms)):
            sliders.addWidget(QLabel(name))
            sliders.addWidget(slider, 1)
        sliders.addWidget(self.readout)
        self.curves = pg.PlotWidget(title="precision–recall at IoU 0.5 (test scenes)")
        self.curves.setLabel("bottom", "recall")
        self.curves.setLabel("left", "precision")
        self.curves.setRange(xRange=PR_RANGE[0], yRange=PR_RANGE[1], padding=0)
        # 0, 0.5, 1 always; quarters where they fit (projector text squeezed six labels
        # into the plot's height until they overlapped)
        for name in ("left", "bottom"):
            self.curves.getAxis(name).setTicks([[(v, f"{v:g}") for v in (0.0, 0.5, 1.0)],
                                                [(v, f"{v:g}") for v in (0.25, 0.75)]])
        self.curves.addLegend(offset=(-10, -10))
        self.score_button = QPushButton("Score the test scenes")
        self.score_button.setToolTip("Run every test scene once: mAP, per-class AP, the PR "
                                     "curve and the scenes with the most misses")
        self.score_button.clicked.connect(self._score)
        self.summary = SummaryText("Score the test scenes for AP, the PR curve and the misses.")
        self.ranking = ranking_list()
        self.ranking.currentRowChanged.connect(self._show_ranked)
        export = QPushButton("Export PNG…")
        export.clicked.connect(self._export)
        pictures = QHBoxLayout()
        pictures.addWidget(self.picture, 3)
        pictures.addWidget(self.heat, 2)
        left = QVBoxLayout()
        left.addLayout(pictures, 3)
        left.addLayout(sliders)
        left.addWidget(self.curves, 2)
        side = QVBoxLayout()
        side.addWidget(self.score_button)
        side.addWidget(self.summary)
        side.addWidget(self.ranking, 1)
        side.addWidget(export)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addLayout(side, 1)
        self._current: dict[str, Any] | None = None
        self._scored: dict[str, Any] | None = None
        self._style_curves()

    def _style_curves(self) -> None:
        """The PR plot's title, ticks, axis labels and legend at the window's text size, as
        the Train tab's curves (pyqtgraph does not follow the application font)."""
        scale_plot_text(self.curves.getPlotItem(), max(8, self.font().pointSize()), self.font())

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if hasattr(self, "curves") and event.type() == QEvent.Type.FontChange:
            self._style_curves()

    def _slider(self, value: int) -> QSlider:
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(1, 99)
        slider.setValue(value)
        slider.valueChanged.connect(self._thresholds_changed)
        return slider

    def thresholds(self) -> tuple[float, float]:
        return self.score.value() / 100, self.nms.value() / 100

    def reset(self) -> None:
        self.picture.clear_picture()  # not clear(): that drops the plot from the pane
        self.picture.set_title(PICTURE_TITLE)
        self.heat.clear_picture()
        self.curves.clear()
        self.curves.setRange(xRange=PR_RANGE[0], yRange=PR_RANGE[1], padding=0)
        self.ranking.clear()
        self.readout.setText("")
        self._current, self._scored = None, None
        self.summary.setText("Score the test scenes for AP, the PR curve and the misses.")

    # -- the tab's input --------------------------------------------------------------------
    def parameters(self) -> Any:
        return self.thresholds()

    def compute(self, context: Context, parameters: Any, task: Task) -> Any:
        return boxes_for_input(context, parameters)

    def show_result(self, result: Any, parameters: Any) -> None:
        self._current = result
        scene = result.get("scene")  # a scene picked from the ranking, not the tab's input
        self.picture.set_title(PICTURE_TITLE if scene is None else f"test scene {scene} (from "
                               "the list): predicted coloured, truth white")
        self.picture.show_map(result["picture"] / 255)
        if scene is not None and self._scored is not None:
            self.tab.name_shown(shown_from_list(self._scored["dataset"], scene))
        self.heat.show_map(result["objectness"], (0.0, 1.0), "magma")
        self.readout.setText(f"{result['count']} boxes · score {parameters[0]:.2f} · NMS "
                             f"{parameters[1]:.2f}")

    def _thresholds_changed(self) -> None:
        """Redraw from the cached raw output (decode + NMS of one image, on the worker)."""
        if self._current is None:
            return
        self.tab.run(self, "boxes-redraw", redraw_boxes, (self._current, self.thresholds()),
                     lambda result, p: self.show_result(result, p[1]), uses_input=False,
                     label="redrawing…")

    # -- the test split ---------------------------------------------------------------------
    def _score(self) -> None:
        dataset = self.tab.input_dataset()
        self.tab.run(self, "boxes-score", score_test_boxes, (dataset, self.thresholds()),
                     self._scored_ready, uses_input=False,
                     label=f"detecting in the test scenes of {dataset}…")

    def _scored_ready(self, result: dict[str, Any], parameters: Any) -> None:
        self._scored = {**result, "dataset": parameters[0]}
        scores = result["scores"]
        self.curves.clear()
        for i, (name, (recall, precision)) in enumerate(scores.curves.items()):
            self.curves.plot(recall, precision, pen=pg.mkPen(pg.intColor(i, 10), width=2),
                             name=name)
        legend = self.curves.getPlotItem().legend
        if legend is not None:  # two rows at most: a column of ten hid most of the curves
            legend.setColumnCount(max(1, (len(scores.curves) + 1) // 2))
        coco = result["coco"]
        per_class = ", ".join(f"{name} {coco.get(f'ap_{name}', float('nan')):.2f}"
                              for name in result["classes"])
        ap11 = ", ".join(f"{name} {value:.2f}" for name, value in scores.ap11.items())
        mean11 = np.mean(list(scores.ap11.values())) if scores.ap11 else float("nan")
        self.summary.setText(
            f"<b>{parameters[0]}</b>: mAP@0.5 <b>{coco['map50']:.3f}</b>, mAP@[.5:.95] "
            f"<b>{coco['map']:.3f}</b> (COCO, torchmetrics); per-class AP {per_class}.<br>"
            f"11-point interpolated AP (the lectures' VOC 2007 rule) {mean11:.3f}: {ap11}.")
        self.ranking.blockSignals(True)
        self.ranking.clear()
        for n in scores.order:
            self.ranking.addItem(f"scene {n}: {scores.misses[n]} misses / false alarms")
        self.ranking.blockSignals(False)
        if scores.order:
            self.ranking.setCurrentRow(0)

    def _show_ranked(self, row: int) -> None:
        if self._scored is None or row < 0:
            return
        n = self._scored["scores"].order[row]
        current = {"display": self._scored["images"][n].astype(np.float32) / 255,
                   "raw": self._scored["scores"].raw[n], "truth": self._scored["truths"][n],
                   "classes": self._scored["classes"], "scene": n}
        self._current = current
        self.tab.run(self, "boxes-redraw", redraw_boxes, (current, self.thresholds()),
                     lambda result, p: self.show_result(result, p[1]), uses_input=False,
                     label="drawing…")

    # -- export -----------------------------------------------------------------------------
    def _export(self) -> None:
        if self._current is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export boxes", "boxes.png", "PNG (*.png)")
        if path:
            self.export_to(path)

    def export_to(self, path: str, size: tuple[int, int] = (1600, 900)) -> Any:
        assert self._current is not None
        return self.tab.run(self, "boxes-export", export_boxes,
                            (path, size, self._current, self.thresholds()),
                            lambda _r, _p: None, uses_input=False, label="exporting…")


def _drawn(current: dict[str, Any], thresholds: tuple[float, float]) -> dict[str, Any]:
    from core.inspect.scenes import boxes_picture, detect, objectness_map

    raw = current["raw"]
    size = current["display"].shape[1:]
    found = detect(raw, (int(size[0]), int(size[1])), *thresholds)
    picture = boxes_picture(current["display"], found, current["classes"], current["truth"])
    return {**current, "picture": picture, "objectness": objectness_map(raw),
            "count": len(found.boxes)}


def boxes_for_input(context: Context, thresholds: tuple[float, float]) -> dict[str, Any]:
    """On the worker: the raw output of the tab's input (kept for redraws) and its drawing."""
    from core.inspect.scenes import check_detector, raw_output

    inspector = context.inspector
    check_detector(inspector)
    inp = context.input()
    raw = raw_output(inspector, inp.tensor)[0]
    return _drawn({"display": inp.display, "raw": raw, "truth": _run_truth(context),
                   "classes": list(inspector.classes)}, thresholds)


def redraw_boxes(context: Context, parameters: Any, task: Task) -> dict[str, Any]:
    current, thresholds = parameters
    return _drawn(current, thresholds)


def _run_truth(context: Context) -> tuple[np.ndarray, np.ndarray] | None:
    from core.inspect.inputs import RUN_SOURCE, run_split_item
    from core.tasks.detection import ground_truth

    if not context.source.startswith(RUN_SOURCE):
        return None
    _dataset, _split, part, index = run_split_item(context.source,
                                                   context.inspector.spec.input_shape)
    if part.boxes is None:
        return None
    b, labels = ground_truth(part.boxes[index])
    return b.numpy(), labels.numpy()


def score_test_boxes(context: Context, parameters: Any, task: Task) -> dict[str, Any]:
    """On the worker: the test split once — COCO mAP, 11-point AP, PR curves, misses."""
    from core.data.datasets import load_dataset
    from core.inspect.scenes import check_detector, score_boxes
    from core.tasks.detection import DetectionMetrics, ground_truth

    dataset, (score, nms) = parameters
    inspector = context.inspector
    check_detector(inspector)  # before loading a dataset it could not score
    data = load_dataset(dataset, inspector.spec.input_shape, download=False)
    task.check()
    scores = score_boxes(inspector, data, inspector.preparer(data), score, nms,
                         progress=task.progress)
    task.check()
    metrics = DetectionMetrics(list(data.classes), data.image_shape[1:])
    assert data.test.boxes is not None and scores.raw is not None
    metrics.update(scores.raw, data.test.boxes)
    truths = [tuple(t.numpy() for t in ground_truth(b)) for b in data.test.boxes]
    return {"scores": scores, "coco": metrics.compute(), "images": data.test.images.numpy(),
            "truths": truths, "classes": list(data.classes)}


def export_boxes(context: Context, parameters: Any, task: Task) -> str:
    from pathlib import Path

    from core.inspect import render
    from core.inspect.render_scenes import boxes_figure

    path, size, current, thresholds = parameters
    drawn = _drawn(current, thresholds)
    notes = [context.inspector.weights_note,
             f"{drawn['count']} boxes at score ≥ {thresholds[0]:.2f} after NMS at IoU "
             f"{thresholds[1]:.2f}; score = objectness × class probability"]
    fig = boxes_figure(drawn["picture"], drawn["objectness"],
                       f"{context.inspector.spec.name} · boxes", notes, size)
    return str(render.save_png(fig, Path(path)))
