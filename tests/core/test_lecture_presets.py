"""The lectures' models, each pinned to the figure its lecture gives and to torch layer by layer.

The torch references are written by hand here (as the lecture's Keras code or table describes
them) and built on the meta device: shapes and parameter counts without allocating 100 M weights.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.analysis.model_analysis import analyze_model
from core.presets import (
    OTHER_TOPIC,
    TOPICS,
    find_preset,
    list_presets,
    load_preset,
    presets_by_topic,
)


def _reference(key: str) -> nn.Module:
    lrn = {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 2.0}
    models = {
        "dense_mnist": lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(),
                                             nn.Linear(512, 10)),
        "linear_cifar10": lambda: nn.Sequential(nn.Flatten(), nn.Linear(3072, 10)),
        "alexnet_lrn": lambda: nn.Sequential(
            nn.Conv2d(3, 96, 11, 4, 2), nn.ReLU(), nn.LocalResponseNorm(**lrn),
            nn.MaxPool2d(3, 2), nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(),
            nn.LocalResponseNorm(**lrn), nn.MaxPool2d(3, 2),
            nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(), nn.Conv2d(384, 384, 3, padding=1),
            nn.ReLU(), nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Flatten(), nn.Dropout(), nn.Linear(9216, 4096), nn.ReLU(), nn.Dropout(),
            nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 1000)),
        "zfnet": lambda: nn.Sequential(
            nn.Conv2d(3, 96, 7, 2, 1), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
            nn.Conv2d(96, 256, 5, 2), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
            nn.Conv2d(256, 512, 3, padding=1), nn.ReLU(), nn.Conv2d(512, 1024, 3, padding=1),
            nn.ReLU(), nn.Conv2d(1024, 512, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Flatten(), nn.Linear(18432, 4096), nn.ReLU(), nn.Dropout(),
            nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 1000)),
        "cifar10_convnet": lambda: nn.Sequential(  # Keras cifar10_cnn.py
            nn.Conv2d(3, 32, 3, padding="same"), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(),
            nn.MaxPool2d(2), nn.Dropout(0.25), nn.Conv2d(32, 64, 3, padding="same"), nn.ReLU(),
            nn.Conv2d(64, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
            nn.Linear(2304, 512), nn.ReLU(), nn.Dropout(0.5), nn.Linear(512, 10)),
        "video_cnn": lambda: nn.Sequential(
            nn.Conv3d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool3d((1, 2, 2)),
            nn.Conv3d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool3d(2),
            nn.Conv3d(32, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool3d(1), nn.Flatten(),
            nn.Linear(64, 10)),
    }
    return models[key]()


class _Text(nn.Module):
    """The lecture's Keras text CNN in torch: the embedding's (length, dims) is transposed to
    (dims, length) for Conv1d; global max pooling over time (Keras's GlobalMaxPooling1D)."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(5000, 50)
        self.body = nn.Sequential(
            nn.Conv1d(50, 250, 3), nn.ReLU(), nn.MaxPool1d(2), nn.Conv1d(250, 250, 3),
            nn.ReLU(), nn.AdaptiveMaxPool1d(1), nn.Flatten(), nn.Linear(250, 250), nn.Dropout(0.25),
            nn.ReLU(), nn.Linear(250, 1), nn.Sigmoid())

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.body(self.embedding(tokens).transpose(1, 2))


# The figure each lecture gives (seeds/README.md), or the count of the model it names.
FIGURES = {"dense_mnist": 407_050, "linear_cifar10": 30_730, "alexnet_lrn": 62_378_344,
           "zfnet": 107_627_624, "cifar10_convnet": 1_250_858, "text_cnn": 538_501,
           "video_cnn": 71_178}


def _torch_shapes(module: nn.Module, x: torch.Tensor) -> list[tuple[int, ...]]:
    shapes = []
    for layer in module:  # type: ignore[attr-defined]
        x = layer(x)
        shapes.append(tuple(x.shape[1:]))
    return shapes


@pytest.mark.parametrize("key", sorted(set(FIGURES) - {"text_cnn"}))
def test_lecture_preset_equals_its_torch_reference_layer_by_layer(key: str) -> None:
    spec = load_preset(key)
    analysis = analyze_model(spec)
    assert analysis.ok, analysis.error
    with torch.device("meta"):
        reference = _reference(key)
        shapes = _torch_shapes(reference, torch.empty(2, *spec.input_shape))
    counts = [sum(p.numel() for p in layer.parameters()) for layer in reference]
    assert [layer.type for layer in spec.layers] == [type(m).__name__ for m in reference]
    assert [a.output_shape for a in analysis.layers] == shapes
    assert [a.params for a in analysis.layers] == counts
    assert analysis.total_params == sum(counts) == FIGURES[key]


def test_the_text_cnn_equals_the_lectures_keras_model_in_torch() -> None:
    spec = load_preset("text_cnn")
    assert spec.input_dtype == "int64" and spec.input_shape == (400,)
    analysis = analyze_model(spec)
    assert analysis.ok, analysis.error
    with torch.device("meta"):
        reference = _Text()
        tokens = torch.zeros(2, 400, dtype=torch.long)
        embedded = reference.embedding(tokens)
        shapes = [tuple(embedded.shape[1:])]
        x = embedded.transpose(1, 2)
        shapes.append(tuple(x.shape[1:]))
        shapes += _torch_shapes(reference.body, x)
    ours = [a.output_shape for a in analysis.layers if a.type != "Dropout" or a.name ==
            "dropout2"]
    assert ours == shapes
    assert analysis.get("embedding").output_shape == (400, 50)  # type: ignore[union-attr]
    assert analysis.get("to_channels").output_shape == (50, 400)  # type: ignore[union-attr]
    assert analysis.total_params == sum(p.numel() for p in reference.parameters()) \
        == FIGURES["text_cnn"]


def test_zfnet_reproduces_the_lectures_table_of_volumes() -> None:
    """seeds/003: 224×224×3 → 55×55×96 → 13×13×256 → 13×13×512 → 13×13×1024 → 13×13×512 →
    4096 → 4096 → 1000 (the table is channels-last; ConvScope is channels-first)."""
    analysis = analyze_model(load_preset("zfnet"))
    volume = {a.name: a.output_shape for a in analysis.layers}
    table = [("pool1", (96, 55, 55)), ("pool2", (256, 13, 13)), ("conv3", (512, 13, 13)),
             ("conv4", (1024, 13, 13)), ("conv5", (512, 13, 13)), ("fc6", (4096,)),
             ("fc7", (4096,)), ("fc8", (1000,))]
    assert [(name, volume[name]) for name, _ in table] == table
    assert load_preset("zfnet").input_shape == (3, 224, 224)
    alexnet = {a.name: a.output_shape for a in analyze_model(load_preset("alexnet_lrn")).layers}
    assert alexnet["conv1"] == (96, 55, 55)  # both columns of the table start the same
    assert [a.type for a in analyze_model(load_preset("alexnet_lrn")).layers].count(
        "LocalResponseNorm") == 2


def test_the_presets_menu_groups_every_preset_by_topic() -> None:
    groups = presets_by_topic()
    shown = [p.key for _topic, members in groups for p in members]
    assert sorted(shown) == sorted(p.key for p in list_presets())
    assert len(shown) == len(set(shown))
    topics = [topic for topic, _members in groups]
    assert [t for t in topics if t != OTHER_TOPIC] == [t for t, _keys in TOPICS if t in topics]
    by_topic = {topic: [p.key for p in members] for topic, members in groups}
    assert {"dense_mnist", "linear_cifar10"} <= set(by_topic["Why not dense layers"])
    assert {"text_cnn", "video_cnn"} <= set(by_topic["Sequences and video"])
    assert {"zfnet", "alexnet_lrn"} <= set(by_topic["Classic architectures"])
    for key in FIGURES:
        assert f"{FIGURES[key]:,}" in find_preset(key).description
