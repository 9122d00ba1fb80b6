"""What every Inspect view is: a widget that reads its settings on the UI thread, computes on
the worker thread and draws the result on the UI thread again."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget

from core.analysis.model_analysis import ModelAnalysis

if TYPE_CHECKING:
    from app.document import ModelDocument
    from app.workers import Task, Worker, WorkerQueue


@dataclass
class Context:
    """What a computation gets on the worker thread: the model with its weights (a
    core.inspect Inspector) and the chosen input, prepared on first use."""

    inspector: Any
    source: str
    _session: Any

    def input(self) -> Any:
        """The chosen input as the model takes it (a core.inspect ModelInput)."""
        return self._session.input_for(self.inspector, self.source)

    def activation(self, layer: str) -> Any:
        """One layer's output for the input as a numpy array (cached per input)."""
        if layer not in self.inspector.layer_names():
            return self.inspector.activation(layer, self.input())  # its error lists choices
        return self._session.activations(self.inspector, self.source)[layer].numpy()


class ViewHost(Protocol):
    """What a view may ask of the tab it sits in (``app.inspect.tab.InspectTab`` is one).

    The views know only this, not the tab: the tab lists every view in its ``VIEWS`` (and
    imports each when first shown); a view importing the tab back would close a circle."""

    document: ModelDocument
    classes: list[str]
    queue: WorkerQueue

    def run(self, view: InspectView, key: str, compute: Any, parameters: Any, show: Any,
            uses_input: bool = True, label: str = "computing…") -> Worker: ...

    def refresh_view(self, view: InspectView, force: bool = False) -> None: ...

    def refresh(self) -> None: ...

    def export(self, view: str, size: tuple[int, int]) -> None: ...

    def save_path(self, title: str, name: str, filter_text: str) -> Path | None: ...

    def exported(self, result: Path, parameters: Any) -> None: ...

    def run_dataset(self) -> str | None: ...

    def input_dataset(self) -> str: ...

    def name_shown(self, text: str) -> None: ...


class InspectView(QWidget):
    """One view of the Inspect tab.

    Subclasses set ``title`` and implement:

    - ``parameters()`` (UI thread): read the widgets into a plain value;
    - ``compute(context, parameters, task)`` (worker thread, never touches widgets): return
      arrays; call ``task.progress(done, total)`` in long loops (it raises when cancelled);
    - ``show_result(result, parameters)`` (UI thread): draw what ``compute`` returned;
    - ``reset()``: the model, weights or run changed: clear every picture and readout.

    ``fill_layers(analysis)`` fills layer lists from the model's analysis (no torch needed).
    A view whose work is started by a button (not by showing it) sets ``automatic = False``
    and calls ``self.tab.run(self, key, ...)`` itself.
    """

    title = ""
    uses_input = True
    automatic = True

    def __init__(self, tab: ViewHost) -> None:
        super().__init__()
        self.tab = tab

    # -- to implement -----------------------------------------------------------------------
    def parameters(self) -> Any:
        return None

    def compute(self, context: Context, parameters: Any, task: Task) -> Any:
        return None

    def show_result(self, result: Any, parameters: Any) -> None:
        pass

    def reset(self) -> None:
        pass

    def fill_layers(self, analysis: ModelAnalysis) -> None:
        pass

    # -- helpers ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Ask the tab to recompute this view (only happens while it is the visible one)."""
        self.tab.refresh_view(self)

    def export_row(self, view: str) -> QHBoxLayout:
        """Size spin boxes and an Export PNG… button (rendered by core.inspect.render)."""
        row = QHBoxLayout()
        row.addStretch(1)
        width, height = QSpinBox(), QSpinBox()
        for box, value in ((width, 1600), (height, 1000)):
            box.setRange(200, 8000)
            box.setValue(value)
            box.setSuffix(" px")
        button = QPushButton("Export PNG…")
        button.clicked.connect(lambda: self.tab.export(view, (width.value(), height.value())))
        row.addWidget(QLabel("size"))
        row.addWidget(width)
        row.addWidget(QLabel("×"))
        row.addWidget(height)
        row.addWidget(button)
        return row


def fill_combo(combo: Any, names: list[str]) -> None:
    """Replace a combo box's items, keeping the current choice when it still exists, without
    emitting change signals."""
    current = [combo.itemText(i) for i in range(combo.count())]
    if current == names:
        return
    keep = combo.currentText()
    combo.blockSignals(True)
    combo.clear()
    combo.addItems(names)
    if keep in names:
        combo.setCurrentText(keep)
    combo.blockSignals(False)
