"""Pause and stop in the middle of a pass: hooks between layers that abandon the pass."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from torch import nn

from core.train.settings import TrainingControl


class Interrupted(Exception):
    """Raised by a layer hook when pause or stop was asked for in the middle of a pass."""


@contextmanager
def interruptible(model: nn.Module, control: TrainingControl) -> Iterator[None]:
    """Inside: hooks raise Interrupted before each layer's forward and after each parameter's
    gradient while pause or stop is asked for (a few microseconds a layer)."""

    def check(*_: object) -> None:
        if control.paused or control.stop_requested:
            raise Interrupted

    handles: list[Any] = [module.register_forward_pre_hook(check)
                          for module in model.modules() if not any(module.children())]
    handles += [param.register_hook(check)  # type: ignore[no-untyped-call]
                for param in model.parameters() if param.requires_grad]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
