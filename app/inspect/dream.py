"""DeepDream from the chosen input (a digit, a sample photo, an image file, a run's image):
the layer or one channel to excite, octaves, steps and jitter; run on the worker with
progress and Cancel; the start and the dream side by side, and a plain word when the weights
are random."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
)

from app.image_pane import GREY, ImagePane
from app.inspect.base import Context, InspectView, ViewHost, fill_combo
from app.inspect.run_buttons import RunButtons
from core.analysis.model_analysis import ModelAnalysis
from core.inspect.layer_choices import default_dream_layer, feature_map_layers

if TYPE_CHECKING:
    from app.workers import Task

KEY = "dream"
NORM = -1
"""The channel box's value for "the layer's norm" (every unit, not one channel)."""


@dataclass(frozen=True)
class Dreamt:
    """A finished dream with what it was made from (for the figure ``render dream`` writes)."""

    dream: Any
    """core.inspect.dream.Dream"""
    settings: Any
    """core.inspect.dream.DreamSettings"""
    start: Any
    """core.inspect.inputs.ModelInput"""

    @property
    def notes(self) -> list[str]:
        return list(self.dream.notes)

    def figure(self, model_name: str) -> Any:
        from core.inspect.render_dream import dream_picture

        return dream_picture(model_name, self.dream, self.settings, self.start)


def compute_dream(context: Context, parameters: tuple[Any, ...], task: Task) -> Dreamt:
    from core.inspect.dream import DreamSettings, deep_dream

    layer, channel, octaves, scale, steps, jitter = parameters
    settings = DreamSettings(layer, None if channel == NORM else channel, octaves, scale,
                             steps, jitter=jitter)
    start = context.input()
    return Dreamt(deep_dream(context.inspector, start, settings, progress=task.progress,
                             check=task.check), settings, start)


def show_picture(pane: ImagePane, image: Any) -> None:
    """A (C, H, W) image in 0–1 on ``pane``: in colour for 3 channels, else grey."""
    if image.shape[0] == 3:
        pane.show_map(image.transpose(1, 2, 0).clip(0, 1))
    else:
        pane.show_map(image[0], (0.0, 1.0), GREY)


class DreamView(InspectView):
    title = "Dream"
    uses_input = True
    automatic = False

    def __init__(self, tab: ViewHost) -> None:
        super().__init__(tab)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.layer = QComboBox()
        self.channel = QSpinBox()
        self.channel.setPrefix("channel ")
        self.channel.setMinimum(NORM)
        self.channel.setSpecialValueText("the layer's norm")
        self.channel.setToolTip("Excite one channel (its mean), or the whole layer (the mean "
                                "square of every unit, the original DeepDream)")
        self.octaves = QSpinBox()
        self.octaves.setRange(1, 8)
        self.octaves.setValue(3)
        self.octaves.setSuffix(" octaves")
        self.scale = QDoubleSpinBox()
        self.scale.setRange(1.1, 4.0)
        self.scale.setSingleStep(0.1)
        self.scale.setValue(1.4)
        self.scale.setPrefix("× ")
        self.scale.setToolTip("Size ratio between octaves (coarse to fine)")
        self.steps = QSpinBox()
        self.steps.setRange(1, 500)
        self.steps.setValue(10)
        self.steps.setSuffix(" steps/octave")
        self.jitter = QSpinBox()
        self.jitter.setRange(0, 64)
        self.jitter.setValue(8)
        self.jitter.setPrefix("jitter ")
        self.jitter.setSuffix(" px")
        self.buttons = RunButtons(self, "Dream", KEY, "dream")
        self.run_button, self.cancel_button = self.buttons.run_button, self.buttons.cancel_button
        self.export_button, self.notes = self.buttons.export_button, self.buttons.notes
        self.run_button.clicked.connect(self._dream)
        for w in (QLabel("layer"), self.layer, self.channel, self.run_button,
                  self.cancel_button, self.export_button):
            row.addWidget(w)
        row.addStretch(1)
        scales = QHBoxLayout()
        for box in (self.octaves, self.scale, self.steps, self.jitter):
            scales.addWidget(box)
        scales.addStretch(1)
        panes = QHBoxLayout()
        self.start_pane = ImagePane("the input it starts from", colorbar=False)
        self.dream_pane = ImagePane("the dream: changed so the layer responds more",
                                    colorbar=False)
        panes.addWidget(self.start_pane, 1)
        panes.addWidget(self.dream_pane, 1)
        layout.addLayout(row)
        layout.addLayout(scales)
        layout.addLayout(panes, 1)
        layout.addWidget(self.notes)
        self.layer.currentTextChanged.connect(self._layer_changed)
        self._analysis: ModelAnalysis | None = None

    def fill_layers(self, analysis: ModelAnalysis) -> None:
        names = feature_map_layers(analysis)
        kept = self.layer.currentText() in names
        self._analysis = analysis
        fill_combo(self.layer, names)
        if not kept:
            default = default_dream_layer(self.tab.document.spec, analysis)
            if default is not None:
                self.layer.setCurrentText(default)
        self._layer_changed(self.layer.currentText())

    def _layer_changed(self, layer: str) -> None:
        info = self._analysis.get(layer) if self._analysis and layer else None
        if info is not None:
            self.channel.setMaximum(info.output_shape[0] - 1)

    def reset(self) -> None:
        self.start_pane.clear_picture()
        self.dream_pane.clear_picture()
        self.buttons.reset()

    def _dream(self) -> None:
        parameters = (self.layer.currentText(), self.channel.value(), self.octaves.value(),
                      self.scale.value(), self.steps.value(), self.jitter.value())
        self.buttons.start(compute_dream, parameters, self._show, label="dreaming…")

    def _show(self, made: Dreamt) -> None:
        show_picture(self.start_pane, made.dream.start)
        show_picture(self.dream_pane, made.dream.image)

