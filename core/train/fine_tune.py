"""Fine-tuning a pretrained model: a new head for the user's classes, the backbone frozen, and
later "unfreeze the top N blocks at a lower learning rate" (lecture 004's Xception recipe).

These are edits of the model file only (which layers train, the head's size); the weights come
from the imported model's file (loaded by layer name and shape, so the resized head starts fresh)
and the engine trains what the flags say. Blocks are found by the imported layer names:
torchvision's ``layer4_1_conv1`` belongs to block ``layer4_1``, timm's
``stages_3_blocks_1_conv_dw`` to ``stages_3_blocks_1``; a layer with weights and no numbered
prefix (``conv1``, ``fc``) is a block of its own, and one without weights joins the block before.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from core.analysis.model_analysis import ModelAnalysis, analyze_model
from core.model.spec import LayerSpec, ModelSpec
from core.train.run_schema import RunState
from core.train.settings import TrainingError, TrainingSettings

HEAD_SIZES = {"Linear": "out_features", "Conv2d": "out_channels", "Conv1d": "out_channels"}
"""The head's layer types and the parameter that sets its number of outputs."""
UNFREEZE_LR_FACTOR = 0.1
"""Unfrozen blocks continue at a tenth of the run's learning rate unless told otherwise."""


@dataclass(frozen=True)
class Block:
    """Consecutive layers that unfreeze together; ``params``: their weights."""

    name: str
    layers: tuple[str, ...]
    params: int
    trainable: bool
    """True when every layer with weights in it trains."""


@dataclass(frozen=True)
class TrainableSummary:
    """Which layers train and how many are frozen, for the Train tab and the log."""

    trains: tuple[tuple[str, int], ...]
    """(layer, parameters) of each layer with weights that trains."""
    frozen: tuple[tuple[str, int], ...]

    @property
    def line(self) -> str:
        """e.g. "Trains: fc (5,130 params); frozen: 40 layers (11,176,512 params)"."""
        names = [name for name, _ in self.trains]
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more layers" if len(names) > 3
                                        else "")
        trained = sum(p for _, p in self.trains)
        frozen = sum(p for _, p in self.frozen)
        head = f"Trains: {shown} ({trained:,} params)" if names else "Trains: nothing"
        if not self.frozen:
            return f"{head}; frozen: none"
        count = len(self.frozen)
        return f"{head}; frozen: {count} layer{'s' if count != 1 else ''} ({frozen:,} params)"


def trainable_summary(spec: ModelSpec, analysis: ModelAnalysis | None = None
                      ) -> TrainableSummary:
    """The layers with weights that train and those that are frozen."""
    analysis = analysis if analysis is not None else analyze_model(spec)
    trains: list[tuple[str, int]] = []
    frozen: list[tuple[str, int]] = []
    for layer, info in zip(spec.layers, analysis.layers, strict=False):
        if info.params:
            (trains if layer.trainable else frozen).append((layer.name, info.params))
    return TrainableSummary(tuple(trains), tuple(frozen))


def head_index(spec: ModelSpec, analysis: ModelAnalysis) -> int:
    """The index of the head: the last layer with weights, a Linear or a convolution."""
    for index in range(len(analysis.layers) - 1, -1, -1):
        if analysis.layers[index].params:
            if spec.layers[index].type not in HEAD_SIZES:
                raise TrainingError(
                    f"the last layer with weights, {spec.layers[index].name}, is a "
                    f"{spec.layers[index].type}: fine-tuning replaces a Linear or Conv2d head")
            return index
    raise TrainingError(f"{spec.name} has no layer with weights to use as its head")


def fine_tune_spec(spec: ModelSpec, classes: list[str] | tuple[str, ...]) -> ModelSpec:
    """``spec`` with its head sized for ``classes`` (named so) and every other layer frozen.

    The head keeps its name, so weights loaded by name and shape fill the backbone and leave the
    resized head at its fresh initialisation.
    """
    if len(classes) < 2:
        raise TrainingError(f"fine-tuning needs at least two classes; found {len(classes)}")
    analysis = analyze_model(spec)
    analysis.raise_error()
    head = head_index(spec, analysis)
    key = HEAD_SIZES[spec.layers[head].type]
    layers: list[LayerSpec] = []
    for index, layer in enumerate(spec.layers):
        if index == head:
            layers.append(replace(layer.with_params(**{key: len(classes)}), trainable=True))
        elif index < head:
            layers.append(replace(layer, trainable=False))
        else:
            layers.append(layer)
    return replace(spec, layers=tuple(layers), classes=tuple(classes))


def _block_key(name: str) -> str | None:
    """The deepest numbered prefix of a layer name (``layer4_1`` of ``layer4_1_conv1``)."""
    parts = name.split("_")
    for end in range(len(parts) - 1, 0, -1):
        if parts[end - 1].isdigit() and end - 1 > 0:
            return "_".join(parts[:end])
    return None


def blocks(spec: ModelSpec, analysis: ModelAnalysis | None = None) -> list[Block]:
    """The model's blocks in order (see the module doc)."""
    analysis = analysis if analysis is not None else analyze_model(spec)
    groups: list[list[int]] = []
    keys: list[str] = []
    for index, (layer, info) in enumerate(zip(spec.layers, analysis.layers, strict=False)):
        key = _block_key(layer.name)
        if key is None:
            if not info.params and groups:
                groups[-1].append(index)
                continue
            key = layer.name
        if keys and keys[-1] == key:
            groups[-1].append(index)
        else:
            keys.append(key)
            groups.append([index])
    out = []
    for key, members in zip(keys, groups, strict=True):
        weighted = [i for i in members if analysis.layers[i].params]
        out.append(Block(key, tuple(spec.layers[i].name for i in members),
                         sum(analysis.layers[i].params for i in weighted),
                         all(spec.layers[i].trainable for i in weighted)))
    return [block for block in out if block.params]


def unfreeze_top(spec: ModelSpec, count: int) -> tuple[ModelSpec, list[str]]:
    """``spec`` with its top ``count`` frozen blocks (those just below what trains) trainable;
    returns the blocks unfrozen, lowest first. TrainingError when nothing is frozen."""
    if count < 1:
        raise TrainingError(f"unfreeze the top N blocks: N must be 1 or more, not {count}")
    found = blocks(spec)
    frozen = [block for block in found if not block.trainable]
    if not frozen:
        raise TrainingError(f"{spec.name} has no frozen block to unfreeze: every layer trains")
    chosen = frozen[-count:]
    names = {name for block in chosen for name in block.layers}
    layers = tuple(replace(layer, trainable=True) if layer.name in names else layer
                   for layer in spec.layers)
    return replace(spec, layers=layers), [block.name for block in chosen]


@dataclass(frozen=True)
class Unfreeze:
    """Continue a run with its top ``blocks`` frozen blocks trainable at ``lr`` (None: a tenth
    of the run's learning rate)."""

    blocks: int
    lr: float | None = None

    def rate(self, run_lr: float) -> float:
        return self.lr if self.lr is not None else run_lr * UNFREEZE_LR_FACTOR


def unfreeze_run(spec: ModelSpec, settings: TrainingSettings, state: RunState,
                 unfreeze: Unfreeze) -> tuple[ModelSpec, TrainingSettings, str]:
    """A resumed run's model and settings with its top blocks unfrozen at the lower rate; the
    change is recorded in the run's notes. Returns (model, settings, what changed)."""
    after, names = unfreeze_top(spec, unfreeze.blocks)
    rate = unfreeze.rate(settings.lr)
    changed = replace(settings, lr=rate)
    changed.check()
    summary = trainable_summary(after)
    note = (f"after epoch {state.epochs_done}: unfroze {', '.join(names)} and continued at lr "
            f"{rate:g} (was {settings.lr:g}) with a fresh {settings.optimizer} optimizer; "
            f"{summary.line}")
    state.notes = [*state.notes, note]
    return after, changed, note
