"""Neural style transfer (Gatys): the chosen input as the content, a sample photo or an image
file as the style; the content and style layers (Gatys's, found in the model, preset), their
weights and the steps; run on the worker with progress and Cancel; content, style and result
side by side, and a plain word when the weights are random (import a VGG with its weights)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from app.image_pane import ImagePane
from app.inspect.base import Context, InspectView, ViewHost, fill_combo
from app.inspect.dream import show_picture
from app.inspect.run_buttons import RunButtons
from core.analysis.model_analysis import ModelAnalysis
from core.inspect.layer_choices import default_style_layers, feature_map_layers

if TYPE_CHECKING:
    from app.workers import Task

KEY = "style"
STYLE_PHOTOS = ("coffee", "chelsea", "astronaut", "camera", "coins", "rocket", "horse")
"""Sample photos offered as the style (core.inspect.inputs.SAMPLE_PHOTOS, no torch here)."""


@dataclass(frozen=True)
class Styled:
    """A finished style transfer with its two inputs (for the figure ``render style`` writes)."""

    result: Any
    """core.inspect.style.Stylised"""
    content: Any
    """core.inspect.inputs.ModelInput, as the style below"""
    style: Any

    @property
    def notes(self) -> list[str]:
        return list(self.result.notes)

    def figure(self, model_name: str) -> Any:
        from core.inspect.render_dream import style_picture

        return style_picture(model_name, self.result, self.content, self.style)


def compute_style(context: Context, parameters: tuple[Any, ...], task: Task) -> Styled:
    from core.inspect.inspector import InspectError, image_for
    from core.inspect.style import StyleSettings, transfer_style

    style_source, content_layer, style_layers, content_weight, style_weight, steps = parameters
    if not style_layers:
        raise InspectError("list at least one style layer (comma-separated)")
    settings = StyleSettings(content_layer, style_layers, content_weight, style_weight, steps)
    style, content = image_for(context.inspector, style_source), context.input()
    return Styled(transfer_style(context.inspector, content, style, settings,
                                 progress=task.progress, check=task.check), content, style)


class StyleView(InspectView):
    title = "Style"
    uses_input = True
    automatic = False

    def __init__(self, tab: ViewHost) -> None:
        super().__init__(tab)
        layout = QVBoxLayout(self)
        first, layers, second = QHBoxLayout(), QHBoxLayout(), QHBoxLayout()
        self.style_image = QComboBox()
        self.style_image.addItems(STYLE_PHOTOS)
        self.style_image.setToolTip("The style: a sample photo, or an image file (Choose…)")
        choose = QPushButton("Choose style file…")
        choose.clicked.connect(self._choose_file)
        self.content_layer = QComboBox()
        self.style_layers = QLineEdit()
        self.style_layers.setToolTip("Comma-separated; Gatys: the first activation of each "
                                     "resolution (VGG: relu1_1, relu2_1, relu3_1, relu4_1, "
                                     "relu5_1)")
        self.content_weight = QDoubleSpinBox()
        self.content_weight.setRange(0.0, 1e6)
        self.content_weight.setDecimals(3)
        self.content_weight.setValue(1.0)
        self.style_weight = QDoubleSpinBox()
        self.style_weight.setRange(0.0, 1e9)
        self.style_weight.setDecimals(0)
        self.style_weight.setValue(1e4)
        self.steps = QSpinBox()
        self.steps.setRange(1, 5000)
        self.steps.setValue(100)
        self.steps.setSuffix(" steps")
        self.buttons = RunButtons(self, "Transfer style", KEY, "style transfer")
        self.run_button, self.cancel_button = self.buttons.run_button, self.buttons.cancel_button
        self.export_button, self.notes = self.buttons.export_button, self.buttons.notes
        self.run_button.clicked.connect(self._transfer)
        for w in (QLabel("style image"), self.style_image, choose, self.run_button,
                  self.cancel_button, self.export_button):
            first.addWidget(w)
        first.addStretch(1)
        for part in (QLabel("content layer"), self.content_layer, QLabel("style layers"),
                     self.style_layers):
            layers.addWidget(part)
        layers.setStretchFactor(self.style_layers, 1)
        for widget in (QLabel("content weight"), self.content_weight, QLabel("style weight"),
                       self.style_weight, self.steps):
            second.addWidget(widget)
        second.addStretch(1)
        panes = QHBoxLayout()
        self.content_pane = ImagePane("content (the chosen input)", colorbar=False)
        self.style_pane = ImagePane("style", colorbar=False)
        self.result_pane = ImagePane("result", colorbar=False)
        for pane in (self.content_pane, self.style_pane, self.result_pane):
            panes.addWidget(pane, 1)
        layout.addLayout(first)
        layout.addLayout(layers)
        layout.addLayout(second)
        layout.addLayout(panes, 1)
        layout.addWidget(self.notes)
        self._layers: list[str] = []

    def fill_layers(self, analysis: ModelAnalysis) -> None:
        names = feature_map_layers(analysis)
        if names == self._layers:
            return
        self._layers = names
        fill_combo(self.content_layer, names)
        defaults = default_style_layers(self.tab.document.spec, analysis)
        if defaults is not None:
            self.content_layer.setCurrentText(defaults[0])
            self.style_layers.setText(", ".join(defaults[1]))

    def reset(self) -> None:
        for pane in (self.content_pane, self.style_pane, self.result_pane):
            pane.clear_picture()
        self.buttons.reset()

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Style image", "",
                                              "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif "
                                              "*.tiff *.webp)")
        if path:
            self.set_style_file(Path(path))

    def set_style_file(self, path: Path) -> None:
        """Use an image file as the style (listed in the style box, chosen)."""
        if self.style_image.findText(str(path)) < 0:
            self.style_image.addItem(str(path))
        self.style_image.setCurrentText(str(path))

    def parameters(self) -> tuple[Any, ...]:
        layers = tuple(name.strip() for name in self.style_layers.text().split(",")
                       if name.strip())
        return (self.style_image.currentText(), self.content_layer.currentText(), layers,
                self.content_weight.value(), self.style_weight.value(), self.steps.value())

    def _transfer(self) -> None:
        self.buttons.start(compute_style, self.parameters(), self._show,
                           label="transferring style…")

    def _show(self, made: Styled) -> None:
        for pane, image in ((self.content_pane, made.result.content),
                            (self.style_pane, made.result.style),
                            (self.result_pane, made.result.image)):
            show_picture(pane, image)

