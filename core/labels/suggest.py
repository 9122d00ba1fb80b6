"""The model's help: a segmentation or detection model's masks and boxes for one image as
proposals, and how unsure it is of an image (for "label the next most uncertain image").

Uncertainty, in a sentence a class can follow: a segmentation model is unsure where its pixel
probabilities are spread over classes (the mean entropy of the pixels, 0 sure, 1 all classes
equally likely); a detector is unsure where a cell's objectness is near 0.5 (the smallest
margin |2·objectness − 1| of the grid, as 1 − margin). Label those images first: they teach the
model most (active learning).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from core.inspect.inspector import Inspector
from core.labels.images import read_rgb
from core.labels.label_set import Box, LabelError
from core.model.spec import ModelSpec

TASKS = ("segmentation", "detection")


@dataclass
class Suggestion:
    """Proposals in the image's pixels; ``classes`` names the model's classes (no background)."""

    classes: list[str]
    mask: np.ndarray | None = None
    boxes: list[Box] = field(default_factory=list)
    uncertainty: float = 0.0


def model_helper(spec: ModelSpec, weights: Path | None, run_dir: Path | None) -> Inspector:
    """The open model built for suggestions; LabelError unless it segments or detects."""
    if spec.task not in TASKS:
        raise LabelError(f"{spec.name} is a {spec.task} model; suggestions need a "
                         "segmentation or detection model (open or train one)")
    state = None
    if run_dir is not None and (run_dir / "training.json").exists():
        from core.train.checkpoint import load_state

        state = load_state(run_dir)
    return Inspector(spec, weights, state, attribution=False)


def _object_classes(helper: Inspector, count: int) -> list[str]:
    names = [c for c in helper.classes if c != "background"]
    return names if len(names) == count else [f"class {i + 1}" for i in range(count)]


def suggest(helper: Inspector, image: np.ndarray) -> Suggestion:
    """The model's proposals for an (H, W, 3) uint8 image, at the image's size."""
    height, width = image.shape[:2]
    tensor = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))
    inp = helper.prepare(tensor, "the image being labelled")
    with torch.no_grad():
        out = helper.model(inp.tensor).float()
    if helper.spec.task == "segmentation":
        probs = out.softmax(1)[0]
        k = probs.shape[0]
        entropy = -(probs * probs.clamp_min(1e-12).log()).sum(0) / max(np.log(k), 1e-12)
        small = probs.max(0).indices.numpy().astype(np.uint8)
        rows = np.minimum(np.arange(height) * small.shape[0] // height, small.shape[0] - 1)
        cols = np.minimum(np.arange(width) * small.shape[1] // width, small.shape[1] - 1)
        return Suggestion(_object_classes(helper, k - 1), mask=small[rows][:, cols],
                          uncertainty=float(entropy.mean()))
    from core.tasks.detection import decode, objectness

    size = tuple(helper.spec.input_shape[-2:])
    found = decode(out, (int(size[0]), int(size[1])))[0]
    sx, sy = width / size[1], height / size[0]
    boxes = [Box(int(lab), float(b[0]) * sx, float(b[1]) * sy, float(b[2]) * sx,
                 float(b[3]) * sy) for b, lab in zip(found.boxes, found.labels, strict=True)]
    margin = (2 * objectness(out) - 1).abs().min()
    return Suggestion(_object_classes(helper, out.shape[1] - 5), boxes=boxes,
                      uncertainty=float(1 - margin))


def uncertainty_order(helper: Inspector, paths: list[Path],
                      check: Callable[[int, int], object] = lambda _d, _t: None
                      ) -> list[tuple[str, float]]:
    """(file name, uncertainty) of every path, most uncertain first; each image is read
    reduced to about the model's input size. ``check(done, total)`` reports progress (and may
    raise to stop)."""
    size = tuple(int(v) for v in helper.spec.input_shape[-2:])
    scored = []
    for done, path in enumerate(paths):
        check(done, len(paths))
        scored.append((path.name, suggest(helper, read_rgb(path, (size[0], size[1]))
                                          ).uncertainty))
    check(len(paths), len(paths))
    return sorted(scored, key=lambda pair: -pair[1])
