"""Merge layers: ConvScope's own layers that combine the outputs of several layers."""

from __future__ import annotations

from core.model.catalog.entry import LayerType

ENTRIES: tuple[LayerType, ...] = (
    LayerType(
        name="Add",
        group="merge",
        summary="Adds two or more inputs of the same shape element by element: the skip "
        "connection of a residual network (ResNet). List the layers in inputs. No parameters.",
        formula="out shape = each input's shape (all equal)",
        params=(),
        merge=True,
    ),
    LayerType(
        name="Concat",
        group="merge",
        summary="Stacks two or more inputs along the channels (U-Net, Inception). Heights and "
        "widths must be equal. List the layers in inputs. No parameters.",
        formula="out channels = sum of the input channels; other dimensions unchanged",
        params=(),
        merge=True,
    ),
    LayerType(
        name="Mul",
        group="merge",
        summary="Multiplies two or more inputs element by element. Sizes must be equal or 1: a "
        "C×1×1 gate scales each channel of a C×H×W feature map, which is how "
        "squeeze-and-excitation re-weights channels (MobileNet v3, EfficientNet, RegNet). List "
        "the layers in inputs. No parameters.",
        formula="out = the broadcast shape: each dimension the size that is not 1",
        params=(),
        merge=True,
    ),
)
