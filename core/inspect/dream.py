"""DeepDream (Mordvintsev et al., 2015): start from an image and change it by gradient ascent
so that a chosen layer responds more — one channel's mean activation, or the whole layer's
mean square (its "norm") — at several scales (octaves), coarse to fine, with random jitter.

The model runs only up to the chosen layer. An octave smaller than the model's input is fed
at its own size when every layer up to the chosen one takes any size (convolutions, pooling),
else it is resized to the input size inside the forward (a model with a Linear before the
layer), so a dream works on any image model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from core.inspect.inputs import ModelInput
from core.inspect.inspector import InspectError, Inspector
from core.inspect.layer_choices import default_dream_layer, feature_map_layers
from core.inspect.layer_probe import (
    RANDOM_WEIGHTS_NOTE,
    LayerProbe,
    runs_on_random_weights,
)

MIN_OCTAVE_SIDE = 8
"""An octave is never smaller than this many pixels on its shorter side."""


@dataclass(frozen=True)
class DreamSettings:
    """What to dream: ``channel`` None means the layer's norm (mean square of every unit)."""

    layer: str
    channel: int | None = None
    octaves: int = 3
    octave_scale: float = 1.4
    steps: int = 10
    """Gradient steps per octave."""
    step_size: float = 0.02
    """Each step moves the image by this much (0–1 scale) per unit of mean |gradient|."""
    jitter: int = 8
    """Random shift of up to this many pixels per step, undone after it (hides grid artefacts)."""

    def objective(self) -> str:
        return f"channel {self.channel}" if self.channel is not None else "the layer's norm"


@dataclass(frozen=True)
class Dream:
    """The dreamed image beside the one it started from, both float (C, H, W) in 0–1."""

    image: np.ndarray
    start: np.ndarray
    objective: list[float]
    """The objective before every step, then after the last (it rises)."""
    octave_sizes: list[tuple[int, int]]
    """(height, width) of each octave, smallest first."""
    notes: list[str] = field(default_factory=list)
    initial: float = 0.0
    """The objective of the start image at its full size (compare with ``objective[-1]``)."""


def octave_sizes(height: int, width: int, octaves: int, scale: float) -> list[tuple[int, int]]:
    """Each octave's (height, width), smallest first, the last the image's own size; none is
    below MIN_OCTAVE_SIDE on its shorter side (repeated sizes are dropped)."""
    if octaves < 1:
        raise InspectError(f"octaves must be 1 or more, got {octaves}")
    if not 1.0 < scale <= 4.0:
        raise InspectError(f"the octave scale must be over 1 and at most 4, got {scale:g}")
    sizes: list[tuple[int, int]] = []
    for index in reversed(range(octaves)):
        factor = scale ** index
        shorter = min(height, width) / factor
        if shorter < MIN_OCTAVE_SIDE:
            factor = min(height, width) / MIN_OCTAVE_SIDE if min(height, width) > \
                MIN_OCTAVE_SIDE else 1.0
        size = (max(1, round(height / factor)), max(1, round(width / factor)))
        if not sizes or sizes[-1] != size:
            sizes.append(size)
    return sizes


def _resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(image.shape[-2:]) == size:
        return image
    return F.interpolate(image, size=size, mode="bilinear", align_corners=False)


def _check(inspector: Inspector, settings: DreamSettings) -> None:
    if len(inspector.spec.input_shape) != 3:
        raise InspectError("a dream needs a model that reads images (channels, height, width); "
                           f"this one reads {'×'.join(map(str, inspector.spec.input_shape))}")
    info = inspector.analysis.get(settings.layer)
    if info is None:
        choices = ", ".join(feature_map_layers(inspector.analysis)) or "none"
        raise InspectError(f'"{settings.layer}" is not a layer of this model; choose one of: '
                           f"{choices}")
    channels = info.output_shape[0]
    if settings.channel is not None and not 0 <= settings.channel < channels:
        raise InspectError(f"channel {settings.channel} does not exist: {settings.layer} has "
                           f"{channels} (0 to {channels - 1})")
    if settings.steps < 1:
        raise InspectError(f"steps must be 1 or more, got {settings.steps}")
    if settings.step_size <= 0:
        raise InspectError(f"the step size must be above 0, got {settings.step_size:g}")
    if settings.jitter < 0:
        raise InspectError(f"jitter must be 0 or more pixels, got {settings.jitter}")


def deep_dream(inspector: Inspector, start: ModelInput, settings: DreamSettings,
               progress: Callable[[int, int], object] | None = None,
               check: Callable[[], object] | None = None, seed: int = 0) -> Dream:
    """Dream ``settings`` into ``start`` (an input prepared for this model). ``progress(done,
    total)`` hears of every step; ``check()`` runs between layers as the gradient flows back
    (raise from it, or from ``progress``, to cancel)."""
    _check(inspector, settings)
    probe = LayerProbe(inspector, [settings.layer], check)
    base = torch.as_tensor(np.asarray(start.display, dtype=np.float32))[None]
    height, width = base.shape[-2:]
    sizes = octave_sizes(int(height), int(width), settings.octaves, settings.octave_scale)
    generator = torch.Generator().manual_seed(seed)
    total, done = len(sizes) * settings.steps, 0
    jitter = min(settings.jitter, max(0, min(sizes[0]) // 8))  # a shift is not a wrap-around
    history: list[float] = []
    with torch.no_grad():
        initial, _ = _objective(probe, base, settings, (int(height), int(width)), True)
    detail = torch.zeros_like(_resize(base, sizes[0]))
    resized_octaves = 0
    for size in sizes:
        shrunk = _resize(base, size)
        image = (shrunk + _resize(detail, size)).clamp(0, 1)
        native = True
        for _step in range(settings.steps):
            if progress is not None:
                progress(done, total)
            shift = [int(v) for v in torch.randint(-jitter, jitter + 1, (2,),
                                                   generator=generator)]
            x = torch.roll(image, shifts=shift, dims=(2, 3)).requires_grad_(True)
            value, native = _objective(probe, x, settings, (int(height), int(width)), native)
            history.append(float(value.detach()))
            (grad,) = torch.autograd.grad(value, x)
            grad = torch.roll(grad, shifts=[-s for s in shift], dims=(2, 3))
            with torch.no_grad():
                image = (image + settings.step_size * grad / grad.abs().mean().clamp_min(1e-8)
                         ).clamp(0, 1)
            done += 1
        resized_octaves += not native
        detail = image - shrunk
    with torch.no_grad():
        final, _ = _objective(probe, image, settings, (int(height), int(width)), True)
    history.append(float(final))
    if progress is not None:
        progress(total, total)
    notes = [f"DeepDream on {settings.layer}, {settings.objective()}: {len(sizes)} octave"
             f"{'s' if len(sizes) != 1 else ''} ({', '.join(f'{w}×{h}' for h, w in sizes)}), "
             f"{settings.steps} steps each, jitter {jitter} px; objective at full size "
             f"{float(initial):.3g} → {history[-1]:.3g}", inspector.weights_note]
    if resized_octaves:
        notes.append("the smaller octaves were resized to the model's input inside the forward "
                     "(a layer before this one takes only its own size)")
    if runs_on_random_weights(inspector):
        notes.append(RANDOM_WEIGHTS_NOTE)
    return Dream(image[0].numpy(), base[0].numpy(), history, sizes, notes, float(initial))


def _objective(probe: LayerProbe, x: torch.Tensor, settings: DreamSettings,
               full: tuple[int, int], native: bool) -> tuple[torch.Tensor, bool]:
    """The objective for ``x``; an octave the model cannot take at its own size is resized to
    ``full`` (and stays so for the octave: the returned flag)."""
    if native and tuple(x.shape[-2:]) != full:
        try:
            out = probe(x)[settings.layer]
        except RuntimeError:
            native = False
    if not native or tuple(x.shape[-2:]) == full:
        out = probe(_resize(x, full))[settings.layer]
    out = out[0]
    if settings.channel is not None:
        out = out[settings.channel]
    return (out.mean() if settings.channel is not None else (out ** 2).mean()), native


def default_layer(inspector: Inspector) -> str:
    """The layer a dream excites unless told (``layer_choices.default_dream_layer``)."""
    layer = default_dream_layer(inspector.spec, inspector.analysis)
    if layer is None:
        raise InspectError("a dream needs a layer with feature maps; this model has none")
    return layer
