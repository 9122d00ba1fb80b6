"""How they formed: the run's snapshots of the first layer's filters and their activations,
epoch by epoch (from the run folder of the document's run)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout

from app.image_pane import ImagePane
from app.inspect.base import Context, InspectView, ViewHost
from app.inspect.filters import show_filter_grid

if TYPE_CHECKING:
    from app.workers import Task

EMPTY = "No snapshots: train the model, or open a run folder."


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
        row.addWidget(QLabel("epoch"))
        row.addWidget(self.form_slider, 1)
        row.addWidget(self.form_label)
        panes = QHBoxLayout()
        self.form_filters = ImagePane("first-layer filters")
        self.form_acts = ImagePane("their activations for the probe image")
        panes.addWidget(self.form_filters)
        panes.addWidget(self.form_acts)
        layout.addLayout(row)
        layout.addLayout(panes, 1)
        self._snapshots: list[tuple[int, dict[str, Any]]] = []

    def reset(self) -> None:
        self._snapshots = []
        self.form_slider.blockSignals(True)
        self.form_slider.setRange(0, 0)
        self.form_slider.blockSignals(False)
        self.form_filters.clear_picture()
        self.form_acts.clear_picture()
        self.form_label.setText(EMPTY)

    def parameters(self) -> Any:
        return self.tab.document.run_dir

    def compute(self, context: Context, parameters: Any, task: Task) -> Any:
        from core.train import snapshots

        return snapshots.load(parameters) if parameters is not None else []

    def show_result(self, result: Any, parameters: Any) -> None:
        self._snapshots = result
        if not result:
            self.reset()
            return
        self.form_slider.blockSignals(True)
        self.form_slider.setRange(0, len(result) - 1)
        self.form_slider.setValue(len(result) - 1)
        self.form_slider.blockSignals(False)
        self._show_snapshot(self.form_slider.value())

    def _show_snapshot(self, index: int) -> None:
        from core.inspect.inspector import filter_grid
        from core.inspect.mosaic import tile

        if not 0 <= index < len(self._snapshots):
            return
        epoch, tensors = self._snapshots[index]
        names = sorted(k for k in tensors if k.startswith("filters."))
        if not names:
            return
        layer = names[0].split(".", 1)[1]
        show_filter_grid(self.form_filters, filter_grid(tensors[f"filters.{layer}"].numpy(),
                                                        layer))
        acts = tensors[f"activations.{layer}"].numpy()
        if acts.ndim == 3:
            self.form_acts.show_map(tile(acts).image)
        self.form_label.setText(f"epoch {epoch} ({'before training' if epoch == 0 else 'after'}"
                                f") · layer {layer} · {index + 1}/{len(self._snapshots)}")
