"""The bundled preset models (resources/presets/*.json) and the embedded default."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from core.model.errors import ModelError
from core.model.spec import ModelSpec, load_model

PRESET_DIR = Path(__file__).resolve().parent.parent / "resources" / "presets"
DEFAULT_PRESET = "digits_small"
"""The model ConvScope opens with: it trains on the bundled digits data in seconds."""

TOPICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Why not dense layers", ("dense_mnist", "linear_cifar10", "linear_digits", "megapixel_dense")),
    ("First convnets", ("digits_small", "keras_mnist", "keras_mnist_fcn", "random_features",
                        "convnet_150", "cifar10_convnet")),
    ("Classic architectures", ("lenet5", "alexnet_lrn", "alexnet", "zfnet", "vgg16",
                               "resnet18", "resnet34")),
    ("Sequences and video", ("text_cnn", "video_cnn", "moving_digits_3d", "moving_digits_2d")),
    ("Segmentation and detection", ("fcn_skips_digits", "unet_digits", "fcn8s_digits",
                                    "fcn16s_digits", "fcn32s_digits", "grid_detector_digits",
                                    "localizer_digits", "fcn_small", "unet_small")),
)
"""The Presets menu's groups: what each model teaches, in lecture order."""
OTHER_TOPIC = "More models"
"""Where a bundled preset that no topic lists is shown."""
_ORDER = tuple(key for _topic, keys in TOPICS for key in keys)


@dataclass(frozen=True)
class Preset:
    """A bundled model: its key (file stem), display name, description and file."""

    key: str
    name: str
    description: str
    path: Path

    def load(self) -> ModelSpec:
        return load_model(self.path)


def list_presets() -> list[Preset]:
    """Every bundled preset, in menu order (lectures' models first, then classics, then tasks)."""
    presets = []
    for path in PRESET_DIR.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        presets.append(Preset(path.stem, data["name"], data.get("description", ""), path))
    rank = {key: i for i, key in enumerate(_ORDER)}
    return sorted(presets, key=lambda p: (rank.get(p.key, len(rank)), p.key))


def find_preset(key_or_name: str) -> Preset:
    """A preset by file stem ('resnet18') or model name ('resnet-18')."""
    wanted = key_or_name.lower()
    presets = list_presets()
    for preset in presets:
        if wanted in (preset.key, preset.name.lower()):
            return preset
    raise ModelError(f'no preset "{key_or_name}"; the presets are: '
                     + ", ".join(p.key for p in presets))


def load_preset(key_or_name: str) -> ModelSpec:
    return find_preset(key_or_name).load()


def presets_by_topic() -> list[tuple[str, list[Preset]]]:
    """The presets grouped as the Presets menu shows them; unlisted ones under OTHER_TOPIC."""
    presets = {p.key: p for p in list_presets()}
    groups = [(topic, [presets.pop(k) for k in keys if k in presets]) for topic, keys in TOPICS]
    if presets:
        groups.append((OTHER_TOPIC, list(presets.values())))
    return [(topic, items) for topic, items in groups if items]
