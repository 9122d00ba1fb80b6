"""The open model as a Qt object: the current spec, its analysis, the file, undo and selection.

Every edit is a core.model.editing function turned into an undoable command that stores the
spec before and after; views listen to ``changed`` and call the methods here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from core.analysis.model_analysis import ModelAnalysis, analyze_model
from core.model import editing, groups
from core.model.clipboard import CopiedLayers, paste_layers
from core.model.errors import ModelError
from core.model.spec import ModelSpec, save_model

_MERGEABLE = 1


class SpecCommand(QUndoCommand):
    """One edit: the spec before and after, and which layer is selected in each."""

    def __init__(self, document: ModelDocument, before: ModelSpec, after: ModelSpec, text: str,
                 select: str | None, merge_key: tuple[Any, ...] | None = None) -> None:
        super().__init__(text)
        self.document = document
        self.before, self.after = before, after
        self.select_before = document.current
        self.select_after = select if select is not None else document.current
        self.merge_key = merge_key

    def redo(self) -> None:
        self.document._set_spec(self.after, self.select_after)

    def undo(self) -> None:
        self.document._set_spec(self.before, self.select_before)

    def id(self) -> int:
        return _MERGEABLE if self.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        """Merge ``other`` into this step when both belong to one burst of typing in one field
        (the same merge key); typed back to where it started, the step is dropped."""
        if not isinstance(other, SpecCommand) or other.merge_key != self.merge_key:
            return False
        self.after = other.after
        self.select_after = other.select_after
        if self.after == self.before:
            self.setObsolete(True)
        return True


class WeightsCommand(QUndoCommand):
    """One change of the weights the window holds (an edited kernel): before and after."""

    def __init__(self, document: ModelDocument, after: Path, text: str) -> None:
        super().__init__(text)
        self.document = document
        self.before = (document.weights, document.run_dir)
        self.after = (after, document.run_dir)

    def redo(self) -> None:
        self.document.use_weights(*self.after)

    def undo(self) -> None:
        self.document.use_weights(*self.before)


class ModelDocument(QObject):
    """The model being edited. ``changed`` fires after every spec change (edit, undo, load)."""

    changed = Signal()
    current_changed = Signal(str)
    loaded = Signal()
    """A different model replaced the current one (New, Open, a preset, a run); ``changed``
    follows. Views that keep per-model state (the diagram's zoom) reset on it."""
    message = Signal(str)
    """A short note for the status bar (e.g. why a rename was refused)."""
    run_changed = Signal()
    """The weights or the run changed (a run opened, an epoch saved, a new model loaded)."""

    def __init__(self, spec: ModelSpec, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.spec = spec
        self.analysis: ModelAnalysis = analyze_model(spec)
        self.path: Path | None = None
        self.current: str = spec.layers[0].name if spec.layers else ""
        self._selections = 0
        """How many times the current layer changed (a view's select() while ``changed``
        is being followed)."""
        self.locked_reason: str = ""
        self.weights: Path | None = None
        """The weights file the views use; None: random initial weights."""
        self.run_dir: Path | None = None
        """The training run those weights come from (its dataset, classes, snapshots)."""
        self.run_version = 0
        """Bumped on every change of model, weights or run: views compare it to drop stale work."""

    # -- state ------------------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        return not self.undo_stack.isClean()

    def _set_spec(self, spec: ModelSpec, select: str | None) -> None:
        self.spec = spec
        self.analysis = analyze_model(spec, previous=self.analysis)
        names = {layer.name for layer in spec.layers}
        if select not in names:
            select = self.current if self.current in names else (
                spec.layers[-1].name if spec.layers else "")
        # the layer selected after the edit is current while the views follow ``changed``:
        # each draws the new model with its selection once (a delete's undo drew the
        # properties of the layer after the restored one, then the restored one's)
        previous, self.current = self.current, select or ""
        selections = self._selections
        self.changed.emit()
        if self.current != previous and self._selections == selections:
            self.current_changed.emit(self.current)  # (unless a view selected another since)

    def select(self, name: str) -> None:
        if name != self.current:
            self.current = name
            self._selections += 1
            self.current_changed.emit(name)

    def load(self, spec: ModelSpec, path: Path | None, weights: Path | None = None,
             run_dir: Path | None = None) -> None:
        """Replace the model (New, Open, a preset, a run); clears undo history. The weights and
        run go with it: a new model never keeps the old model's weights."""
        self.undo_stack.clear()
        self.path = path
        self.current = ""
        self.weights, self.run_dir = weights, run_dir
        self.run_version += 1
        self.loaded.emit()
        self._set_spec(spec, spec.layers[0].name if spec.layers else "")
        self.undo_stack.setClean()
        self.run_changed.emit()

    def use_weights(self, weights: Path | None, run_dir: Path | None) -> None:
        """Show the model with these weights (None: random initial weights) from this run."""
        self.weights, self.run_dir = weights, run_dir
        self.run_version += 1
        self.run_changed.emit()

    def use_edited_weights(self, weights: Path, text: str) -> bool:
        """Hold ``weights`` (the current ones with an edit, e.g. a kernel typed in the grid) as
        one undo step: undo goes back to the weights held before."""
        if self.locked_reason:
            self.message.emit(self.locked_reason)
            return False
        self.undo_stack.push(WeightsCommand(self, weights, text))
        return True

    def weights_label(self) -> str:
        if self.weights is None:
            return "random initial weights (untrained)"
        where = f" in {self.run_dir.name}" if self.run_dir else ""
        return f"{self.weights.name}{where}"

    def save(self, path: Path) -> None:
        save_model(self.spec, path)
        self.path = path
        self.undo_stack.setClean()

    # -- edits ------------------------------------------------------------------------------
    def apply(self, after: ModelSpec, text: str, select: str | None = None,
              merge_key: tuple[Any, ...] | None = None) -> bool:
        if self.locked_reason:
            self.message.emit(self.locked_reason)
            return False
        if after == self.spec:
            return False
        self.undo_stack.push(SpecCommand(self, self.spec, after, text, select, merge_key))
        return True

    def _try(self, edit: Callable[[], tuple[ModelSpec, str, str | None]],
             merge_key: tuple[Any, ...] | None = None) -> bool:
        try:
            after, text, select = edit()
        except (ModelError, KeyError) as exc:
            self.message.emit(str(exc).strip("'\""))
            return False
        return self.apply(after, text, select, merge_key)

    def add_layer(self, type_name: str, index: int | None = None) -> bool:
        def edit() -> tuple[ModelSpec, str, str | None]:
            after, name = editing.add_layer(self.spec, type_name, index)
            return after, f"Add {type_name} {name}", name
        return self._try(edit)

    def remove_layers(self, names: Iterable[str]) -> bool:
        names = [n for n in names if n]
        if not names:
            return False
        index = min(self.spec.index(n) for n in names)
        after = editing.remove_layers(self.spec, names)
        select = after.layers[min(index, len(after.layers) - 1)].name if after.layers else ""
        label = names[0] if len(names) == 1 else f"{len(names)} layers"
        return self.apply(after, f"Delete {label}", select)

    def move_layer(self, name: str, index: int) -> bool:
        return self._try(lambda: (editing.move_layer(self.spec, name, index), f"Move {name}",
                                  name))

    def duplicate_layer(self, name: str) -> bool:
        def edit() -> tuple[ModelSpec, str, str | None]:
            after, copy = editing.duplicate_layer(self.spec, name)
            return after, f"Duplicate {name}", copy
        return self._try(edit)

    def rename_layer(self, old: str, new: str) -> bool:
        return self._try(lambda: (editing.rename_layer(self.spec, old, new),
                                  f"Rename {old} to {new.strip()}", new.strip()))

    def set_param(self, name: str, key: str, value: Any, burst: object = None) -> bool:
        """Set one setting. Consecutive calls with the same ``burst`` (one burst of typing in
        one field, see app.build.property_editor.TypingBursts) merge into one undo step."""
        merge_key = None if burst is None else (name, key, burst)
        return self._try(lambda: (editing.set_param(self.spec, name, key, value),
                                  f"Change {key} of {name}", name), merge_key=merge_key)

    def set_trainable(self, name: str, trainable: bool) -> bool:
        text = f"{'Unfreeze' if trainable else 'Freeze'} {name}"
        return self._try(lambda: (editing.set_trainable(self.spec, name, trainable), text, name))

    def set_trainable_many(self, names: Iterable[str], trainable: bool, text: str) -> bool:
        """Freeze (or unfreeze) several layers as one undo step named ``text``."""
        chosen = tuple(names)
        return self._try(lambda: (editing.set_trainable_many(self.spec, chosen, trainable),
                                  text, None))

    def freeze_up_to(self, name: str) -> bool:
        """Freeze ``name`` and every layer it depends on (one undo step)."""
        return self._try(lambda: (editing.set_trainable_many(
            self.spec, editing.layers_up_to(self.spec, name), False),
            f"Freeze up to {name}", name))

    def paste_layers(self, copied: CopiedLayers, anchor: str | None) -> tuple[str, ...]:
        """Paste fresh copies of ``copied`` after ``anchor`` (one undo step); the new names
        (none when refused: the reason is in ``message``)."""
        try:
            after, names = paste_layers(self.spec, copied, anchor)
        except (ModelError, KeyError) as exc:
            self.message.emit(str(exc).strip("'\""))
            return ()
        label = names[0] if len(names) == 1 else f"{len(names)} layers"
        return names if self.apply(after, f"Paste {label}", names[-1]) else ()

    def group_layers(self, names: Iterable[str], name: str | None = None) -> bool:
        """Record the layers as one named group (drawn as one block; one undo step)."""
        chosen = tuple(names)

        def edit() -> tuple[ModelSpec, str, str | None]:
            after = groups.group_layers(self.spec, chosen, name)
            made = next(g.name for g in after.groups if g not in self.spec.groups)
            return after, f"Group {len(chosen)} layers as {made}", None
        return self._try(edit)

    def ungroup(self, name: str) -> bool:
        return self._try(lambda: (groups.ungroup(self.spec, name), f"Ungroup {name}", None))

    def rename_group(self, old: str, new: str) -> str | None:
        """Call group ``old`` ``new`` (one undo step); returns why it was refused (the model
        unchanged, the reason also in ``message``), or None."""
        try:
            after = groups.rename_group(self.spec, old, new)
        except ModelError as exc:
            self.message.emit(str(exc))
            return str(exc)
        if after is self.spec:
            return None
        if not self.apply(after, f"Rename group {old} to {new.strip()}"):
            return self.locked_reason or "nothing to change"
        return None

    def set_layer_init(self, name: str, scheme: str) -> bool:
        return self._try(lambda: (editing.set_layer_init(self.spec, name, scheme),
                                  f"Initialise {name}", name))

    def set_model_init(self, scheme: str, biases: str | None = None) -> bool:
        """Every layer's initialiser at once (overrides dropped): one undo step."""
        from core.model.initialisation import SCHEME_LABELS

        label = SCHEME_LABELS.get(scheme, scheme)
        return self._try(lambda: (editing.set_model_init(self.spec, scheme, biases),
                                  f"Initialise every layer: {label}", None))

    def set_inputs(self, name: str, inputs: list[str]) -> bool:
        return self._try(lambda: (editing.set_inputs(self.spec, name, inputs),
                                  f"Connect {name}", name))

    def connect_layers(self, source: str, target: str, merge: str | None = None) -> str | None:
        """Connect ``source`` to ``target`` (core.model.editing.connect) as one undo step, its
        shapes checked first: returns why it was refused (the model unchanged), or None."""
        try:
            after, changed = editing.connect(self.spec, source, target, merge)
        except (ModelError, KeyError) as exc:
            return str(exc).strip("'\"")
        error, before = analyze_model(after, self.analysis).error, self.analysis.error
        if error is not None and error.layer in (changed, target) and (
                before is None or before.layer != error.layer):
            return f"{error.layer}: {error.reason}"
        what = f"Connect {source} to {target}" + (f" with {merge} {changed}"
                                                  if changed != target else "")
        if not self.apply(after, what, changed):
            return self.locked_reason or "nothing to change"
        return None

    def insert_on_edge(self, type_name: str, source: str, target: str) -> str | None:
        """A ``type_name`` layer on the connection ``source`` → ``target`` as one undo step, its
        shapes checked first: returns why it was refused (the model unchanged), or None."""
        try:
            after, name = editing.insert_on_edge(self.spec, type_name, source, target)
        except (ModelError, KeyError) as exc:
            return str(exc).strip("'\"")
        error, before = analyze_model(after, self.analysis).error, self.analysis.error
        if error is not None and error.layer in (name, target) and (
                before is None or before.layer != error.layer):
            return f"{error.layer}: {error.reason}"
        if not self.apply(after, f"Insert {type_name} {name} after {source}", name):
            return self.locked_reason or "nothing to change"
        return None

    def disconnect_layers(self, source: str, target: str) -> bool:
        """Remove the connection ``source`` → ``target`` (one undo step)."""
        return self._try(lambda: (editing.disconnect(self.spec, source, target),
                                  f"Disconnect {source} from {target}", None))

    def start_branch(self, type_name: str, source: str) -> bool:
        """A ``type_name`` layer reading ``source`` beside its other readers (one undo step)."""
        def edit() -> tuple[ModelSpec, str, str | None]:
            after, name = editing.start_branch(self.spec, type_name, source)
            return after, f"Branch {type_name} {name} from {source}", name
        return self._try(edit)

    def set_input_shape(self, shape: tuple[int, ...], burst: object = None) -> bool:
        merge_key = None if burst is None else ("input shape", burst)
        return self._try(lambda: (editing.set_input_shape(self.spec, shape),
                                  "Change input shape", None), merge_key=merge_key)

    def rename_model(self, name: str) -> bool:
        from dataclasses import replace

        name = name.strip()
        if not name:
            return False
        return self.apply(replace(self.spec, name=name), "Rename model")
