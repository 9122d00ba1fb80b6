"""The segmentation / detection presets, pinned to independently written torch models."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.analysis.model_analysis import analyze_model
from core.build import build_model
from core.presets import load_preset


def stage(cin: int, cout: int, pool: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
    return layers + ([nn.MaxPool2d(2)] if pool else [])


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_grid_detector_equals_a_hand_written_torch_model() -> None:
    reference = nn.Sequential(*stage(1, 16), *stage(16, 32), *stage(32, 64),
                              *stage(64, 96, False), *stage(96, 128, False),
                              nn.Conv2d(128, 15, 1))
    analysis = analyze_model(load_preset("grid_detector_digits"))
    assert analysis.total_params == count(reference) == 192_015
    assert analysis.output_shape == (15, 8, 8)
    assert reference(torch.zeros(1, 1, 64, 64)).shape[1:] == (15, 8, 8)


@pytest.mark.parametrize(("key", "head"), [("fcn32s_digits", 64), ("fcn16s_digits", 32),
                                           ("fcn8s_digits", 16)])
def test_fcn_variants_equal_hand_written_counts(key: str, head: int) -> None:
    encoder = nn.Sequential(*stage(1, 16), *stage(16, 32), *stage(32, 64), *stage(64, 64),
                            *stage(64, 128))
    k = 11
    score5 = nn.Conv2d(128, k, 1)
    skips = {"fcn32s_digits": [], "fcn16s_digits": [64], "fcn8s_digits": [64, 64]}[key]
    extra = sum(count(nn.ConvTranspose2d(k, k, 4, 2, 1)) + count(nn.Conv2d(c, k, 1))
                for c in skips)
    final = nn.ConvTranspose2d(k, k, head, head // 2, head // 4)
    spec = load_preset(key)
    analysis = analyze_model(spec)
    assert analysis.total_params == count(encoder) + count(score5) + extra + count(final)
    assert analysis.output_shape == (11, 64, 64)
    assert build_model(spec)(torch.zeros(2, 1, 64, 64)).shape == (2, 11, 64, 64)
    assert sum(layer.type == "Add" for layer in spec.layers) == len(skips)


class UNet(nn.Module):
    """unet_digits written by hand: 16 → 32 → 64 → 128 (8×8) and back, skips concatenated."""

    def __init__(self) -> None:
        super().__init__()
        self.enc1 = nn.Sequential(*stage(1, 16, False))
        self.enc2 = nn.Sequential(*stage(16, 32, False), *stage(32, 32, False))
        self.enc3 = nn.Sequential(*stage(32, 64, False), *stage(64, 64, False))
        self.bott = nn.Sequential(*stage(64, 128, False), *stage(128, 128, False))
        self.ups = nn.ModuleList(nn.ConvTranspose2d(c, c // 2, 2, 2) for c in (128, 64, 32))
        self.decs = nn.ModuleList(nn.Sequential(*stage(c, c // 2, False)) for c in (128, 64, 32))
        self.head = nn.Conv2d(16, 11, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)
        e2 = self.enc2(nn.functional.max_pool2d(e1, 2))
        e3 = self.enc3(nn.functional.max_pool2d(e2, 2))
        y = self.bott(nn.functional.max_pool2d(e3, 2))
        for up, dec, skip in zip(self.ups, self.decs, (e3, e2, e1), strict=True):
            y = dec(torch.cat([up(y), skip], 1))
        return self.head(y)


def test_fcn_with_full_resolution_skips_equals_a_hand_written_count() -> None:
    k = 11
    encoder = nn.Sequential(*stage(1, 16), *stage(16, 32), *stage(32, 64),
                            *stage(64, 64, False), *stage(64, 64), *stage(64, 128, False),
                            *stage(128, 128, False))
    scores = [nn.Conv2d(c, k, 1) for c in (128, 64, 64, 16)]
    ups = [nn.ConvTranspose2d(k, k, 4, 2, 1), nn.ConvTranspose2d(k, k, 4, 2, 1),
           nn.ConvTranspose2d(k, k, 8, 4, 2)]
    spec = load_preset("fcn_skips_digits")
    analysis = analyze_model(spec)
    assert analysis.total_params == count(encoder) + sum(map(count, scores + ups)) == 334_269
    assert build_model(spec)(torch.zeros(2, 1, 64, 64)).shape == (2, 11, 64, 64)
    assert sum(layer.type == "Add" for layer in spec.layers) == 3


def test_unet_equals_a_hand_written_torch_model_and_localizer_shapes() -> None:
    unet = analyze_model(load_preset("unet_digits"))
    reference = UNet()
    assert unet.output_shape == (11, 64, 64)
    assert unet.total_params == count(reference) == 432_251
    assert reference(torch.zeros(1, 1, 64, 64)).shape == (1, 11, 64, 64)
    localizer = analyze_model(load_preset("localizer_digits"))
    # two heads (issue 20): class scores from a global max pool, the box from the flat map
    assert localizer.output_shape == (14,) and localizer.total_params == 553_262
