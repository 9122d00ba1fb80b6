"""The Inspect tab's worker-side state: the model built with its weights, and prepared inputs.

Only jobs on the tab's WorkerQueue (one thread) touch it; the UI thread never builds a model.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.inspect.inputs import RUN_SOURCE
from core.model.spec import ModelSpec

DIGITS_SOURCE = "digits:"


@dataclass(frozen=True)
class ModelKey:
    """What the built model depends on: the spec and the document's run version."""

    spec: ModelSpec
    weights: Path | None
    run_dir: Path | None
    version: int


@dataclass
class WeightsNote:
    """How the weights were used: one sentence for the tab, the detail behind a button."""

    sentence: str
    detail: str = ""
    problem: bool = False


@dataclass
class Built:
    inspector: Any
    note: WeightsNote
    classes: list[str] = field(default_factory=list)


class InspectSession:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: ModelKey | None = None
        self._built: Built | None = None
        self._inputs: dict[str, Any] = {}
        self._activations: tuple[str, Any] | None = None

    def forget(self) -> None:
        """Drop the built model (the model, weights or run changed). Called on the UI thread:
        it takes no lock (a build in progress holds it for seconds); plain assignments are
        enough, because ``built`` compares keys and never returns another model's build."""
        self._key, self._built = None, None
        self._inputs = {}
        self._activations = None

    def built(self, key: ModelKey) -> Built:
        """The Inspector for ``key``, built on first use. Weights that do not fit the model are
        not an error: the model shows random weights and the note says why in one sentence."""
        with self._lock:
            if self._key == key and self._built is not None:
                return self._built
            self._built = None
            self._activations = None
            self._built = _build(key)
            self._key = key
            self._inputs.clear()
            return self._built

    def input_for(self, inspector: Any, source: str) -> Any:
        from core.inspect.inspector import image_for

        with self._lock:
            if source not in self._inputs:
                if not source:
                    raise ValueError("choose an image file first")
                if source.startswith(RUN_SOURCE):
                    self._inputs[source] = _run_test_image(inspector, source)
                else:
                    self._inputs[source] = image_for(inspector, source)
            return self._inputs[source]


    def activations(self, inspector: Any, source: str) -> dict[str, Any]:
        """Every layer's output for the input; the last input's are kept, so choosing another
        layer costs no forward pass."""
        if self._activations is not None and self._activations[0] == source:
            return self._activations[1]
        inp = self.input_for(inspector, source)
        self._activations = None
        outputs = inspector.activations(inp)
        self._activations = (source, outputs)
        return outputs

    def input_note(self, source: str) -> str:
        """What the prepared input is and how it was converted ("" if not prepared)."""
        with self._lock:
            inp = self._inputs.get(source)
        if inp is None:
            return ""
        return inp.source + (": " + "; ".join(inp.notes) if inp.notes else "")


def _build(key: ModelKey) -> Built:
    from core.inspect.inspector import Inspector
    from core.model.errors import ModelError
    from core.train.checkpoint import load_state

    state = None
    if key.run_dir is not None and (key.run_dir / "training.json").exists():
        try:
            state = load_state(key.run_dir)
        except ModelError:
            state = None
    if key.weights is None:
        inspector = Inspector(key.spec, None, None)
        return Built(inspector, WeightsNote(inspector.weights_note), inspector.classes)
    from core.run_files import RunFileMismatch
    from core.train.preflight import MemoryRefused

    try:
        inspector = Inspector(key.spec, key.weights, state)
    except MemoryRefused:
        raise  # the model does not fit here, whatever its weights: the view says so
    except (ModelError, ValueError, OSError) as exc:
        owner = _run_model_name(key.run_dir) or key.weights.name
        inspector = Inspector(key.spec, None, None)
        sentence = (f"These weights belong to {owner}, not to {key.spec.name}; showing random "
                    "weights.")
        if isinstance(exc, RunFileMismatch):  # the run's own file, damaged or replaced
            sentence = ("These weights are not the file the run recorded (replaced or "
                        "damaged); showing random weights.")
        return Built(inspector, WeightsNote(sentence, str(exc), problem=True),
                     inspector.classes)
    note = WeightsNote("")  # "": the document's own label (file and run) says it all
    if "(partly:" in inspector.weights_note:
        sentence, _, detail = inspector.weights_note.partition(" (partly: ")
        note = WeightsNote(f"{sentence} — only partly: some layers keep random weights.",
                           detail.rstrip(")"), problem=True)
    return Built(inspector, note, inspector.classes)


def _run_model_name(run_dir: Path | None) -> str:
    if run_dir is None:
        return ""
    try:
        from core.model.spec import load_model

        return load_model(run_dir / "model.json").name
    except (ValueError, OSError):
        return run_dir.name


def _run_test_image(inspector: Any, source: str) -> Any:
    """``run:<dataset>:<split>:<index>``: an image of the run's own dataset."""
    from core.inspect.inputs import run_split_item

    dataset, split, part, index = run_split_item(source, inspector.spec.input_shape)
    label = int(part.labels[index])
    name = inspector.classes[label] if label < len(inspector.classes) else str(label)
    kind = "clip" if part.images.dim() == 5 else "image"
    return inspector.prepare(part.images[index], f"{dataset} {split} {kind} {index} "
                                                 f"(label {name})")
