"""The step-through session of the model in the builder: its weights, kernels and input.

Built on the GUI's worker thread; importing this module loads no torch (the window imports it
at start-up), the function imports what it needs when it runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from core.classroom.lessons import Lesson
from core.model.spec import ModelSpec

if TYPE_CHECKING:
    from core.classroom.session import StepSession


def build_session(spec: ModelSpec, weights: Path | None, lesson: Lesson | None,
                  source: str | None = None) -> StepSession:
    """Runs on the worker: the model built with the run's weights or the lesson's kernels,
    and its input: ``source`` (an image name or file, digits:N, or array:PATH), else the
    lesson's input, else a seeded random one."""
    import torch

    from core.classroom.session import StepSession
    from core.inspect.inspector import Inspector
    from core.weights import apply_weights

    inspector = Inspector(spec, None, seed=0)
    if weights is not None:
        from core.weights import load_weights

        report = load_weights(inspector.model, weights)
        if (weights.parent / "training.json").is_file():
            from core.model.errors import ModelError
            from core.train.checkpoint import load_state

            try:  # the run's normalisation for images
                inspector.state = load_state(weights.parent)
            except ModelError:
                inspector.state = None
        inspector.weights_note = f"weights: {weights.name}" + (
            f" (partly: {report.describe()})" if report.shape_mismatch or report.not_in_file
            else "")
    elif lesson is not None and lesson.weights:
        report = apply_weights(inspector.model, lesson.weight_tensors())
        inspector.weights_note = "the lesson's fixed kernels" + (
            "" if not report.shape_mismatch else
            " (the edited layers whose shapes changed have random kernels)")
    else:
        inspector.weights_note = "random initial weights (seed 0)"
    if source is not None and source.startswith("array:"):
        from core.classroom.session import array_input, read_array

        path = Path(source.removeprefix("array:"))
        return StepSession(inspector, array_input(read_array(path), spec.input_shape, path),
                           f"{path.name}, exactly as given")
    if source is not None:
        from core.inspect.inspector import image_for

        inp = image_for(inspector, source)
        text = inp.source + (f" ({'; '.join(inp.notes)})" if inp.notes else "")
        return StepSession(inspector, inp.tensor[0], text)
    x = lesson.input_tensor() if lesson is not None else None
    if x is not None and tuple(x.shape) != tuple(spec.input_shape):
        x = None
    if x is None:
        x = torch.randn(*spec.input_shape, generator=torch.Generator().manual_seed(0))
        source = "random normal input (seed 0)"
    else:
        source = "the lesson's input"
    return StepSession(inspector, x, source)
