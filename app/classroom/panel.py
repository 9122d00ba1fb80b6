"""The Classroom tab: a lesson's text and steps, models side by side, and the step-through.

The model in the builder is the one stepped through: every edit (say, the padding) rebuilds the
session on the worker and the numbers move. A lesson adds its fixed kernels and input (matched
by layer name and shape, so they survive edits that keep the shapes) and its comparison models.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.classroom.backward_view import BackwardView
from app.classroom.grids import NORMAL, PRESENT, Look
from app.classroom.matrix_view import MatrixView
from app.classroom.model_card import ModelCard, bold
from app.classroom.step_view import StepThroughView
from core.analysis.model_analysis import ModelAnalysis, analyze_model
from core.classroom.builder_session import build_session
from core.classroom.lessons import Lesson
from core.model.spec import ModelSpec

NO_LESSON = ("Pick a convolution, pooling or transposed-convolution layer and an output "
             "position; the Lessons menu opens the lectures' worked examples.")
REBUILD_MS = 150
"""Edits arriving faster than this (typing in a spin box) rebuild the session once."""
LIST_ROWS = 5
"""The lesson's steps shown above the split before the cards get more room."""
LIST_SHARE = 0.3
"""The tab's width the steps list takes for its titles (longer ones wrap)..."""
LIST_LEAST_SHARE = 0.2
"""The least the list narrows to so that the cards and tools beside it are not cut."""
LIST_WIDE_SHARE = 0.45
"""...or up to this share, where the cards keep CARD_LEAST_CHARS each beside it and the tools:
a title on one line is a row less (at projector text the backward lesson's first title took
two of the four rows the split left the list)."""
CARD_LEAST_CHARS = 15
"""The least a model card keeps when the list widens, in average characters."""
COMPACT_LINES = 26
"""A window fewer body-text lines tall than this (projector text on a 1366×768 screen: ~20)
is short for its type: the area above the split folds to one line (the steps as a drop-down
beside the Show and Input choices; the cards and the lesson's text are left out), so the
step-through's grids get the height (they had a ~90 px strip, their numbers 9 px)."""
HEADING_SCALE = 1.4
"""The lesson title's size, relative to the body text."""
INPUT_CHOICES: tuple[tuple[str, str, str | None], ...] = (
    ("random", "random values (the lesson's own input when a lesson is open)", None),
    ("digit 0", "a digit: the bundled digits' test image 0", "digits:0"),
    ("digit 7", "a digit: the bundled digits' test image 7", "digits:7"),
    ("astronaut", "a photo: scikit-image's astronaut", "astronaut"),
    ("camera", "a photo: scikit-image's camera man", "camera"),
    ("coffee", "a photo: scikit-image's coffee cup", "coffee"),
    ("image file…", "an image file of yours (fitted to the model's input)", "file"),
    ("array file…", "an array file of yours (.npy or text, used exactly as given)", "array"))
"""The input chooser's entries (short, as the box shows them; in full, its tooltip) and the
source each gives ``build_session``: at projector text beside three model cards the long
texts were cut ("the lesson's,…")."""
LESSON_INPUT = ("the lesson's", "the lesson's own input")
"""The first entry while a lesson is open (it brings its input)."""
MODES = (("Forward", "Forward: how one output value is made", "forward"),
         ("Backward", "Backward: the terms of one gradient", "backward"),
         ("As a matrix", "As a matrix: a convolution as a sparse matrix beside a locally "
          "connected and a dense layer", "matrix"))
"""What the step-through shows (short; in full, its tooltip): the arithmetic of an output, a
gradient's terms, a matrix."""


def wrap_to_width(text: str, width: int, metrics: QFontMetrics) -> str:
    """``text`` broken at spaces into lines no wider than ``width`` pixels where it can be (a
    single word wider than that stays whole)."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and metrics.horizontalAdvance(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return "\n".join(lines)

class ClassroomPanel(QWidget):
    """Lesson text and steps, model cards side by side, and the step-through view."""

    def __init__(self, document: Any) -> None:
        super().__init__()
        self.document = document
        self.lesson: Lesson | None = None
        self.pinned: ModelSpec | None = None
        self.look: Look = NORMAL
        self.showing_model = 0
        self.step_view = StepThroughView()
        self.backward_view = BackwardView()
        self.matrix_view = MatrixView()
        self.step_view.loader.loaded.connect(self._session_ready)
        self.step_view.loader.failed.connect(lambda _message: self._session_ready(None))
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(REBUILD_MS)
        self.timer.timeout.connect(self._rebuild_when_shown)
        self._rebuild_pending = False
        self._build()
        document.changed.connect(self._document_changed)
        document.run_changed.connect(self._document_changed)
        self._document_changed()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.heading = QLabel("Step-through of the model in the builder")
        self._style_heading()
        self.heading.setWordWrap(True)
        self.text = QLabel(NO_LESSON)
        self.text.setWordWrap(True)
        self.step_text = QLabel()
        self.step_text.setWordWrap(True)
        layout.addWidget(self.heading)
        layout.addWidget(self.step_text)
        top = QHBoxLayout()
        self._top_row = top
        self.steps = QListWidget()
        self.steps.setWordWrap(True)  # long titles wrap at projector text, not cut
        # its ~200 px hint must not make the area above the split taller (it then scrolled
        # and cut the cards); _fit_split gives it its rows' height
        self.steps.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Ignored)
        self.steps.currentRowChanged.connect(self.show_lesson_step)
        self.steps.setVisible(False)  # shown with a lesson
        top.addWidget(self.steps)
        # the cards side by side where they fit, else wrapped to further rows (three cards at
        # 1366 px were ~290 px wider than the tab and cut at the right): _fit_split places them
        self.cards_box = QGridLayout()
        self.card_columns = 0
        """The cards per row of the grid they are placed in (0: not placed yet)."""
        top.addLayout(self.cards_box, 1)
        # each label beside its box: three rows, not five (stacked, the column was the tallest
        # part above the split at projector text, and took the list's and grids' room)
        self.tools = QWidget()
        tools = QGridLayout(self.tools)
        tools.setContentsMargins(0, 0, 0, 0)
        self.pin_button = QPushButton("Pin for comparison")
        self.pin_button.setToolTip("Keep the model as it is now beside the model you edit "
                                   "(before and after an edit)")
        self.pin_button.clicked.connect(self.pin)
        tools.addWidget(self.pin_button, 0, 0, 1, 2)
        self.input_choice = QComboBox()
        self.input_choice.setToolTip("The input the model is run on (images are fitted to the "
                                     "model's input as the inspector does; arrays are used "
                                     "exactly as given)")
        for text, full, data in INPUT_CHOICES:
            self.input_choice.addItem(text, data)
            self.input_choice.setItemData(self.input_choice.count() - 1, full,
                                          Qt.ItemDataRole.ToolTipRole)
        self.input_choice.activated.connect(self._input_chosen)
        self.input_source: str | None = None
        self.input_label = QLabel("Input")
        tools.addWidget(self.input_label, 1, 0)
        tools.addWidget(self.input_choice, 1, 1)
        self.mode_label = QLabel("Show")
        self.mode_choice = QComboBox()
        self.mode_choice.setToolTip("Forward: how one output value is made; backward: the "
                                    "terms of one gradient; as a matrix: a convolution as a "
                                    "sparse matrix beside a locally connected and a dense layer")
        for text, full, data in MODES:
            self.mode_choice.addItem(text, data)
            self.mode_choice.setItemData(self.mode_choice.count() - 1, full,
                                         Qt.ItemDataRole.ToolTipRole)
        for choice in (self.mode_choice, self.input_choice):
            # as wide as the widest entry where they sit beside the cards (see set_compact)
            choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.mode_choice.currentIndexChanged.connect(
            lambda index: self.set_mode(self.mode_choice.itemData(index)))
        tools.addWidget(self.mode_label, 2, 0)
        tools.addWidget(self.mode_choice, 2, 1)
        tools.setRowStretch(3, 1)
        top.addWidget(self.tools, 0, Qt.AlignmentFlag.AlignTop)
        top_box = QWidget()
        # the lesson's explanation below the list and cards, scrolling with them: read once,
        # it must not take the list's, the cards' or the grids' room at projector text
        top_column = QVBoxLayout(top_box)
        top_column.setContentsMargins(0, 0, 0, 0)
        top_column.addLayout(top)
        top_column.addWidget(self.text)
        top_column.addStretch(1)
        # squeezed (projector text, a long lesson text), the list and cards scroll, not cut
        self.top_scroll = QScrollArea()
        self.top_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.top_scroll.setWidgetResizable(True)
        self.top_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.top_scroll.setWidget(top_box)
        self.top_box = top_box
        # the cards and text wrap to the box's width: a width that settles after the split was
        # fitted (a first show) left the split 4 px off until the next step refitted it
        top_box.installEventFilter(self)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.top_scroll)
        self.views = QStackedWidget()
        for view in (self.step_view, self.backward_view, self.matrix_view):
            self.views.addWidget(view)
            if view is not self.step_view:
                view.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.splitter.addWidget(self.views)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 3)
        # the one line above the step-through on a short window (see COMPACT_LINES)
        self.compact = False
        self.compact_bar = QWidget()
        bar = QHBoxLayout(self.compact_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        self._compact_row = bar
        self.step_choice = QComboBox()
        self.step_choice.setToolTip("The lesson's steps (Page Down / Page Up step through them)")
        self.step_choice.currentIndexChanged.connect(self._step_chosen)
        self.steps.currentRowChanged.connect(self._show_step_choice)
        bar.addWidget(self.step_choice, 2)
        self.compact_bar.setVisible(False)
        layout.addWidget(self.compact_bar)
        layout.addWidget(self.splitter, 1)
        self.splitter.splitterMoved.connect(self._splitter_moved)
        # the split is set in pixels: when the splitter's own height changes (the step text
        # above it reserved another line) Qt rescales both parts, and the grids then changed
        # size by a few pixels until the next step refitted it
        self.splitter.installEventFilter(self)
        self._fitted_split = True
        """The split follows the content (False once the user drags it)."""
        self.cards: list[ModelCard] = []
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self._fit_split)
        self._fitted_need = 0
        for view in (self.step_view, self.backward_view, self.matrix_view):
            view.position_changed.connect(self._step_shown)

    # -- modes ------------------------------------------------------------------------------
    def current_view(self) -> Any:
        """The view shown below the split: the step-through, backward or matrix view."""
        return self.views.currentWidget()

    def set_mode(self, mode: str) -> None:
        """Show the forward step-through, the backward step or the matrix view."""
        index = [m for _, _, m in MODES].index(mode)
        if self.mode_choice.currentIndex() != index:
            self.mode_choice.blockSignals(True)
            self.mode_choice.setCurrentIndex(index)
            self.mode_choice.blockSignals(False)
        self.views.setCurrentIndex(index)
        for view in (self.step_view, self.backward_view, self.matrix_view):
            # the stack takes its largest page's minimum size, except from ignored pages
            view.setMinimumHeight(0)
            policy = (QSizePolicy.Policy.Preferred if view is self.current_view() else
                      QSizePolicy.Policy.Ignored)
            view.setSizePolicy(policy, policy)
        self._fitted_split = True
        self.fit_layout()
        if self.isVisible():
            self.focus_position()

    def _session_ready(self, session: Any) -> None:
        """The step-through's session reaches the backward and matrix views too."""
        self.backward_view.set_session(session)
        self.matrix_view.set_session(session)

    # -- models -----------------------------------------------------------------------------
    def _document_changed(self) -> None:
        lesson = self.lesson
        # another model opened (a load empties the undo stack; an edit keeps the name)
        if (lesson is not None and self.document.undo_stack.count() == 0
                and self.document.spec.name != lesson.spec.name):
            self.set_lesson(None)  # the lesson is over
            return
        self._refresh_cards()
        if self.showing_model == 0:
            self.timer.start()

    def _rebuild_when_shown(self) -> None:
        """An edit's rebuild runs only while the tab is shown: building a step session imports
        torch, which the window must not load before its first paint or for a hidden tab."""
        if self.isVisible():
            self._rebuild_pending = False
            self.rebuild()
        else:
            self._rebuild_pending = True

    def showEvent(self, event: object) -> None:
        super().showEvent(event)  # type: ignore[arg-type]
        self.focus_position()
        if self._rebuild_pending or self.step_view.session is None:
            self._rebuild_pending = False
            self.timer.start()

    def focus_position(self) -> None:
        """The keyboard to the step-through (arrow keys move the position) unless a control
        of this tab already has it."""
        focus = self.window().focusWidget()
        if focus is None or not self.isAncestorOf(focus) or (
                self.views.isAncestorOf(focus) and not self.current_view().isAncestorOf(focus)
                and focus is not self.current_view()):
            self.current_view().setFocus(Qt.FocusReason.OtherFocusReason)

    def rebuild(self, layer: str | None = None, position: tuple[int, ...] | None = None) -> None:
        """Rebuild the step session of the builder's model (on the worker)."""
        spec = self.document.spec
        lesson = self.lesson
        path = self.document.weights  # the one owner of the current weights
        if lesson is not None:
            path = None  # a lesson's own kernels, not a training run's
        self.showing_model = 0
        source = self.input_source
        self.step_view.load(lambda: build_session(spec, path, lesson, source), layer, position)

    def _refresh_cards(self) -> None:
        models: list[tuple[str, ModelAnalysis]] = [("In the builder", self.document.analysis)]
        if self.pinned is not None:
            models.append(("Pinned", analyze_model(self.pinned)))
        if self.lesson is not None:
            models += [("Compare", self.lesson.analysis(i + 1))
                       for i in range(len(self.lesson.compare))]
        while len(self.cards) < len(models):
            card = ModelCard("")
            self.cards_box.addWidget(card, 0, len(self.cards))  # side by side until the fit
            self.cards.append(card)
            self.card_columns = 0  # placed again by the next fit
        for card, (title, analysis) in zip(self.cards, models, strict=False):
            card.show_analysis(analysis, f"{title}: {analysis.spec.name}")
            card.setVisible(True)
        for card in self.cards[len(models):]:
            card.setVisible(False)
        self.fit_layout()

    def _input_chosen(self, index: int) -> None:
        choice = self.input_choice.itemData(index)
        if choice in ("file", "array"):
            from PySide6.QtWidgets import QFileDialog

            pattern = ("Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff)" if choice == "file"
                       else "Arrays (*.npy *.txt *.csv);;All files (*)")
            path, _ = QFileDialog.getOpenFileName(self, "Input for the step-through", "",
                                                  pattern)
            if not path:
                return
            choice = path if choice == "file" else f"array:{path}"
        self.set_input(choice)

    def set_input(self, source: str | None) -> None:
        """Run the model on ``source`` (see build_session) and step through that."""
        self.input_source = source
        self.rebuild()

    def pin(self) -> None:
        self.pinned = self.document.spec
        self._refresh_cards()

    # -- lessons ----------------------------------------------------------------------------
    def _step_chosen(self, index: int) -> None:
        if index >= 0 and index != self.steps.currentRow():
            self.steps.setCurrentRow(index)

    def _show_step_choice(self, row: int) -> None:
        self.step_choice.blockSignals(True)
        self.step_choice.setCurrentIndex(row)
        self.step_choice.blockSignals(False)

    def set_compact(self, compact: bool) -> None:
        """Fold the area above the split to one line (a short window at large type) or back:
        the Show and Input choices move between the tools beside the cards and that line."""
        if compact == self.compact:
            return
        self.compact = compact
        tools = self.tools.layout()
        assert isinstance(tools, QGridLayout)
        shrink = (QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon if compact
                  else QComboBox.SizeAdjustPolicy.AdjustToContents)
        for choice in (self.step_choice, self.mode_choice, self.input_choice):
            choice.setSizeAdjustPolicy(shrink)
            # elided in their share of the line; beside the cards each as wide as its widest
            # entry (a changed length also drops the box's cached minimum width: the policy
            # alone left the line's, and at projector text "Forward: one…" was cut)
            choice.setMinimumContentsLength(8 if compact else 0)
        if compact:
            for widget, stretch in ((self.mode_label, 0), (self.mode_choice, 1),
                                    (self.input_label, 0), (self.input_choice, 1)):
                self._compact_row.addWidget(widget, stretch)
        else:
            tools.addWidget(self.input_label, 1, 0)
            tools.addWidget(self.input_choice, 1, 1)
            tools.addWidget(self.mode_label, 2, 0)
            tools.addWidget(self.mode_choice, 2, 1)
        self.step_choice.setVisible(self.lesson is not None)
        self.compact_bar.setVisible(compact)
        self.top_scroll.setVisible(not compact)
        # the title and the layer's settings line too: the step text says which step it is
        self.heading.setVisible(not compact)
        self.compact_bar.setToolTip(self.heading.text() if compact else "")
        self.step_view.set_brief(compact)
        if self.lesson is not None and 0 <= self.steps.currentRow() < len(self.lesson.steps):
            self.step_text.setText(self._step_text(self.steps.currentRow()))
        self._fitted_split = True

    def set_lesson(self, lesson: Lesson | None) -> None:
        """Show a lesson (the builder already holds its model)."""
        self.lesson = lesson
        self.pinned = None
        self.input_source = None  # a lesson brings its own input
        entry = LESSON_INPUT if lesson is not None else INPUT_CHOICES[0][:2]
        self.input_choice.setItemText(0, entry[0])
        self.input_choice.setItemData(0, entry[1], Qt.ItemDataRole.ToolTipRole)
        self.input_choice.setCurrentIndex(0)
        self.steps.blockSignals(True)
        self.steps.clear()
        self.step_choice.blockSignals(True)
        self.step_choice.clear()
        self.step_text.clear()
        self.steps.setVisible(lesson is not None and self.look is not PRESENT)
        if lesson is None:
            self.heading.setText("Step-through of the model in the builder")
            self.text.setText(NO_LESSON)
        else:
            self.heading.setText(lesson.title)
            self.text.setText(lesson.explanation)
            for number, step in enumerate(lesson.steps, 1):
                item = QListWidgetItem(f"{number}. {step.title}")
                item.setData(Qt.ItemDataRole.UserRole, item.text())
                self.steps.addItem(item)
                self.step_choice.addItem(item.text())
        self.steps.blockSignals(False)
        self.step_choice.blockSignals(False)
        self.step_choice.setVisible(lesson is not None)
        self._refresh_cards()
        self.timer.stop()  # the document's reload asked for a rebuild; this one replaces it
        first = lesson.steps[0] if lesson is not None else None
        if first is not None and first.model == 0 and first.layer is not None and \
                first.mode == "forward":
            self.rebuild(first.layer, first.position)
        else:
            self.rebuild()
        if first is not None:
            # a first step about the cards shows the step-through, not the view the lesson
            # before left (the matrix lesson's "As a matrix"); its later card steps keep theirs
            self.set_mode(first.mode if first.layer is not None else "forward")
        if lesson is not None:
            self.steps.setCurrentRow(0)
        self.fit_layout()
        if self.isVisible():
            self.focus_position()

    def show_lesson_step(self, row: int) -> None:
        lesson = self.lesson
        if lesson is None or not 0 <= row < len(lesson.steps):
            return
        step = lesson.steps[row]
        self._show_step_text(row)
        if step.layer is None or step.position is None:
            return
        self.set_mode(step.mode)
        if step.mode == "backward":
            self.backward_view.set_choice(step.layer, step.grad,  # type: ignore[arg-type]
                                          step.position, step.target, step.term)
        elif step.mode == "matrix":
            self.matrix_view.set_choice(step.layer, step.position[0], step.position[1])
        if step.model != self.showing_model:
            self.showing_model = step.model
            if step.model == 0:
                self.rebuild(*((step.layer, step.position) if step.mode == "forward"
                               else (None, None)))
            else:
                self.step_view.load(lambda: lesson.session(step.model),
                                    *((step.layer, step.position) if step.mode == "forward"
                                      else (None, None)))
            return
        if step.mode == "forward":
            self.step_view.go_to(step.layer, step.position)

    def _show_step_text(self, row: int) -> None:
        """The step's text and its model's card highlighted, in the current look; the
        position is left where it is (a look changed: present mode entered or left)."""
        lesson = self.lesson
        if lesson is None or not 0 <= row < len(lesson.steps):
            return
        step = lesson.steps[row]
        self.step_text.setText(self._step_text(row))
        for card in self.cards:
            card.set_highlight(False, self.look)  # also sets the cards' text colour
        card_index = 0 if step.model == 0 else len(self.cards) - len(lesson.compare) \
            + step.model - 1
        if 0 <= card_index < len(self.cards):
            self.cards[card_index].set_highlight(True, self.look)

    def _step_text(self, row: int) -> str:
        assert self.lesson is not None
        step = self.lesson.steps[row]
        if self.compact:  # the drop-down above says which step (a line less, often)
            return step.text
        return f"<b>Step {row + 1} of {len(self.lesson.steps)}: {step.title}.</b> {step.text}"

    def _reserve_step_text(self) -> None:
        """The step text as tall as the lesson's longest at this width: the step-through
        below keeps its size from step to step (one- and two-line steps moved it)."""
        if self.lesson is None or self.step_text.width() <= 0:
            self.step_text.setMinimumHeight(0)
            return
        probe = QLabel()
        probe.setWordWrap(True)
        probe.setFont(self.step_text.font())
        tallest = 0
        for row in range(len(self.lesson.steps)):
            probe.setText(self._step_text(row))
            tallest = max(tallest, probe.heightForWidth(self.step_text.width()))
        self.step_text.setMinimumHeight(tallest)

    def next_lesson_step(self, delta: int) -> bool:
        if self.lesson is None:
            return False
        row = self.steps.currentRow() + delta
        if 0 <= row < self.steps.count():
            self.steps.setCurrentRow(row)
            return True
        return False

    def set_look(self, look: Look) -> None:
        self.look = look
        for view in (self.step_view, self.backward_view, self.matrix_view):
            view.set_look(look)
        presenting = look is PRESENT
        self._style_heading()
        # stepped with the keyboard in presentation mode; the step text says which
        self.steps.setVisible(not presenting and self.lesson is not None)
        self.pin_button.setVisible(not presenting)
        self._fitted_split = True
        self.fit_layout()
        # restyled, not stepped: Esc from present mode leaves the view where the presenter
        # stepped to with the arrow keys (it went back to the lesson step's position)
        self._show_step_text(self.steps.currentRow())

    def _style_heading(self) -> None:
        """The title larger than the body text at every text size (a fixed 14 pt was smaller
        than projector text's 24 pt)."""
        font = bold()
        font.setPointSizeF(self.font().pointSizeF() * HEADING_SCALE)
        self.heading.setFont(font)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._style_heading()
            self._fitted_split = True
            self.fit_layout()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.top_box and event.type() == QEvent.Type.Resize:
            assert isinstance(event, QResizeEvent)
            if event.size().width() != event.oldSize().width():
                self.fit_layout()
        if watched is self.splitter and event.type() == QEvent.Type.Resize:
            assert isinstance(event, QResizeEvent)
            if event.size().height() != event.oldSize().height():
                self.fit_layout()
        return super().eventFilter(watched, event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_layout()

    def fit_layout(self) -> None:
        """Fit the steps list to its titles and the split to the content, once the layouts
        have settled at the current size and font."""
        self._fit_timer.start()

    def _step_shown(self) -> None:
        """A new layer can need another height (its kernel's rows): fit the split again."""
        if self.current_view().wanted_height() != self._fitted_need:
            self.fit_layout()

    def _splitter_moved(self) -> None:
        self._fitted_split = False

    def _fit_split(self) -> None:
        """The steps list as wide as its longest title (up to 30 % of the tab; longer titles
        wrap); above the split what the lesson's list and cards need, the step-through the
        rest (fixed shares at projector text left the grids a 90 px strip, or cut the list)."""
        self.set_compact(self.window().height() < COMPACT_LINES * self.fontMetrics().height())
        for choice in (self.mode_choice, self.input_choice):
            # beside the cards every entry reads whole (their least width is otherwise a few
            # characters: at projector text the cards took the rest and cut "Forward: one…");
            # on the one line of a short window they share it, elided
            choice.setMinimumWidth(0 if self.compact else choice.sizeHint().width())
        if self.compact:
            self._reserve_step_text()
            # never squeezed below its lines and smallest grids (they then overlapped): the
            # tab's page scrolls instead
            self.current_view().setMinimumHeight(self.current_view().least_height())
            return
        metrics = self.steps.fontMetrics()
        items = [self.steps.item(i) for i in range(self.steps.count())]
        titles = [str(item.data(Qt.ItemDataRole.UserRole) or item.text()) for item in items]
        widest = max((metrics.horizontalAdvance(t) for t in titles), default=0)
        chrome = 2 * self.steps.frameWidth() + \
            self.steps.verticalScrollBar().sizeHint().width() + 16
        # what the cards (each at least its longest word and CARD_LEAST_CHARS) and the tools
        # need beside the list in the area above the split: the list widens into the rest;
        # cards that do not fit side by side beside the least list wrap to another row
        cards = [card for card in self.cards if not card.isHidden()]
        leasts = [max(card.minimumSizeHint().width(),
                      CARD_LEAST_CHARS * metrics.averageCharWidth()) for card in cards]
        gap = max(0, self.cards_box.horizontalSpacing())
        viewport = self.top_scroll.viewport().width()
        fixed = self.tools.minimumSizeHint().width() + self._top_row.spacing() * 2
        least_list = max(120, int(self.width() * LIST_LEAST_SHARE)) if self.steps.isVisibleTo(
            self) else 0

        def cards_width(columns: int) -> int:
            """The cards' least width ``columns`` to a row (each column its widest card's)."""
            return sum(max(leasts[j::columns]) + gap for j in range(columns))

        columns = max(1, len(cards))
        while columns > 1 and fixed + least_list + cards_width(columns) > viewport:
            columns -= 1
        self._place_cards(cards, columns)
        beside = fixed + (cards_width(columns) if cards else 0)
        spare = viewport - beside
        # the list narrower than its 30 % where that keeps the cards and tools whole (at
        # projector text the fc_local_conv lesson's tools were cut by 19 px), but not below
        # LIST_LEAST_SHARE (where even that would not keep them whole, it changes nothing)
        share = min(spare, int(self.width() * LIST_WIDE_SHARE)) \
            if spare >= self.width() * LIST_LEAST_SHARE else int(self.width() * LIST_SHARE)
        width = max(120, min(widest + chrome, share))
        self.steps.setFixedWidth(width)
        # QListView's own word wrap keeps each row as wide as its text on one line (the list
        # then scrolled sideways at 1366 px in projector text): titles wider than the list are
        # broken at spaces here
        changed = False
        for item, title in zip(items, titles, strict=True):
            wrapped = wrap_to_width(title, width - chrome, metrics)
            if item.text() != wrapped:
                item.setText(wrapped)
                changed = True
        if changed:
            self.steps.doItemsLayout()  # a changed text alone does not re-measure the rows
        self._reserve_step_text()
        if not self._fitted_split:
            return
        total = sum(self.splitter.sizes())
        top_box = self.top_box
        if total <= 0:
            return
        # what the list, the cards and the tools need at their widths (the list's own hint is
        # ~200 px tall; the explanation below them scrolls into view)
        top_layout = top_box.layout()
        assert top_layout is not None
        margins = top_layout.contentsMargins()
        box = margins.top() + margins.bottom() + top_layout.spacing()
        # the cards' rows one under another (each as tall as its tallest card)
        shown = [card for card in self.cards if not card.isHidden()]
        rows_of_cards = [shown[i:i + max(1, self.card_columns)]
                         for i in range(0, len(shown), max(1, self.card_columns))]
        parts = [sum(max(card.heightForWidth(card.width()) for card in row)
                     for row in rows_of_cards)
                 + max(0, self.cards_box.verticalSpacing()) * max(0, len(rows_of_cards) - 1)]
        parts.append(self.tools.sizeHint().height())
        line = self.fontMetrics().height()
        rows = 0
        if self.steps.isVisible() and self.steps.count():
            frame = 2 * self.steps.frameWidth() + 4
            heights = [self.steps.sizeHintForRow(i) for i in range(self.steps.count())]
            rows = sum(heights[:LIST_ROWS]) + frame + box
            parts.append(min(sum(heights) + frame, max(total // 3, rows - box)))
        need = max(parts) + box
        view = self.current_view()
        wanted = max(view.needed_height(), view.wanted_height())
        self._fitted_need = wanted
        # the list's first rows before the grids' body-size wish (a 5×5 kernel's rows, the
        # backward view's twelve lines): the grids then draw their numbers a little smaller
        least = min(view.needed_height(), max(total - rows, view.least_height()))
        # never squeezed below that (its wrapped lines then overlapped the grids): where the
        # window is too small for it, the tab's page scrolls instead
        view.setMinimumHeight(least)
        # what a class reads first: the step-through with its numbers at the size it wants
        # (readable from the back of a room at large type), then the list's first rows, then
        # the cards (fixed shares at projector text left the grids a 90 px strip, or cut the
        # list); what does not fit above the split scrolls there
        top = max(min(need, total - wanted), min(rows, total - least), 2 * line)
        self.splitter.setSizes([top, total - top])

    def _place_cards(self, cards: list[ModelCard], columns: int) -> None:
        """The shown cards ``columns`` to a row, in order (the hidden ones after them)."""
        if columns == self.card_columns:
            return
        self.card_columns = columns
        for card in self.cards:
            self.cards_box.removeWidget(card)
        for column in range(self.cards_box.columnCount()):
            self.cards_box.setColumnStretch(column, 0)
        for index, card in enumerate(cards):
            self.cards_box.addWidget(card, index // columns, index % columns)
        for card in self.cards:
            if card not in cards:
                self.cards_box.addWidget(card, len(cards) // columns + 1, 0)
        for column in range(columns):
            self.cards_box.setColumnStretch(column, 1)
        self.fit_layout()  # again, at the cards' new widths

    def stop(self) -> None:
        self.timer.stop()
        for view in (self.step_view, self.backward_view, self.matrix_view):
            view.stop()
