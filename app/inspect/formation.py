"""How they formed: the run's snapshots of the first layer's filters and their activations,
epoch by epoch (from the run folder of the document's run), on one colour scale for every
epoch, beside each filter's change since epoch 0 (core.inspect.formation)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QSlider, QVBoxLayout

from app.image_pane import ImagePane
from app.inspect.base import Context, InspectView, ViewHost
from app.inspect.filters import show_filter_grid

if TYPE_CHECKING:
    from app.workers import Task

EMPTY = "No snapshots: train the model, or open a run folder."
SCALE = ("one colour scale for every epoch; the change is each weight minus its value "
         "before training (white: unchanged)")


class FormationView(InspectView):
    title = "How they formed"
    uses_input = False

    def __init__(self, tab: ViewHost) -> None:
        super().__init__(tab)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.form_slider = QSlider(Qt.Orientation.Horizontal)
        self.form_slider.valueChanged.connect(self._show_snapshot)
        self.form_label = QLabel("Train a model (or open a run) to replay how its first "
                                 "filters formed, epoch by epoch.")
        self.form_label.setWordWrap(True)
        row.addWidget(QLabel("epoch"))
        row.addWidget(self.form_slider, 1)
        panes = QGridLayout()
        self.form_filters = ImagePane("first-layer filters")
        self.form_change = ImagePane("change since epoch 0")
        self.form_acts = ImagePane("activations for the probe image")
        for column, pane in enumerate((self.form_filters, self.form_change, self.form_acts)):
            panes.addWidget(pane, 0, column)
            panes.setColumnStretch(column, 1)
        layout.addLayout(row)
        layout.addWidget(self.form_label)
        layout.addLayout(panes, 1)
        self._frames: list[Any] = []

    def reset(self) -> None:
        self._frames = []
        self.form_slider.blockSignals(True)
        self.form_slider.setRange(0, 0)
        self.form_slider.blockSignals(False)
        for pane in (self.form_filters, self.form_change, self.form_acts):
            pane.clear_picture()
        self.form_label.setText(EMPTY)

    def parameters(self) -> Any:
        return self.tab.document.run_dir

    def compute(self, context: Context, parameters: Any, task: Task) -> Any:
        from core.inspect.formation import formation_frames
        from core.train import snapshots

        return formation_frames(snapshots.load(parameters)) if parameters is not None else []

    def show_result(self, result: Any, parameters: Any) -> None:
        self._frames = result
        if not result:
            self.reset()
            return
        self.form_slider.blockSignals(True)
        self.form_slider.setRange(0, len(result) - 1)
        self.form_slider.setValue(len(result) - 1)
        self.form_slider.blockSignals(False)
        self._show_snapshot(self.form_slider.value())

    def _show_snapshot(self, index: int) -> None:
        if not 0 <= index < len(self._frames):
            return
        frame = self._frames[index]
        show_filter_grid(self.form_filters, frame.filters)
        show_filter_grid(self.form_change, frame.change)
        if frame.activations is not None:
            self.form_acts.show_map(frame.activations, frame.activation_levels)
        else:
            self.form_acts.clear_picture()
        when = "before training" if frame.epoch == 0 else "after"
        self.form_label.setText(f"epoch {frame.epoch} ({when}) · layer {frame.layer} · "
                                f"{index + 1}/{len(self._frames)} · {SCALE}")
