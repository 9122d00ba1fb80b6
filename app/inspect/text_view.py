"""Text: a text model's view of one text (typed, or from the run's validation split): a heat
strip of a Conv1d filter's activation under the words, each word's saliency, the top-k
predictions, and the n-grams of the validation split that excite the filter most (all computed
by core.inspect.text on the worker)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.inspect.base import Context, InspectView, ViewHost, fill_combo
from core.analysis.model_analysis import ModelAnalysis

if TYPE_CHECKING:
    from app.workers import Task

SOURCES = ("typed text", "validation text")
EXAMPLE = "the acting was not good but the music was great"
"""The same sentence as core.inspect.text.EXAMPLE (repeated: this module imports no torch)."""
HEAT = QColor(234, 88, 12)
UP, DOWN = QColor(214, 40, 40), QColor(37, 99, 235)
NGRAMS = 10


def sequence_layer_names(analysis: ModelAnalysis) -> list[str]:
    """Layers whose output runs along the words, from the analysis alone (no torch): the
    first Conv1d and what follows it with a (channels, positions) output."""
    names, started = [], False
    for info in analysis.layers:
        started = started or info.type == "Conv1d"
        if not started:
            continue
        if len(info.output_shape) != 2 or info.output_shape[1] <= 1:
            break
        names.append(info.name)
    return names


def compute_text(context: Context, parameters: dict[str, Any], task: Task) -> dict[str, Any]:
    """On the worker: the text read, its strip, saliency, top-k and the filter's n-grams."""
    from core.inspect import text as inspect_text

    inspector = context.inspector
    source = inspect_text.text_source(inspector, parameters["run"])
    if parameters["source"] == SOURCES[1]:
        text = inspect_text.sample_text(source.vocabulary, source.data, parameters["index"])
    else:
        text = inspect_text.read_text(source.vocabulary, parameters["text"])
    layer, channel = parameters["layer"], parameters["channel"]
    strip = inspect_text.word_strip(inspector, text, layer, channel)
    saliency, target = inspect_text.word_saliency(inspector, text, parameters["target"])
    chosen = strip.strongest if channel is None else channel
    ngrams = inspect_text.top_ngrams(inspector, source, layer, chosen, NGRAMS, task.progress)
    return {"words": text.words, "unknown": text.unknown, "text_source": text.source,
            "note": source.note, "strip": strip.values, "filter": chosen,
            "channels": strip.channels, "saliency": saliency,
            "target": inspector.classes[target] if target < len(inspector.classes)
            else str(target), "top_k": inspect_text.text_top_k(inspector, text),
            "ngrams": ngrams, "layer": layer, "validation": len(source.data.val)}


def _blend(colour: QColor, amount: float, base: QColor) -> QColor:
    a = max(0.0, min(1.0, amount))
    return QColor(int(base.red() + (colour.red() - base.red()) * a),
                  int(base.green() + (colour.green() - base.green()) * a),
                  int(base.blue() + (colour.blue() - base.blue()) * a))


WORDS_PER_LINE = 14
"""A long text (an IMDB review) wraps into lines of this many words, each with its strips."""


def strip_html(words: tuple[str, ...], heat: np.ndarray, saliency: np.ndarray, base: QColor,
               text: QColor) -> str:
    """The words in rows, the filter's heat strip under them and the saliency strip under
    that (red raises the class's score, blue lowers it), as HTML tables of WORDS_PER_LINE
    words (one colour scale for the whole text)."""
    top = float(np.max(heat)) if heat.size and np.max(heat) > 0 else 1.0
    reach = float(np.max(np.abs(saliency))) if saliency.size else 0.0
    reach = reach or 1.0
    label = f"style='color:{text.name()};padding-right:8px'"
    tables = []
    for start in range(0, len(words), WORDS_PER_LINE):
        span = range(start, min(len(words), start + WORDS_PER_LINE))
        cells = ["<td style='padding:2px 4px'>" + html.escape(words[i]) + "</td>" for i in span]
        heat_cells, saliency_cells = [], []
        for i in span:
            value = float(heat[i])
            colour = _blend(HEAT, value / top, base)
            heat_cells.append(f"<td bgcolor='{colour.name()}' title='{value:.3g}'>&nbsp;</td>")
            s = float(saliency[i])
            colour = _blend(UP if s > 0 else DOWN, abs(s) / reach, base)
            saliency_cells.append(f"<td bgcolor='{colour.name()}' title='{s:+.3g}'>&nbsp;</td>")
        tables.append("<table cellspacing='1' cellpadding='3'>"
                      f"<tr><td {label}><b>words</b></td>{''.join(cells)}</tr>"
                      f"<tr><td {label}>filter</td>{''.join(heat_cells)}</tr>"
                      f"<tr><td {label}>saliency</td>{''.join(saliency_cells)}</tr></table>")
    return "".join(tables)


class TextView(InspectView):
    title = "Text"
    uses_input = False

    def __init__(self, tab: ViewHost) -> None:
        super().__init__(tab)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.source = QComboBox()
        self.source.addItems(SOURCES)
        self.text = QLineEdit(EXAMPLE)
        self.text.setToolTip("A text to read (Enter to compute): its words become ids with the "
                             "run's vocabulary; words outside it are out-of-vocabulary")
        self.index = QSpinBox()
        self.index.setRange(0, 999_999)
        self.index.setPrefix("#")
        self.index.setToolTip("Which text of the validation split (of the run's dataset, or the "
                              "bundled phrases without a run)")
        for w in (QLabel("text"), self.source):
            row.addWidget(w)
        row.addWidget(self.text, 1)
        row.addWidget(self.index)
        row2 = QHBoxLayout()
        self.layer = QComboBox()
        self.layer.setToolTip("A layer whose output runs along the words (Conv1d and what "
                              "follows it before global pooling)")
        self.channel = QSpinBox()
        self.channel.setRange(-1, 9999)
        self.channel.setSpecialValueText("strongest")
        self.channel.setValue(-1)
        self.channel.setToolTip("The filter drawn under the words and whose n-grams are listed; "
                                "strongest: the one firing highest anywhere in this text")
        self.target = QSpinBox()
        self.target.setRange(-1, 9999)
        self.target.setSpecialValueText("predicted class")
        self.target.setValue(-1)
        self.target.setToolTip("The class whose score the saliency explains")
        widgets: tuple[QWidget, ...] = (QLabel("layer"), self.layer, QLabel("filter"),
                                        self.channel, QLabel("saliency for"), self.target)
        for widget in widgets:
            row2.addWidget(widget)
        row2.addStretch(1)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.strip = QLabel()
        self.strip.setTextFormat(Qt.TextFormat.RichText)
        self.strip.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.strip_area = QScrollArea()
        self.strip_area.setWidget(self.strip)
        self.strip_area.setWidgetResizable(True)
        self.strip_area.setFrameShape(QFrame.Shape.NoFrame)
        # three rows of cells and the legend, at any text size
        self.strip_area.setMinimumHeight(7 * self.fontMetrics().height())
        self.strip.setWordWrap(True)
        self.predictions = QLabel()
        self.predictions.setTextFormat(Qt.TextFormat.RichText)
        self.predictions.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.ngrams = QLabel()
        self.ngrams.setTextFormat(Qt.TextFormat.RichText)
        self.ngrams.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.ngrams.setWordWrap(True)
        lists = QGridLayout()
        lists.addWidget(self.predictions, 0, 0)
        lists.addWidget(self.ngrams, 0, 1)
        lists.setColumnStretch(1, 2)
        lists.setColumnStretch(0, 1)
        body = QWidget()
        body.setLayout(lists)
        layout.addLayout(row)
        layout.addLayout(row2)
        layout.addWidget(self.note)
        layout.addWidget(self.strip_area, 1)
        layout.addWidget(body, 1)
        self.source.currentIndexChanged.connect(self._source_changed)
        self.text.returnPressed.connect(self.refresh)
        for spin in (self.index, self.channel, self.target):
            spin.valueChanged.connect(lambda _v: self.refresh())
        self.layer.currentTextChanged.connect(lambda _t: self.refresh())
        self._source_changed()
        self.result: dict[str, Any] | None = None

    def _source_changed(self) -> None:
        typed = self.source.currentText() == SOURCES[0]
        self.text.setVisible(typed)
        self.index.setVisible(not typed)
        self.refresh()

    def fill_layers(self, analysis: ModelAnalysis) -> None:
        names = sequence_layer_names(analysis)
        fill_combo(self.layer, names)
        if names and self.layer.currentText() not in names:
            self.layer.setCurrentIndex(0)

    def reset(self) -> None:
        for label in (self.note, self.strip, self.predictions, self.ngrams):
            label.setText("")
        self.result = None

    def parameters(self) -> dict[str, Any]:
        run: Path | None = self.tab.document.run_dir
        return {"source": self.source.currentText(), "text": self.text.text(),
                "index": self.index.value(), "layer": self.layer.currentText(),
                "channel": None if self.channel.value() < 0 else self.channel.value(),
                "target": None if self.target.value() < 0 else self.target.value(),
                "run": run}

    def compute(self, context: Context, parameters: Any, task: Task) -> Any:
        if not parameters["layer"]:
            raise ValueError("this view is for text models: a Conv1d over word vectors "
                             "(e.g. the text_cnn preset)")
        return compute_text(context, parameters, task)

    def show_result(self, result: Any, parameters: Any) -> None:
        self.result = result
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Base)
        ink = palette.color(QPalette.ColorRole.Text)
        unknown = result["unknown"]
        self.note.setText(f"{result['text_source']}: {len(result['words'])} words, "
                          f"{result['note']}" + (f"; not in the vocabulary: "
                                                 f"{html.escape(', '.join(unknown))}"
                                                 if unknown else ""))
        self.strip.setText(strip_html(result["words"], result["strip"], result["saliency"],
                                      base, ink)
                           + f"<p>filter {result['filter']} of {result['layer']} "
                             f"({result['channels']} filters): orange where it fires; saliency "
                             f"for <b>{html.escape(result['target'])}</b>: red words raise its "
                             "score, blue words lower it (gradient × input)</p>")
        rows = "".join(f"<tr><td>{html.escape(p.label)}</td><td align='right'>"
                       f"{p.probability:.1%}</td></tr>" for p in result["top_k"])
        self.predictions.setText(f"<b>Top {len(result['top_k'])}</b><table cellpadding='3'>"
                                 f"{rows}</table>")
        grams = "".join(f"<tr><td>“{html.escape(g.words)}”</td><td align='right'>"
                        f"{g.activation:.3g}</td><td>text #{g.sample}</td></tr>"
                        for g in result["ngrams"])
        self.ngrams.setText(f"<b>The n-grams that excite filter {result['filter']} most</b> "
                            f"(over the {result['validation']:,} validation texts)"
                            f"<table cellpadding='3'>{grams}</table>")
