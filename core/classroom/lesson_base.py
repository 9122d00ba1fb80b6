"""What a lesson is made of: lecture quotes, steps, and the lesson itself (see ``lessons``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.lazy import LazyModule

if TYPE_CHECKING:
    import torch
else:  # imported at first use: the window imports this module at start-up
    torch = LazyModule("torch")

from core.analysis.model_analysis import ModelAnalysis, analyze_model
from core.classroom.step import StepError
from core.model.spec import FORMAT, ModelSpec, model_from_dict

QUOTES_FILE = Path(__file__).with_name("lecture_quotes.json")


@dataclass(frozen=True)
class Quote:
    """A passage of a lecture text, word for word, and where it is."""

    key: str
    file: str
    lines: tuple[int, int]
    text: str


@cache
def quotes() -> dict[str, Quote]:
    data = json.loads(QUOTES_FILE.read_text(encoding="utf-8"))
    return {k: Quote(k, v["file"], (v["lines"][0], v["lines"][1]), v["text"])
            for k, v in data.items()}


@dataclass(frozen=True)
class LessonStep:
    """One slide of a lesson: a title, what to say, and (optionally) a position to step to.

    ``model`` names which of the lesson's models the step shows (0: the main one, 1…: the
    models compared side by side)."""

    title: str
    text: str
    layer: str | None = None
    position: tuple[int, ...] | None = None
    model: int = 0
    mode: str = "forward"
    """"forward" (``position`` is an output position), "backward" (``position`` is what
    ``grad`` names: a weight, an input cell or a bias) or "matrix" (``position`` is
    (output channel, output cell))."""
    grad: str = "weight"
    target: int = 0
    """Backward: the class the loss is computed for."""
    term: int = 0
    """Backward: the term shown first (−1: the last)."""


@dataclass(frozen=True)
class Lesson:
    """A lecture example: models, fixed kernels and input, explanation and steps."""

    key: str
    title: str
    explanation: str
    quote_keys: tuple[str, ...]
    spec: ModelSpec
    steps: tuple[LessonStep, ...]
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    """Fixed tensors by ``<layer>.<name>``, e.g. ``edge.weight`` (others: seeded random)."""
    input: np.ndarray | None = None
    compare: tuple[ModelSpec, ...] = ()
    """Models shown beside the main one (e.g. dense vs convolutional parameter counts)."""
    compare_inputs: tuple[np.ndarray | None, ...] = ()

    @property
    def models(self) -> tuple[ModelSpec, ...]:
        return (self.spec, *self.compare)

    @property
    def quotes(self) -> list[Quote]:
        return [quotes()[k] for k in self.quote_keys]

    def analysis(self, index: int = 0) -> ModelAnalysis:
        return analyze_model(self.models[index])

    def steppable(self, index: int = 0) -> bool:
        """False for a model far too large to build (the megapixel lesson is analysed only)."""
        return self.analysis(index).total_params < 50_000_000

    def input_tensor(self, index: int = 0) -> torch.Tensor | None:
        given = self.input if index == 0 else (
            self.compare_inputs[index - 1] if index - 1 < len(self.compare_inputs) else None)
        return None if given is None else torch.tensor(given, dtype=torch.float32)

    def weight_tensors(self) -> dict[str, torch.Tensor]:
        return {k: torch.tensor(v, dtype=torch.float32) for k, v in self.weights.items()}

    def session(self, index: int = 0) -> Any:
        """A StepSession on one of the lesson's models with its fixed kernels and input."""
        from core.classroom.session import StepSession
        from core.inspect.inspector import Inspector
        from core.weights import apply_weights

        if not self.steppable(index):
            raise StepError(f"the {self.key} lesson's model has "
                            f"{self.analysis(index).total_params:,} parameters: it is "
                            "analysed, never built, so there is nothing to step through")
        inspector = Inspector(self.models[index], seed=0)
        if self.weights and index == 0:
            apply_weights(inspector.model, self.weight_tensors())
            inspector.weights_note = "the lesson's fixed kernels"
        else:
            inspector.weights_note = "random kernels (seed 0)"
        x = self.input_tensor(index)
        return StepSession(inspector, x, "the lecture's input" if x is not None else "")


def lesson_model(name: str, shape: list[int], layers: list[dict[str, Any]],
           description: str = "") -> ModelSpec:
    return model_from_dict({"format": FORMAT, "name": name, "description": description,
                            "input": {"shape": shape}, "layers": layers})


_model = lesson_model
