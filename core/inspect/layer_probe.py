"""Gradient ascent on an input, shared by DeepDream and style transfer: the model run only as
far as the deepest layer asked for, the layers' outputs captured, a cancel check between the
layers both forward and backward, and the input optimised in display space (0–1) with the
model's own normalisation applied inside the forward."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

import torch

from core.inspect.inputs import DEFAULT_MEAN, DEFAULT_STD

if TYPE_CHECKING:
    from core.inspect.inspector import Inspector

RANDOM_WEIGHTS_NOTE = ("these are RANDOM weights (untrained): the picture shows what an "
                       "untrained network amplifies, not features it learned — open a run or "
                       "import a model with its weights for the real thing")


class _Reached(Exception):
    """Raised by a forward hook once the deepest wanted layer has run (the rest is skipped)."""


def runs_on_random_weights(inspector: Inspector) -> bool:
    """True when the inspector holds the model's random initial weights."""
    return inspector.weights_note.startswith("random")


def normalisation(inspector: Inspector, channels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, std) as (1, C, 1, 1): the run's, the model file's, else ConvScope's defaults —
    the same as ``inputs._normalised`` applies to every input."""
    mean, std = inspector._statistics()
    mean_t = torch.tensor(mean) if mean is not None else torch.full((channels,), DEFAULT_MEAN)
    std_t = torch.tensor(std) if std is not None else torch.full((channels,), DEFAULT_STD)
    return mean_t.float()[None, :, None, None], std_t.float()[None, :, None, None]


class LayerProbe:
    """Runs ``inspector``'s model on a display-space image (1, C, H, W) and returns the outputs
    of ``layers``, stopping after the deepest of them; ``check()`` is called as each layer's
    gradient flows back (raise from it to cancel a backward pass)."""

    def __init__(self, inspector: Inspector, layers: Sequence[str],
                 check: Callable[[], object] | None = None) -> None:
        names = inspector.layer_names()
        for layer in layers:
            inspector._check_layer(layer, names, "a layer of this model")
        self.inspector = inspector
        self.layers = tuple(dict.fromkeys(layers))
        self.last = max(self.layers, key=names.index)
        self.check = check
        channels = inspector.spec.input_shape[0]
        self.mean, self.std = normalisation(inspector, channels)

    @contextmanager
    def _hooks(self, captured: dict[str, torch.Tensor]) -> Iterator[None]:
        wanted = set(self.layers)

        def after(name: str, out: torch.Tensor) -> None:
            if self.check is not None and isinstance(out, torch.Tensor) and out.requires_grad:
                out.register_hook(self._on_gradient)  # type: ignore[no-untyped-call]
            if name in wanted:
                captured[name] = out
            if name == self.last:
                raise _Reached

        hooks = [module.register_forward_hook(
            lambda _m, _i, out, name=name: after(name, out))
            for name, module in self.inspector.model.layers.items()]
        try:
            yield
        finally:
            for hook in hooks:
                hook.remove()

    def _on_gradient(self, _grad: torch.Tensor) -> None:
        if self.check is not None:
            self.check()

    def __call__(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        captured: dict[str, torch.Tensor] = {}
        with self._hooks(captured), suppress(_Reached):
            self.inspector.model((image - self.mean) / self.std)
        return captured
