"""The Label tab's rows of controls: the folder's actions and the drawing tools."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QToolButton,
    QWidget,
)

from app.flow_bar import FlowLayout
from app.label.canvas import TOOLS
from core.labels.label_set import STATUSES

TOOL_TIPS = {
    "box": "Boxes: drag to draw, drag a corner handle to adjust, drag inside to move, arrow "
           "keys nudge (Shift: 10 px), Delete removes",
    "brush": "Paint the current class (size: the brush's width on the screen)",
    "eraser": "Erase back to background",
    "polygon": "Click the corners, double-click or Enter to fill, Esc to drop",
    "fill": "Fill the connected area under the click (a hole, the background)",
    "grow": "Grow a region from the click: neighbouring pixels within the tolerance",
    "superpixel": "Brush over SLIC superpixels: each one touched is filled",
    "pan": "Drag to pan (the right or middle button pans with any tool; the wheel zooms)",
}


def _button(text: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    return button


class FolderRow(QWidget):
    """Open, save, train, the model's help and the image's status."""

    def __init__(self) -> None:
        super().__init__()
        layout = FlowLayout(self)
        self.open = _button("Open folder…", "A folder of images, a COCO JSON file or a VOC "
                                            "folder (its labels open for editing)")
        self.save = _button("Save labels", "COCO JSON beside the images and, for masks, a VOC "
                                           "folder (labels also save themselves as you work)")
        self.train = _button("Train on these labels", "Save, then offer the labelled images "
                                                      "as the Train tab's dataset")
        self.suggest = _button("Suggest", "The open segmentation or detection model's masks "
                                          "and boxes for this image, as proposals")
        self.accept = _button("Accept", "Keep the selected proposal as a label (Enter), then "
                                        "edit it as any label")
        self.reject = _button("Reject", "Drop the selected proposal (Delete)")
        self.accept_all = _button("Accept all", "Keep every proposal left as labels (one step)")
        self.reject_all = _button("Reject all", "Drop every proposal left (one step)")
        self.next_uncertain = _button("Next most uncertain",
                                      "Go to the unlabelled image the model is least sure of")
        self.status = QComboBox()
        self.status.addItems(list(STATUSES))
        self.status.setToolTip("This image's status (reviewed: checked a second time)")
        for widget in (self.open, self.save, self.train, self.suggest, self.accept, self.reject,
                       self.accept_all, self.reject_all, self.next_uncertain, QLabel("status"),
                       self.status):
            layout.addWidget(widget)


class ToolRow(QWidget):
    """The tools (one checked), brush size, tolerance, opacity, fit, undo and redo."""

    tool_chosen = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        layout = FlowLayout(self)
        self.group = QButtonGroup(self)
        self.tools: dict[str, QToolButton] = {}
        for name in TOOLS:
            button = QToolButton()
            button.setText(name.capitalize() if name != "grow" else "Grow region")
            button.setCheckable(True)
            button.setToolTip(TOOL_TIPS[name])
            button.clicked.connect(lambda _c=False, n=name: self.tool_chosen.emit(n))
            self.group.addButton(button)
            self.tools[name] = button
            layout.addWidget(button)
        self.tools["box"].setChecked(True)
        self.brush_size = QSpinBox()
        self.brush_size.setRange(1, 400)
        self.brush_size.setValue(20)
        self.brush_size.setSuffix(" px")
        self.brush_size.setToolTip("The brush's width on the screen")
        self.tolerance = QSpinBox()
        self.tolerance.setRange(0, 255)
        self.tolerance.setValue(24)
        self.tolerance.setToolTip("Grow region: how far a pixel's grey may be from the seed's")
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.opacity.setFixedWidth(110)
        self.opacity.setToolTip("How strongly the mask covers the photo")
        self.fit = _button("Fit", "Show the whole image")
        self.undo = _button("Undo", "Undo this image's last edit (Ctrl+Z)")
        self.redo = _button("Redo", "Redo (Ctrl+Shift+Z)")
        for widget in (QLabel("size"), self.brush_size, QLabel("tolerance"), self.tolerance,
                       QLabel("opacity"), self.opacity, self.fit, self.undo, self.redo):
            layout.addWidget(widget)

    def choose(self, name: str) -> None:
        self.tools[name].setChecked(True)
        self.tool_chosen.emit(name)
