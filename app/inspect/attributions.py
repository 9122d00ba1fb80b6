"""Attributions: which parts of the input a class score depends on (Grad-CAM, saliency,
occlusion), drawn over the input by the same function as ``convscope render``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout

from app.image_pane import ImagePane
from app.inspect.base import Context, InspectView, ViewHost, fill_combo
from core.analysis.model_analysis import ModelAnalysis

if TYPE_CHECKING:
    from app.workers import Task

METHODS = ("Grad-CAM", "saliency", "occlusion")
AUTOMATIC = "automatic"


def spatial_layers(analysis: ModelAnalysis) -> list[str]:
    """Layers whose output is still a 2-D map (what Grad-CAM can look at)."""
    return [info.name for info in analysis.layers
            if len(info.output_shape) == 3 and info.output_shape[1] * info.output_shape[2] > 1]


def compute_attribution(context: Context, parameters: tuple[str, int | None, str],
                        task: Task) -> dict[str, Any]:
    """On the worker: the heat map (0..1 at the input's size), its class and what it shows."""
    method, target, layer = parameters
    inspector = context.inspector
    inp = context.input()
    if method == "Grad-CAM":
        heat, cls, used = inspector.gradcam(inp, target, None if layer == AUTOMATIC else layer)
        note = f"Grad-CAM on {used}" + (" (chosen automatically)" if layer == AUTOMATIC else "")
    elif method == "saliency":
        heat, cls = inspector.saliency(inp, target)
        note = "saliency |∂score/∂input|"
    else:
        heat, cls = inspector.occlusion(inp, target, progress=task.progress)
        note = "score drop when a patch is hidden"
    label = inspector.classes[cls] if cls < len(inspector.classes) else str(cls)
    empty = not np.any(heat > 0)
    return {"display": inp.display, "heat": heat, "class": label, "note": note,
            "empty": empty, "method": method}


class AttributionsView(InspectView):
    title = "Attributions"

    def __init__(self, tab: ViewHost) -> None:
        super().__init__(tab)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.attr_method = QComboBox()
        self.attr_method.addItems(METHODS)
        self.attr_layer = QComboBox()
        self.attr_layer.setToolTip("The layer Grad-CAM weighs by its gradients; automatic: "
                                   "the last spatial layer whose gradients are not all zero")
        self.attr_target = QSpinBox()
        self.attr_target.setRange(-1, 9999)
        self.attr_target.setSpecialValueText("predicted class")
        self.attr_target.setValue(-1)
        self.attr_note = QLabel()
        self.attr_note.setWordWrap(True)
        self.layer_label = QLabel("layer")
        for w in (QLabel("method"), self.attr_method, self.layer_label, self.attr_layer,
                  QLabel("class"), self.attr_target):
            row.addWidget(w)
        row.addWidget(self.attr_note, 1)
        self.attr_method.currentIndexChanged.connect(self._method_changed)
        self.attr_layer.currentTextChanged.connect(lambda _t: self.refresh())
        self.attr_target.valueChanged.connect(lambda _v: self.refresh())
        self.attr_input = ImagePane("input", colorbar=False)
        self.attr_pane = ImagePane("attribution over the input (bright: important)",
                                   colorbar=False)
        panes = QHBoxLayout()
        panes.addWidget(self.attr_input)
        panes.addWidget(self.attr_pane)
        layout.addLayout(row)
        layout.addLayout(panes, 1)
        layout.addLayout(self.export_row("attributions"))
        self._attr: dict[str, Any] | None = None

    def _method_changed(self) -> None:
        grad_cam = self.attr_method.currentText() == "Grad-CAM"
        self.attr_layer.setVisible(grad_cam)
        self.layer_label.setVisible(grad_cam)
        self.refresh()

    def fill_layers(self, analysis: ModelAnalysis) -> None:
        fill_combo(self.attr_layer, [AUTOMATIC, *reversed(spatial_layers(analysis))])

    def reset(self) -> None:
        self.attr_input.clear_picture()
        self.attr_pane.clear_picture()
        self.attr_note.setText("")
        self._attr = None

    def parameters(self) -> tuple[str, int | None, str]:
        target = None if self.attr_target.value() < 0 else self.attr_target.value()
        return self.attr_method.currentText(), target, self.attr_layer.currentText() or AUTOMATIC

    def compute(self, context: Context, parameters: Any, task: Task) -> Any:
        return compute_attribution(context, parameters, task)

    def show_result(self, result: Any, parameters: Any) -> None:
        from core.inspect.render import overlay_rgb

        display = result["display"]
        picture = display.transpose(1, 2, 0) if display.shape[0] == 3 else \
            np.repeat(display[0][..., None], 3, axis=2)
        self.attr_input.show_map(picture)
        self.attr_pane.show_map(overlay_rgb(display, result["heat"]))
        text = f"{result['note']}, for class {result['class']}"
        if result["empty"]:
            text = (f"<span style='color:#b45309'>The map is empty: no part of the input "
                    f"raises the score of class {result['class']} ({result['note']}). Try "
                    f"another layer or class.</span>")
        self.attr_note.setText(text)
        self._attr = result
