"""Neural style transfer (Gatys, Ecker & Bethge, 2015): an image whose feature maps at a deep
layer match a content image's and whose Gram matrices (which channels fire together, wherever
they are) at several layers match a style image's. Made for a VGG imported with its trained
weights; any model reading images works, and one on random weights is said to be so."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from core.inspect.inputs import ModelInput
from core.inspect.inspector import InspectError, Inspector
from core.inspect.layer_choices import default_style_layers, feature_map_layers
from core.inspect.layer_probe import (
    RANDOM_WEIGHTS_NOTE,
    LayerProbe,
    runs_on_random_weights,
)


@dataclass(frozen=True)
class StyleSettings:
    content_layer: str
    style_layers: tuple[str, ...]
    content_weight: float = 1.0
    style_weight: float = 1e4
    steps: int = 100
    learning_rate: float = 0.02


@dataclass(frozen=True)
class Stylised:
    """The result and its two sources, float (C, H, W) in 0–1, with the losses per step."""

    image: np.ndarray
    content: np.ndarray
    style: np.ndarray
    content_loss: list[float]
    style_loss: list[float]
    """Weighted as in the total; before every step, then after the last."""
    notes: list[str] = field(default_factory=list)


def gram(features: torch.Tensor) -> torch.Tensor:
    """(C, C) Gram matrix of (C, H, W) feature maps, divided by C·H·W."""
    c = features.shape[0]
    flat = features.reshape(c, -1)
    return flat @ flat.T / flat.numel()


def default_layers(inspector: Inspector) -> tuple[str, tuple[str, ...]]:
    """(content layer, style layers) Gatys would choose in this model (``layer_choices``)."""
    layers = default_style_layers(inspector.spec, inspector.analysis)
    if layers is None:
        raise InspectError("style transfer needs layers with feature maps; this model has none")
    return layers


def _check(inspector: Inspector, settings: StyleSettings) -> None:
    if len(inspector.spec.input_shape) != 3:
        raise InspectError("style transfer needs a model that reads images (channels, height, "
                           f"width); this one reads "
                           f"{'×'.join(map(str, inspector.spec.input_shape))}")
    choices = feature_map_layers(inspector.analysis)
    for layer in (settings.content_layer, *settings.style_layers):
        if layer not in choices:
            raise InspectError(f'"{layer}" is not a layer with feature maps; choose from: '
                               f"{', '.join(choices) or 'none'}")
    if not settings.style_layers:
        raise InspectError("choose at least one style layer")
    if settings.steps < 1:
        raise InspectError(f"steps must be 1 or more, got {settings.steps}")
    if settings.content_weight < 0 or settings.style_weight < 0 or \
            settings.content_weight + settings.style_weight == 0:
        raise InspectError("the content and style weights must be 0 or more, not both 0 (got "
                           f"{settings.content_weight:g} and {settings.style_weight:g})")
    if settings.learning_rate <= 0:
        raise InspectError(f"the learning rate must be above 0, got {settings.learning_rate:g}")


def transfer_style(inspector: Inspector, content: ModelInput, style: ModelInput,
                   settings: StyleSettings, progress: Callable[[int, int], object] | None = None,
                   check: Callable[[], object] | None = None) -> Stylised:
    """Optimise an image, started from ``content``, for ``settings`` (Adam on the pixels, kept
    in 0–1). ``progress(done, total)`` hears of every step; ``check()`` runs between layers
    as the gradient flows back (raise from either to cancel)."""
    _check(inspector, settings)
    layers: Sequence[str] = (settings.content_layer, *settings.style_layers)
    probe = LayerProbe(inspector, layers, check)
    content_image = torch.as_tensor(np.asarray(content.display, dtype=np.float32))[None]
    style_image = torch.as_tensor(np.asarray(style.display, dtype=np.float32))[None]
    with torch.no_grad():
        target = probe(content_image)[settings.content_layer][0].detach()
        style_out = probe(style_image)
        grams = {name: gram(style_out[name][0]).detach() for name in settings.style_layers}
    image = content_image.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([image], lr=settings.learning_rate)
    content_losses: list[float] = []
    style_losses: list[float] = []

    def losses() -> tuple[torch.Tensor, torch.Tensor]:
        out = probe(image)
        c = settings.content_weight * F.mse_loss(out[settings.content_layer][0], target)
        s = settings.style_weight * sum(
            (F.mse_loss(gram(out[name][0]), grams[name]) for name in settings.style_layers),
            torch.zeros(()))
        return c, s

    for step in range(settings.steps):
        if progress is not None:
            progress(step, settings.steps)
        c, s = losses()
        content_losses.append(float(c.detach()))
        style_losses.append(float(s.detach()))
        optimizer.zero_grad()
        (c + s).backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        with torch.no_grad():
            image.clamp_(0, 1)
    with torch.no_grad():
        c, s = losses()
    content_losses.append(float(c))
    style_losses.append(float(s))
    if progress is not None:
        progress(settings.steps, settings.steps)
    notes = [f"style transfer: content {settings.content_layer} × {settings.content_weight:g}, "
             f"style {', '.join(settings.style_layers)} × {settings.style_weight:g}, "
             f"{settings.steps} Adam steps; style loss {style_losses[0]:.3g} → "
             f"{style_losses[-1]:.3g}, content loss {content_losses[0]:.3g} → "
             f"{content_losses[-1]:.3g}", inspector.weights_note]
    if runs_on_random_weights(inspector):
        notes.append(RANDOM_WEIGHTS_NOTE)
    return Stylised(image.detach()[0].numpy(), content_image[0].numpy(), style_image[0].numpy(),
                    content_losses, style_losses, notes)
