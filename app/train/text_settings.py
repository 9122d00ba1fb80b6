"""The Train tab's text settings: the vocabulary size, the sequence length (the model's input
length, edited on the document: one undo step) and, for a CSV/TSV file, its text and label
columns (read from its header on a worker).

They are shown for a text model (word ids in, an Embedding first) and become the dataset's
options, ``reviews.csv:text=review,label=sentiment,vocab=2000``: the run records that name in
training.json and its vocabulary in vocabulary.txt; the log states both.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLabel, QSpinBox

from app.document import ModelDocument
from app.workers import Worker

AUTOMATIC = "automatic"
TABLE_SUFFIXES = (".csv", ".tsv", ".tab")
"""As core.data.texts.TABLE_SUFFIXES (repeated: this module imports no torch)."""
DEFAULT_ROWS = 5000


def is_table(dataset: str) -> bool:
    return Path(dataset).suffix.lower() in TABLE_SUFFIXES


def _columns(path: str) -> tuple[list[str], int | None, int | None]:
    """On a worker: the table's header and the columns found automatically."""
    from core.data.texts import table_columns

    return table_columns(Path(path))


class TextSettings(QGroupBox):
    """Vocabulary size, sequence length, text and label columns; ``options(dataset)`` reads
    them into the dataset's name."""

    changed = Signal()

    def __init__(self, document: ModelDocument) -> None:
        super().__init__("Texts (word ids)")
        self.document = document
        form = QFormLayout(self)
        self.vocabulary = QSpinBox()
        self.vocabulary.setRange(3, DEFAULT_ROWS)
        self.vocabulary.setValue(DEFAULT_ROWS)
        self.vocabulary.setSingleStep(500)
        self.vocabulary.setToolTip("How many words get their own id: the most frequent of the "
                                   "training split (ids 0 and 1 are padding and out of "
                                   "vocabulary); at most the Embedding's rows")
        form.addRow("vocabulary size", self.vocabulary)
        self.length = QSpinBox()
        self.length.setRange(1, 100_000)
        self.length.setSuffix(" words")
        self.length.setToolTip("Every text is cut or padded (at its end) to this many words: "
                               "the model's input length (changing it changes the model, one "
                               "undo step)")
        self.length.editingFinished.connect(self._set_length)
        form.addRow("sequence length", self.length)
        self.text_column = QComboBox()
        self.label_column = QComboBox()
        for combo, role, names in ((self.text_column, "text", "text, review, sentence"),
                                   (self.label_column, "label", "label, sentiment, class")):
            combo.addItem(AUTOMATIC)
            combo.setToolTip(f"The table's {role} column (automatic: the first named like "
                             f"{names})")
            combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        form.addRow("text column", self.text_column)
        form.addRow("label column", self.label_column)
        self.table_note = QLabel()
        self.table_note.setWordWrap(True)
        form.addRow(self.table_note)
        self.rows = form
        self._table: str | None = None
        self._worker: Worker | None = None
        self.vocabulary.valueChanged.connect(lambda _v: self.changed.emit())
        document.changed.connect(self.follow_model)
        self.follow_model()
        self.show_table(None)

    # -- the model ----------------------------------------------------------------------------
    def embedding_rows(self) -> int:
        for layer in self.document.spec.layers:
            if layer.type == "Embedding":
                rows = layer.params.get("num_embeddings")
                return rows if isinstance(rows, int) and rows >= 3 else DEFAULT_ROWS
        return DEFAULT_ROWS

    def follow_model(self) -> None:
        """The length shows the model's input; the vocabulary stays within its Embedding."""
        shape = self.document.spec.input_shape
        text_model = len(shape) == 1 and bool(self.document.spec.layers) and \
            self.document.spec.layers[0].type == "Embedding"
        self.setVisible(text_model)
        if not text_model:
            return
        rows = self.embedding_rows()
        at_max = self.vocabulary.value() == self.vocabulary.maximum()
        with QSignalBlocker(self.vocabulary):
            self.vocabulary.setMaximum(rows)
            if at_max:
                self.vocabulary.setValue(rows)
        if not self.length.hasFocus() or self.length.value() == shape[0]:
            with QSignalBlocker(self.length):
                self.length.setValue(shape[0])

    def _set_length(self) -> None:
        shape = self.document.spec.input_shape
        if len(shape) == 1 and self.length.value() != shape[0] and \
                not self.document.set_input_shape((self.length.value(),)):
            with QSignalBlocker(self.length):
                self.length.setValue(shape[0])  # refused (a run trains): shows the model's

    # -- a table's columns ----------------------------------------------------------------------
    def show_table(self, dataset: str | None) -> None:
        """The column rows for a CSV/TSV dataset (its header read on a worker), hidden else."""
        table = dataset if dataset is not None and is_table(dataset) else None
        for widget in (self.text_column, self.label_column, self.table_note):
            self.rows.setRowVisible(widget, table is not None)
        if table == self._table:
            return
        self._table = table
        if self._worker is not None:
            self._worker.quit()
            self._worker = None
        for combo in (self.text_column, self.label_column):
            with QSignalBlocker(combo):
                combo.clear()
                combo.addItem(AUTOMATIC)
        if table is None:
            return
        self.table_note.setText("reading the header…")
        worker = Worker(_columns, table)
        worker.returned.connect(self._columns_read)
        worker.errored.connect(self._columns_read)
        self._worker = worker
        worker.start()

    def _columns_read(self, result: object) -> None:
        if self.sender() is not self._worker:
            return
        self._worker = None
        if isinstance(result, BaseException):
            self.table_note.setText(str(result))
            return
        assert isinstance(result, tuple)
        header, text_at, label_at = result
        for combo, found in ((self.text_column, text_at), (self.label_column, label_at)):
            with QSignalBlocker(combo):
                combo.addItems(header)
                combo.setCurrentIndex(0 if found is None else found + 1)
        missing = [role for role, found in (("text", text_at), ("label", label_at))
                   if found is None]
        self.table_note.setText(
            f"{len(header)} columns" + (f"; choose the {' and '.join(missing)} column"
                                        if missing else ""))
        self.changed.emit()

    # -- reading -------------------------------------------------------------------------------
    def options(self, dataset: str) -> str:
        """``dataset`` with these settings as its options (none for an image model)."""
        if self.isHidden():  # not a text model
            return dataset
        parts = []
        if is_table(dataset):
            for key, combo in (("text", self.text_column), ("label", self.label_column)):
                if combo.currentIndex() > 0:
                    parts.append(f"{key}={combo.currentText()}")
        if self.vocabulary.value() < self.embedding_rows():
            parts.append(f"vocab={self.vocabulary.value()}")
        return f"{dataset}:{','.join(parts)}" if parts else dataset
