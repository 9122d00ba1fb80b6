"""Predictions: the top 5 classes for the input, and the confusion matrix of the run's own
dataset (validation or test split) with the misclassified examples of any cell."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from app.image_pane import GREY, ImagePane
from app.inspect.base import Context, InspectView, ViewHost
from app.labels import WrappedLabel

if TYPE_CHECKING:
    from app.workers import Task

SPLITS = {"validation": "val", "test": "test"}
CORRECT = QColor(59, 130, 196)
MISTAKE = QColor(214, 40, 40)


class PredictionsView(InspectView):
    title = "Predictions"

    def __init__(self, tab: ViewHost) -> None:
        super().__init__(tab)
        layout = QHBoxLayout(self)
        left = QVBoxLayout()
        self.top_k = QTableWidget(0, 2)
        self.top_k.setHorizontalHeaderLabels(["class", "probability"])
        header = self.top_k.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.top_k.verticalHeader().hide()
        heading = QLabel("<b>Top 5 for the input</b>")
        heading.setWordWrap(True)
        left.addWidget(heading)
        left.addWidget(self.top_k)
        right = QVBoxLayout()
        # the button, the split and the dataset on two lines: in one row they made the page
        # wider than the window at 1366×768 (the matrix's last column and the buttons cut)
        row = QHBoxLayout()
        self.split = QComboBox()
        self.split.addItems(list(SPLITS))
        self.confusion_button = QPushButton("Compute the confusion matrix")
        self.confusion_button.clicked.connect(self._confusion)
        row.addWidget(self.confusion_button)
        row.addWidget(QLabel("split"))
        row.addWidget(self.split)
        row.addStretch(1)
        self.dataset_label = QLabel()
        self.dataset_label.setWordWrap(True)
        self.confusion = QTableWidget(0, 0)
        self.confusion.cellClicked.connect(self._confusion_cell)
        for header in (self.confusion.horizontalHeader(), self.confusion.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.confusion.setCornerButtonEnabled(False)
        self.confusion.setToolTip("rows: true class · columns: predicted class")
        self.confusion_note = WrappedLabel("Rows: true class; columns: predicted. Click a red "
                                           "cell to see its misclassified examples.")
        self.mistakes = ImagePane("misclassified examples", colorbar=False)
        right.addLayout(row)
        right.addWidget(self.dataset_label)
        axes = QLabel("rows: true class · columns: predicted class")
        axes.setWordWrap(True)
        right.addWidget(axes)
        right.addWidget(self.confusion, 2)
        right.addWidget(self.confusion_note)
        right.addWidget(self.mistakes, 1)
        layout.addLayout(left, 1)
        layout.addLayout(right, 2)
        self._cells: dict[tuple[int, int], list[int]] = {}
        self._confusion_images: Any = None

    # -- which data -------------------------------------------------------------------------
    def dataset(self) -> tuple[str, str]:
        """(dataset, why): the run's own dataset, or digits when no run says otherwise."""
        name = self.tab.run_dataset()
        if name is not None:
            return name, "the dataset this run was trained on"
        name = self.tab.input_dataset()
        return name, f"no training run: the bundled {name}"

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._show_dataset()

    def _show_dataset(self) -> None:
        name, why = self.dataset()
        self.dataset_label.setText(f"of <b>{Path(name).name}</b> ({why})")
        self.dataset_label.setToolTip(name)

    def reset(self) -> None:
        self._show_dataset()  # another run, another dataset
        self.top_k.setRowCount(0)
        self.confusion.setRowCount(0)
        self.confusion.setColumnCount(0)
        self.mistakes.clear_picture()
        self._cells, self._confusion_images = {}, None
        self.confusion_note.setText("Rows: true class; columns: predicted. Click a red cell "
                                    "to see its misclassified examples.")

    # -- top 5 ------------------------------------------------------------------------------
    def compute(self, context: Context, parameters: Any, task: Task) -> Any:
        return context.inspector.top_k(context.input(), 5)

    def show_result(self, result: Any, parameters: Any) -> None:
        self.top_k.setRowCount(len(result))
        for row, p in enumerate(result):
            self.top_k.setItem(row, 0, QTableWidgetItem(p.label))
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setValue(round(p.probability * 1000))
            bar.setFormat(f"{p.probability:.1%}")
            bar.setTextVisible(True)
            self.top_k.setCellWidget(row, 1, bar)
        self.top_k.resizeRowsToContents()

    # -- confusion --------------------------------------------------------------------------
    def _confusion(self) -> None:
        dataset, _ = self.dataset()
        split = SPLITS[self.split.currentText()]
        self.tab.run(self, "confusion", compute_confusion, (dataset, split),
                     self.show_confusion, uses_input=False,
                     label=f"confusion matrix on {dataset} ({self.split.currentText()})…")

    def show_confusion(self, result: Any, parameters: Any) -> None:
        matrix, cells, images, classes = result
        dataset, split = parameters
        self._cells, self._confusion_images = cells, images
        n = matrix.shape[0]
        self.confusion.setRowCount(n)
        self.confusion.setColumnCount(n)
        labels = [classes[i] if i < len(classes) else str(i) for i in range(n)]
        self.confusion.setHorizontalHeaderLabels(labels)
        self.confusion.setVerticalHeaderLabels(labels)
        top = max(1, int(matrix.max()))
        off = matrix.copy()
        np.fill_diagonal(off, 0)
        worst = max(1, int(off.max()))
        for r in range(n):
            for c in range(n):
                count = int(matrix[r, c])
                item = QTableWidgetItem(str(count))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if r == c:
                    color = QColor(CORRECT)
                    color.setAlpha(int(40 + 200 * count / top))
                elif count:  # any mistake is clearly red, more mistakes darker
                    color = QColor(MISTAKE)
                    color.setAlpha(int(110 + 145 * count / worst))
                    item.setForeground(QColor("white"))
                    item.setToolTip(f"{count} images of {labels[r]} predicted as {labels[c]}")
                else:
                    color = QColor(0, 0, 0, 0)
                item.setBackground(color)
                self.confusion.setItem(r, c, item)
        accuracy = np.trace(matrix) / max(1, matrix.sum())
        split_name = "validation" if split == "val" else split
        self.confusion_note.setText(f"{Path(dataset).name} {split_name} split: accuracy "
                                    f"{accuracy:.1%} over {matrix.sum()} images. Click a red "
                                    "cell to see its mistakes.")

    def _confusion_cell(self, row: int, col: int) -> None:
        from core.inspect.mosaic import tile

        indices = self._cells.get((row, col), [])
        if not indices or self._confusion_images is None:
            self.mistakes.clear_picture()
            self.confusion_note.setText("no mistakes in this cell" if row != col else
                                        "the diagonal holds the correct predictions")
            return
        images = self._confusion_images[indices].float().numpy() / 255
        if images.shape[1] == 3:
            self.mistakes.show_map(tile(images).image)
        else:
            self.mistakes.show_map(tile(images[:, 0]).image, (0.0, 1.0), GREY)
        count = len(indices)
        self.confusion_note.setText(f"{count} image{'s' if count != 1 else ''} of class {row} "
                                    f"predicted as {col}")


def compute_confusion(context: Context, parameters: tuple[str, str], task: Task) -> Any:
    """On the worker: the split through the model in batches, with progress."""
    from core.data.datasets import load_dataset
    from core.inspect.inspector import confusion

    dataset, split = parameters
    inspector = context.inspector
    data = load_dataset(dataset, inspector.spec.input_shape, download=False)
    part = getattr(data, split)
    task.check()
    matrix, cells = confusion(inspector, part.images, part.labels, inspector.preparer(data),
                              progress=task.progress)
    classes = inspector.classes if inspector.state else list(data.classes)
    return matrix, cells, part.images, classes

