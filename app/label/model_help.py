"""The open model's help on the Label tab: "Suggest" runs it on the shown image (on the worker)
and lists its proposals, one per box and per mask region, to accept (Enter), reject (Delete) or
accept / reject all; each is one undo step of the image, and undo puts the proposal back in the
list. "Next most uncertain" ranks the unlabelled images by the model's uncertainty.

An image's proposals stay while the tab lives: look at another image and come back, they are
still there; a new suggestion for the image replaces them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Protocol

import numpy as np
from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtWidgets import QLabel, QListWidget, QWidget

from app.document import ModelDocument
from app.label.canvas import LabelCanvas
from app.label.commands import BoxEdit, MaskEdit, ProposalEdit
from app.label.jobs import LabelJobs, order_job, suggest_job
from app.label.thumbnails import ThumbnailStrip
from app.label.tool_row import FolderRow
from core.labels.label_set import Box, ImageLabels, LabelSet

if TYPE_CHECKING:
    from PySide6.QtGui import QUndoCommand, QUndoStack

    from core.labels.proposals import Proposal
    from core.labels.suggest import Suggestion

ACCEPT_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
REJECT_KEYS = (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)


@dataclass
class Pending:
    """One image's proposals not yet accepted or rejected, and the model's class names."""

    classes: list[str]
    items: list[Proposal]
    uncertainty: float


class _ProposalList(QListWidget):
    """The proposals, never fewer than four rows tall at the text size shown (projector text
    too: a list cut to one row hides what the model proposes)."""

    def minimumSizeHint(self) -> QSize:
        row = self.sizeHintForRow(0) if self.count() else self.fontMetrics().lineSpacing() + 4
        return QSize(super().minimumSizeHint().width(), 4 * row + 2 * self.frameWidth() + 2)


class _Tab(Protocol):
    """What of the Label tab the model's help uses (the tab is above this module)."""

    document: ModelDocument
    canvas: LabelCanvas
    folder_row: FolderRow
    thumbnails: ThumbnailStrip
    jobs: LabelJobs
    labels: LabelSet | None
    current: str | None
    image: np.ndarray | None
    stacks: dict[str, QUndoStack]

    def say(self, text: str) -> None: ...
    def item(self) -> ImageLabels: ...
    def class_index(self, name: str) -> int: ...
    def boxes_changed(self) -> None: ...
    def mask_changed(self, rect: tuple[int, int, int, int] | None) -> None: ...


class ModelHelp(QObject):
    def __init__(self, tab: _Tab, parent: QWidget) -> None:
        super().__init__(parent)
        self.tab = tab
        self.pending: dict[str, Pending] = {}
        self.selected: Proposal | None = None
        self.order: list[str] = []
        self._order_key: object = None
        self.title = QLabel("Proposals (Enter accepts, Delete rejects)")
        self.list = _ProposalList()
        self.list.setObjectName("LabelProposals")
        self.list.currentRowChanged.connect(self._row_changed)
        self.list.installEventFilter(self)
        tab.canvas.installEventFilter(self)
        tab.canvas.clicked.connect(self._clicked)
        f = tab.folder_row
        f.suggest.clicked.connect(self.request)
        f.accept.clicked.connect(lambda: self.accept())
        f.reject.clicked.connect(lambda: self.reject())
        f.accept_all.clicked.connect(self.accept_all)
        f.reject_all.clicked.connect(self.reject_all)
        f.next_uncertain.clicked.connect(self.next_most_uncertain)
        tab.document.run_changed.connect(self.forget_order)
        self.show()

    # -- what is shown --------------------------------------------------------------------
    def here(self) -> Pending | None:
        """The shown image's proposals, if any are left."""
        found = self.pending.get(self.tab.current or "")
        return found if found is not None and found.items else None

    def show(self) -> None:
        """List the shown image's proposals and draw them; keep the selection if it is left."""
        here = self.here()
        items = here.items if here is not None else []
        if self.selected not in items:
            self.selected = items[0] if items else None
        self.list.blockSignals(True)
        self.list.clear()
        for proposal in items:
            assert here is not None
            self.list.addItem(proposal.words(here.classes))
        if self.selected is not None:
            self.list.setCurrentRow(items.index(self.selected))
        self.list.blockSignals(False)
        self.list.updateGeometry()  # its least height follows its rows' height
        self.title.setVisible(bool(items))
        self.list.setVisible(bool(items))
        self.tab.canvas.show_proposals(items, self.selected)
        f = self.tab.folder_row
        f.accept.setEnabled(self.selected is not None)
        f.reject.setEnabled(self.selected is not None)
        f.accept_all.setEnabled(bool(items))
        f.reject_all.setEnabled(bool(items))

    def _row_changed(self, row: int) -> None:
        here = self.here()
        if here is not None and 0 <= row < len(here.items):
            self.selected = here.items[row]
            self.tab.canvas.show_proposals(here.items, self.selected)

    def _clicked(self, x: float, y: float) -> None:
        """A click on the canvas that drew nothing: select the proposal under it."""
        here = self.here()
        hit = [p for p in here.items if p.contains(x, y)] if here is not None else []
        if hit:
            # the smallest under the pointer: a region inside a box stays reachable
            self.selected = min(hit, key=lambda p: (lambda b: (b[2] - b[0]) * (b[3] - b[1]))(
                p.bounds()))
            self.show()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or self.selected is None:
            return False
        key = event.key()  # type: ignore[attr-defined]
        canvas = self.tab.canvas
        if watched is canvas and (canvas.selected is not None or canvas.drawing_polygon()):
            return False  # Enter closes the polygon, Delete removes the selected box
        if key in ACCEPT_KEYS:
            self.accept()
            return True
        if key in REJECT_KEYS:
            self.reject()
            return True
        return False

    # -- asking the model -----------------------------------------------------------------
    def request(self) -> None:
        tab, d = self.tab, self.tab.document
        if tab.image is None or tab.current is None:
            return
        tab.jobs.run("suggest", "Asking the model", suggest_job, d.spec, d.weights, d.run_dir,
                     tab.image, done=partial(self._suggested, tab.current))

    def _suggested(self, name: str, result: tuple[Suggestion, list[Proposal]]) -> None:
        found, proposals = result
        self.pending[name] = Pending(list(found.classes), list(proposals), found.uncertainty)
        if name != self.tab.current:
            return
        self.selected = None
        self.show()
        self.tab.canvas.setFocus()
        self.tab.say(f"{len(proposals)} proposals (uncertainty {found.uncertainty:.2f}): "
                     "Enter accepts, Delete rejects, a click selects" if proposals else
                     f"The model proposes nothing here (uncertainty {found.uncertainty:.2f})")

    # -- accepting and rejecting ------------------------------------------------------------
    def _label_edit(self, here: Pending, proposal: Proposal) -> QUndoCommand | None:
        tab = self.tab
        item = tab.item()
        name = here.classes[proposal.label] if 0 <= proposal.label < len(here.classes) else (
            f"class {proposal.label + 1}")
        index = tab.class_index(name)
        if proposal.box is not None:
            b = proposal.box
            before = [Box(k.label, k.x1, k.y1, k.x2, k.y2) for k in item.boxes]
            return BoxEdit(item, before, [*before, Box(index, b.x1, b.y1, b.x2, b.y2)],
                           "Accept box", tab.boxes_changed)
        patch = proposal.mask_patch(item.mask_or_empty(), index + 1)
        return None if patch is None else MaskEdit(item, patch, "Accept region", -1,
                                                    tab.mask_changed)

    def _decide(self, proposal: Proposal | None, accept: bool) -> None:
        here, tab = self.here(), self.tab
        proposal = proposal or self.selected
        if here is None or proposal is None or proposal not in here.items or tab.current is None:
            return
        at = here.items.index(proposal)
        inner = self._label_edit(here, proposal) if accept else None
        after = here.items[at + 1] if at + 1 < len(here.items) else (
            here.items[at - 1] if at else None)
        self.selected = after  # the next one is selected: Enter, Enter… walks through the list
        text = ("Accept " if accept else "Reject ") + proposal.words(here.classes)
        tab.stacks[tab.current].push(ProposalEdit(here.items, proposal, inner, text, self.show))

    def accept(self, proposal: Proposal | None = None) -> None:
        self._decide(proposal, True)

    def reject(self, proposal: Proposal | None = None) -> None:
        self._decide(proposal, False)

    def _all(self, accept: bool) -> None:
        here, tab = self.here(), self.tab
        if here is None or tab.current is None:
            return
        stack = tab.stacks[tab.current]
        stack.beginMacro(f"{'Accept' if accept else 'Reject'} {len(here.items)} proposals")
        for proposal in list(here.items):
            self._decide(proposal, accept)
        stack.endMacro()

    def accept_all(self) -> None:
        self._all(True)

    def reject_all(self) -> None:
        self._all(False)

    # -- the next most uncertain image ------------------------------------------------------
    def forget_order(self) -> None:
        self.order = []

    def next_most_uncertain(self) -> None:
        tab, d = self.tab, self.tab.document
        if tab.labels is None:
            return
        key = (d.run_version, id(d.spec), tab.labels.images_dir)
        unlabelled = [n for n in tab.labels.names()
                      if tab.labels.images[n].status == "unlabelled"]
        if not unlabelled:
            tab.say("Every image is labelled")
            return
        if self.order and self._order_key == key:
            self._go_uncertain()
            return
        paths = [tab.labels.images_dir / n for n in unlabelled]
        self._order_key = key
        tab.jobs.run("order", "Ranking by uncertainty", order_job, d.spec, d.weights,
                     d.run_dir, paths, done=self._ordered)

    def _ordered(self, scored: list[tuple[str, float]]) -> None:
        self.order = [name for name, _u in scored]
        self._go_uncertain()

    def _go_uncertain(self) -> None:
        labels = self.tab.labels
        if labels is None:
            return
        left = [n for n in self.order if n in labels.images
                and labels.images[n].status == "unlabelled"]
        if not left:
            self.tab.say("Every image is labelled")
            return
        self.tab.thumbnails.select(left[0])
        self.tab.say(f"{left[0]}: the unlabelled image the model is least sure of "
                     f"({len(left)} left, most uncertain first)")

    def forget(self) -> None:
        """Another folder opened: its images' proposals and order start empty."""
        self.pending.clear()
        self.order = []
        self.selected = None
        self.show()
