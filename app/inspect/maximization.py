"""What a channel looks for: activation maximisation (gradient ascent on the input from
noise), started by a button, with progress and Cancel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from app.image_pane import GREY, ImagePane
from app.inspect.base import Context, InspectView, ViewHost, fill_combo
from core.analysis.model_analysis import ModelAnalysis

if TYPE_CHECKING:
    from app.workers import Task, Worker

KEY = "maximize"


def compute_maximization(context: Context, parameters: tuple[str, int, int], task: Task) -> Any:
    layer, channel, steps = parameters
    return context.inspector.maximize(layer, channel, steps, progress=task.progress)


class MaximizationView(InspectView):
    title = "What a channel looks for"
    uses_input = False
    automatic = False

    def __init__(self, tab: ViewHost) -> None:
        super().__init__(tab)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.max_layer = QComboBox()
        self.max_channel = QSpinBox()
        self.max_channel.setPrefix("channel ")
        self.max_steps = QSpinBox()
        self.max_steps.setRange(8, 2000)
        self.max_steps.setValue(128)
        self.max_steps.setSuffix(" steps")
        self.max_run = QPushButton("Dream")
        self.max_run.clicked.connect(self._maximize)
        self.max_cancel = QPushButton("Cancel")
        self.max_cancel.setEnabled(False)
        self.max_cancel.clicked.connect(self._cancel)
        for w in (QLabel("layer"), self.max_layer, self.max_channel, self.max_steps,
                  self.max_run, self.max_cancel):
            row.addWidget(w)
        row.addStretch(1)
        self.max_pane = ImagePane("an input that excites the channel (gradient ascent from "
                                  "noise, with jitter and blur)", colorbar=False)
        layout.addLayout(row)
        layout.addWidget(self.max_pane, 1)
        self.max_layer.currentTextChanged.connect(self._layer_changed)
        self._analysis: ModelAnalysis | None = None
        self._worker: Worker | None = None

    def fill_layers(self, analysis: ModelAnalysis) -> None:
        self._analysis = analysis
        fill_combo(self.max_layer, [info.name for info in analysis.layers
                                    if len(info.output_shape) in (1, 3)])
        self._layer_changed(self.max_layer.currentText())

    def _layer_changed(self, layer: str) -> None:
        info = self._analysis.get(layer) if self._analysis and layer else None
        if info is not None:
            self.max_channel.setRange(0, info.output_shape[0] - 1)

    def reset(self) -> None:
        self.max_pane.clear_picture()

    def _maximize(self) -> None:
        parameters = (self.max_layer.currentText(), self.max_channel.value(),
                      self.max_steps.value())
        worker = self.tab.run(self, KEY, compute_maximization, parameters, self._show,
                              uses_input=False, label="dreaming…")
        worker.finished.connect(self._finished)
        self._worker = worker
        self.max_run.setEnabled(False)
        self.max_cancel.setEnabled(True)

    def _show(self, image: Any, parameters: Any) -> None:
        if image.shape[0] == 3:
            self.max_pane.show_map(image.transpose(1, 2, 0))
        else:
            self.max_pane.show_map(image[0], (0.0, 1.0), GREY)

    def _finished(self) -> None:
        if self.sender() is self._worker:
            self._buttons_idle()

    def _cancel(self) -> None:
        self.tab.queue.cancel(KEY)
        self._buttons_idle()

    def _buttons_idle(self) -> None:
        self.max_run.setEnabled(True)
        self.max_cancel.setEnabled(False)
        self._worker = None
