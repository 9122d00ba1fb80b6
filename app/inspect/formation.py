"""How they formed: the run's snapshots of a convolution's filters and their activations,
epoch by epoch (from the run folder of the document's run), on one colour scale for every
epoch, beside each filter's change since epoch 0 (core.inspect.formation); Export… writes the
time-lapse as a GIF or MP4 on the worker (core.inspect.timelapse, as ``render timelapse``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
)

from app.image_pane import DIVERGING, ImagePane
from app.inspect.base import Context, InspectView, ViewHost, fill_combo
from app.inspect.filters import show_filter_grid

if TYPE_CHECKING:
    from app.workers import Task

ACTIVATIONS_TITLE = "activations for the probe image"
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
        self.form_label = QLabel("Train a model (or open a run) to replay how its "
                                 "filters formed, epoch by epoch.")
        self.form_label.setWordWrap(True)
        self.form_layer = QComboBox()
        self.form_layer.currentTextChanged.connect(lambda _t: self.refresh())
        self.form_fps = QDoubleSpinBox()
        self.form_fps.setRange(0.5, 60)
        self.form_fps.setValue(2)
        self.form_fps.setSuffix(" frames/s")
        self.form_export = QPushButton("Export…")
        self.form_export.setToolTip("Write the time-lapse, one frame per snapshot, as a GIF or "
                                    "an MP4 (MP4 needs imageio-ffmpeg)")
        self.form_export.clicked.connect(self._ask_export)
        self.form_export.setEnabled(False)
        self.form_act_change = QCheckBox("activations' change")
        self.form_act_change.setToolTip("Show how the probe image's activations moved since "
                                        "epoch 0 (blue–white–red, one scale for the run) "
                                        "instead of the activations themselves")
        self.form_act_change.toggled.connect(
            lambda _on: self._show_snapshot(self.form_slider.value()))
        row.addWidget(QLabel("layer"))
        row.addWidget(self.form_layer)
        row.addWidget(self.form_act_change)
        row.addWidget(QLabel("epoch"))
        row.addWidget(self.form_slider, 1)
        row.addWidget(self.form_fps)
        row.addWidget(self.form_export)
        panes = QGridLayout()
        self.form_filters = ImagePane("filters")
        self.form_change = ImagePane("change since epoch 0")
        self.form_acts = ImagePane(ACTIVATIONS_TITLE)
        for column, pane in enumerate((self.form_filters, self.form_change, self.form_acts)):
            panes.addWidget(pane, 0, column)
            panes.setColumnStretch(column, 1)
        layout.addLayout(row)
        layout.addWidget(self.form_label)
        layout.addLayout(panes, 1)
        self._frames: list[Any] = []
        self.last_export: Path | None = None

    def reset(self) -> None:
        self._frames = []
        self.form_export.setEnabled(False)
        self.form_slider.blockSignals(True)
        self.form_slider.setRange(0, 0)
        self.form_slider.blockSignals(False)
        for pane in (self.form_filters, self.form_change, self.form_acts):
            pane.clear_picture()
        self.form_label.setText(EMPTY)

    def parameters(self) -> Any:
        return self.tab.document.run_dir, self.form_layer.currentText() or None

    def compute(self, context: Context, parameters: Any, task: Task) -> Any:
        from core.inspect.formation import formation_frames, snapshot_names
        from core.train import snapshots

        run, layer = parameters
        if run is None:
            return [], []
        held = snapshots.load(Path(run))
        names = snapshot_names(held)
        return formation_frames(held, layer if layer in names else None), names

    def show_result(self, result: Any, parameters: Any) -> None:
        frames, names = result
        self._frames = frames
        fill_combo(self.form_layer, names)
        if not frames:
            self.reset()
            return
        self.form_layer.blockSignals(True)
        self.form_layer.setCurrentText(frames[0].layer)
        self.form_layer.blockSignals(False)
        self.form_export.setEnabled(True)
        self.form_slider.blockSignals(True)
        self.form_slider.setRange(0, len(frames) - 1)
        self.form_slider.setValue(len(frames) - 1)
        self.form_slider.blockSignals(False)
        self._show_snapshot(self.form_slider.value())

    def _show_snapshot(self, index: int) -> None:
        if not 0 <= index < len(self._frames):
            return
        frame = self._frames[index]
        show_filter_grid(self.form_filters, frame.filters)
        show_filter_grid(self.form_change, frame.change)
        changed = self.form_act_change.isChecked()
        self.form_acts.set_title("activations' change since epoch 0" if changed
                                 else ACTIVATIONS_TITLE)
        if changed and frame.activation_change is not None:
            self.form_acts.show_map(frame.activation_change, frame.change_levels, DIVERGING)
        elif not changed and frame.activations is not None:
            self.form_acts.show_map(frame.activations, frame.activation_levels)
        else:
            self.form_acts.clear_picture()
        when = "before training" if frame.epoch == 0 else "after"
        self.form_label.setText(f"epoch {frame.epoch} ({when}) · layer {frame.layer} · "
                                f"{index + 1}/{len(self._frames)} · {SCALE}")

    # -- export -----------------------------------------------------------------------------
    def _ask_export(self) -> None:
        if not self._frames:
            return
        name = f"{self.tab.document.spec.name}-{self._frames[0].layer}-timelapse.gif"
        path = self.tab.save_path("Export time-lapse", name,
                                  "GIF animation (*.gif);;MP4 video (*.mp4)")
        if path is not None:
            self.export_to(path)

    def export_to(self, path: Path) -> Any:
        """Write the shown layer's time-lapse to ``path`` (.gif, .mp4; else .gif) on the
        worker; the status line says where it went, the message line why it could not."""
        if path.suffix.lower() not in (".gif", ".mp4"):
            path = path.with_suffix(".gif")
        run, _layer = self.parameters()
        layer = self._frames[0].layer if self._frames else self.form_layer.currentText()
        return self.tab.run(self, "export", _write_timelapse,
                            (run, layer, path, self.form_fps.value()), self._exported,
                            uses_input=False, label="exporting the time-lapse…")

    def _exported(self, result: Path, _parameters: Any) -> None:
        self.last_export = result
        window = self.window()
        if hasattr(window, "statusBar"):
            window.statusBar().showMessage(f"Exported {result}", 8000)


def _write_timelapse(context: Context, parameters: Any, task: Task) -> Path:
    """On the worker: the run's snapshots of the layer, written as core.inspect.timelapse does
    for ``convscope render timelapse``."""
    from core.inspect.timelapse import write_timelapse
    from core.train import snapshots
    from core.train.checkpoint import open_run

    run, layer, path, fps = parameters
    if run is None:
        raise ValueError(EMPTY)
    state = open_run(Path(run)).state
    write_timelapse(snapshots.load(Path(run)), layer, path, state.history, state.best_metric,
                    fps)
    return Path(path)
