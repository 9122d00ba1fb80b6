"""Augmentation settings: the lectures' mirroring, cropping, rotation, shear, colour shift,
vertical flip, zoom (rescale) and elastic (local) warping.

Plain data (no torch), so settings and the GUI can hold them without importing torch; the
torchvision.transforms.v2 pipeline is built in core.data.adapt.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from core.data.errors import DataError


@dataclass(frozen=True)
class Augmentation:
    """The lecture's augmentations; zero / False means off."""

    flip: bool = False
    """Mirror left-right with probability 1/2 (not for digits: a mirrored 3 is no digit)."""
    crop: int = 0
    """Random crop after padding this many pixels on each side (a shift of up to ±crop)."""
    rotation: float = 0.0
    """Random rotation of up to ± this many degrees."""
    shear: float = 0.0
    """Random shear of up to ± this many degrees."""
    color: float = 0.0
    """Random brightness / contrast (and for colour images saturation / hue) change, 0–1."""
    vflip: bool = False
    """Mirror top-bottom with probability 1/2 (for aerial, cell or texture images)."""
    zoom: float = 0.0
    """Random rescale by a factor in 1 ± zoom (0–0.9) about the centre, same output size."""
    elastic: float = 0.0
    """Elastic (local) warping: displacement strength in pixels (ElasticTransform alpha, 0–200;
    the field's smoothness sigma is 5 pixels, less on images under 42 pixels)."""

    @property
    def active(self) -> bool:
        return bool(self.flip or self.crop or self.rotation or self.shear or self.color
                    or self.vflip or self.zoom or self.elastic)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def check(self) -> None:
        problems = []
        if not 0 <= self.crop <= 64:
            problems.append(f"crop must be 0–64 pixels, got {self.crop}")
        if not 0 <= self.rotation <= 180:
            problems.append(f"rotation must be 0–180 degrees, got {self.rotation}")
        if not 0 <= self.shear <= 60:
            problems.append(f"shear must be 0–60 degrees, got {self.shear}")
        if not 0 <= self.color <= 1:
            problems.append(f"color must be 0–1, got {self.color}")
        if not 0 <= self.zoom <= 0.9:
            problems.append(f"zoom must be 0–0.9 (a factor 1 ± zoom), got {self.zoom}")
        if not 0 <= self.elastic <= 200:
            problems.append(f"elastic must be 0–200 pixels, got {self.elastic}")
        if problems:
            raise DataError("augmentation: " + "; ".join(problems))
