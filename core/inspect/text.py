"""Looking inside a text model: which words a Conv1d filter fires on, what the model predicts,
the n-grams that excite a filter most across the validation split, and each word's saliency.

A text model reads word ids (input shape one number, an Embedding first: text_cnn). Its
sequence layers (Conv1d, 1-D pooling and what passes their length through) have outputs
(channels, positions); each position sees a window of words, tracked with the receptive-field
recurrence (core.analysis.receptive_field) from the first layer that reads (channels, words).
Saliency is gradient × input at the Embedding's output (captum's LayerGradientXActivation),
summed over the embedding: one signed number per word.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.analysis.receptive_field import ReceptiveField
from core.data.dataset import Dataset
from core.data.vocabulary import PAD, Vocabulary, load_vocabulary, tokenize
from core.inspect.inspector import InspectError, Inspector, Prediction
from core.model.spec import ModelSpec

WINDOW_TYPES = {"Conv1d", "MaxPool1d", "AvgPool1d"}
"""Layers that slide a window along the words (their kernel, stride, padding, dilation)."""
LENGTH_KEEPING = {"ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Tanh", "Sigmoid", "Dropout",
                  "Dropout1d", "BatchNorm1d", "Identity", "PReLU", "Hardtanh", "ReLU6"}
"""Layers whose output positions are their input's (element-wise or per channel)."""
NGRAM_BATCH = 64
EXAMPLE = "the acting was not good but the music was great"


def is_text_model(spec: ModelSpec) -> bool:
    """The model reads word ids: one input number and an Embedding first."""
    return len(spec.input_shape) == 1 and bool(spec.layers) and spec.layers[0].type == "Embedding"


def _pair(value: Any, default: int) -> int:
    if isinstance(value, list | tuple):
        value = value[0] if value else default
    return int(value) if isinstance(value, int) else default


def sequence_layers(spec: ModelSpec) -> dict[str, ReceptiveField]:
    """Each layer whose output is (channels, positions) along the words, with the window of
    words its positions see: from the first Conv1d through the windows and what keeps their
    length, until a layer that does not (global pooling, Flatten). A chain only."""
    if not is_text_model(spec):
        return {}
    fields: dict[str, ReceptiveField] = {}
    field: ReceptiveField | None = None
    for layer in spec.layers:
        if layer.inputs:  # a branch or merge: the chain's windows stop here
            break
        if field is None:
            if layer.type != "Conv1d":
                continue
            field = ReceptiveField.of_input(1)
        params = layer.params
        if layer.type in WINDOW_TYPES:
            kernel = _pair(params.get("kernel_size"), 1)
            default_stride = 1 if layer.type == "Conv1d" else kernel
            stride = _pair(params.get("stride"), default_stride)
            padding = params.get("padding", 0)
            pad = _pair(padding, 0) if not isinstance(padding, str) else (
                (kernel - 1) // 2 if padding == "same" else 0)
            dilation = _pair(params.get("dilation"), 1)
            field = field.window((kernel,), (stride,), (pad,), (dilation,))
        elif layer.type not in LENGTH_KEEPING:
            break
        fields[layer.name] = field
    return fields


def word_windows(field: ReceptiveField, positions: int, words: int) -> np.ndarray:
    """(positions, 2) int: the first and one-past-last word each output position sees, clipped
    to the text."""
    out = np.zeros((positions, 2), dtype=np.int64)
    for p in range(positions):
        (low, high), = field.input_window((p,))
        out[p] = (max(0, int(np.floor(low + 1e-6))), min(words, int(np.ceil(high - 1e-6))))
    return out


@dataclass(frozen=True)
class TextInput:
    """A text as the model reads it: word ids (1, length) and the words they stand for."""

    ids: torch.Tensor
    words: tuple[str, ...]
    """The words the model sees (cut to its length; padding not included)."""
    unknown: tuple[str, ...]
    """Words outside the vocabulary (read as the out-of-vocabulary id)."""
    source: str


def read_text(vocabulary: Vocabulary, text: str, source: str = "typed text") -> TextInput:
    words = tokenize(text)
    if not words:
        raise InspectError("the text has no words (letters or digits); type a sentence")
    ids = vocabulary.encode(words)
    seen = tuple(words[:vocabulary.length])
    unknown = tuple(dict.fromkeys(w for w in seen if w not in vocabulary.index))
    return TextInput(torch.tensor([ids], dtype=torch.int64), seen, unknown, source)


def sample_text(vocabulary: Vocabulary, data: Dataset, index: int) -> TextInput:
    """Validation text ``index`` of ``data`` (already encoded with ``vocabulary``)."""
    count = len(data.val)
    if not 0 <= index < count:
        raise InspectError(f"validation text {index} does not exist: {data.name} has {count} "
                           f"(0 to {count - 1})")
    ids = data.val.images[index:index + 1].to(torch.int64)
    row = [int(i) for i in ids[0]]
    while row and row[-1] == PAD:
        row.pop()
    label = data.classes[int(data.val.labels[index])]
    return TextInput(ids, tuple(vocabulary.decode(row)), (),
                     f"validation text {index} of {data.name} (label {label})")


# -- the vocabulary and data a text model is inspected with ------------------------------------

@dataclass
class TextSource:
    vocabulary: Vocabulary
    data: Dataset
    note: str


def text_source(inspector: Inspector, run_dir: Path | None) -> TextSource:
    """The run's vocabulary and validation split (its dataset, read without downloading);
    without a run, the bundled phrases with a vocabulary built from their training split."""
    from core.data.datasets import embedding_rows, load_dataset
    from core.data.texts import PHRASES

    spec = inspector.spec
    if not is_text_model(spec):
        raise InspectError("this view is for text models (input: word ids, an Embedding "
                           "first, e.g. the text_cnn preset)")
    rows = embedding_rows(spec)
    vocabulary = load_vocabulary(run_dir) if run_dir is not None else None
    state = inspector.state
    if vocabulary is not None and state is not None:
        data = load_dataset(state.dataset, spec.input_shape, download=False,
                            vocabulary_size=rows, vocabulary=vocabulary)
        return TextSource(vocabulary, data, f"the run's vocabulary ({vocabulary.size:,} words) "
                                            f"and {data.name}")
    data = load_dataset(PHRASES, spec.input_shape, vocabulary_size=rows)
    assert data.vocabulary is not None
    return TextSource(data.vocabulary, data, "no run: the bundled phrases and their vocabulary")


# -- activations along the words -------------------------------------------------------------

@dataclass(frozen=True)
class WordStrip:
    """One value per word (the strongest output position that sees it) for one filter, or the
    strongest filter when ``channel`` is None."""

    layer: str
    channel: int | None
    channels: int
    values: np.ndarray
    """(words,) float32."""
    strongest: int
    """The channel with the highest activation anywhere in the text."""


def _capture(inspector: Inspector, layer: str, ids: torch.Tensor) -> torch.Tensor:
    captured: list[torch.Tensor] = []
    hook = inspector.model.layers[layer].register_forward_hook(
        lambda _m, _i, out: captured.append(out.detach()))
    try:
        with torch.no_grad():
            inspector.model(ids)
    finally:
        hook.remove()
    return captured[0]


def _check_sequence_layer(inspector: Inspector, layer: str) -> ReceptiveField:
    fields = sequence_layers(inspector.spec)
    if layer not in fields:
        listed = ", ".join(fields) or "none in this model"
        raise InspectError(f'"{layer}" has no output along the words; choose one of: {listed}')
    return fields[layer]


def word_strip(inspector: Inspector, text: TextInput, layer: str,
               channel: int | None = None) -> WordStrip:
    field = _check_sequence_layer(inspector, layer)
    out = _capture(inspector, layer, text.ids)[0].float().numpy()  # (C, positions)
    channels = out.shape[0]
    if channel is not None and not 0 <= channel < channels:
        raise InspectError(f"filter {channel} does not exist: {layer} has {channels} "
                           f"(0 to {channels - 1})")
    windows = word_windows(field, out.shape[1], len(text.words))
    live = windows[:, 1] > windows[:, 0]  # positions that see at least one word (not padding)
    strongest = int(np.argmax(np.where(live[None, :], out, -np.inf).max(axis=1))) \
        if live.any() else 0
    row = out[strongest if channel is None else channel]
    values = np.full(len(text.words), -np.inf, dtype=np.float32)
    for p in np.flatnonzero(live):
        low, high = windows[p]
        values[low:high] = np.maximum(values[low:high], row[p])
    values[~np.isfinite(values)] = 0.0
    return WordStrip(layer, channel, channels, values, strongest)


def text_top_k(inspector: Inspector, text: TextInput, k: int = 5) -> list[Prediction]:
    probs = inspector.probabilities(text.ids)[0]
    values, indices = probs.topk(min(k, probs.numel()))
    return [Prediction(inspector.classes[int(i)] if int(i) < len(inspector.classes)
                       else str(int(i)), int(i), float(v))
            for v, i in zip(values, indices, strict=True)]


def word_saliency(inspector: Inspector, text: TextInput, target: int | None = None
                  ) -> tuple[np.ndarray, int]:
    """Gradient × input at the Embedding's output, summed over the embedding, per word (signed:
    positive words push the class's score up), and the class explained."""
    from captum.attr import LayerGradientXActivation

    target = _target(inspector, text, target)
    embedding = inspector.model.layers[inspector.spec.layers[0].name]
    method = LayerGradientXActivation(inspector.scorer(), embedding)
    with torch.enable_grad():
        attribution = method.attribute(text.ids, target=target)
    per_word = attribution[0].detach().float().sum(dim=-1).numpy()
    return per_word[:len(text.words)].astype(np.float32), target


def _target(inspector: Inspector, text: TextInput, target: int | None) -> int:
    classes = inspector.probabilities(text.ids).shape[1]
    if target is None:
        return int(inspector.probabilities(text.ids)[0].argmax())
    if not 0 <= target < classes:
        raise InspectError(f"class {target} does not exist: the model scores {classes} "
                           f"classes (0 to {classes - 1})")
    return target


# -- the n-grams that excite a filter most -----------------------------------------------------

@dataclass(frozen=True)
class NGram:
    words: str
    activation: float
    sample: int
    """Which validation text it comes from."""


_PEAKS: weakref.WeakKeyDictionary[Inspector, dict[tuple[str, str], tuple[np.ndarray, ...]]] = \
    weakref.WeakKeyDictionary()
"""Per inspector (model and weights): each (layer, dataset)'s per-text peak of every filter."""


def _peaks(inspector: Inspector, layer: str, data: Dataset,
           progress: Callable[[int, int], object] | None) -> tuple[np.ndarray, np.ndarray]:
    """(texts, channels) peak activation and the position where it is, over the validation
    split; computed once per layer and dataset (the filter choice then costs nothing)."""
    cache = _PEAKS.setdefault(inspector, {})
    key = (layer, data.name)
    if key not in cache:
        ids = data.val.images.to(torch.int64)
        values, where = [], []
        for start in range(0, len(ids), NGRAM_BATCH):
            out = _capture(inspector, layer, ids[start:start + NGRAM_BATCH]).float()
            best, positions = out.max(dim=2)
            values.append(best.numpy())
            where.append(positions.numpy())
            if progress is not None:
                progress(min(start + NGRAM_BATCH, len(ids)), len(ids))
        cache[key] = (np.concatenate(values), np.concatenate(where))
    peak, at = cache[key]
    return peak, at


def top_ngrams(inspector: Inspector, source: TextSource, layer: str, channel: int, k: int = 10,
               progress: Callable[[int, int], object] | None = None) -> list[NGram]:
    """The ``k`` different word windows of the validation split that drive filter ``channel``
    of ``layer`` highest (each text's strongest window; the same words counted once)."""
    field = _check_sequence_layer(inspector, layer)
    peak, at = _peaks(inspector, layer, source.data, progress)
    if not 0 <= channel < peak.shape[1]:
        raise InspectError(f"filter {channel} does not exist: {layer} has {peak.shape[1]} "
                           f"(0 to {peak.shape[1] - 1})")
    ids = source.data.val.images
    found: list[NGram] = []
    seen: set[str] = set()
    for sample in np.argsort(-peak[:, channel], kind="stable"):
        (low, high), = field.input_window((int(at[sample, channel]),))
        first = max(0, int(np.floor(low + 1e-6)))
        last = min(ids.shape[1], int(np.ceil(high - 1e-6)))
        words = " ".join(w for w in source.vocabulary.decode(
            int(i) for i in ids[int(sample), first:last]) if w != "<pad>")
        if not words or words in seen:
            continue
        seen.add(words)
        found.append(NGram(words, float(peak[sample, channel]), int(sample)))
        if len(found) == k:
            break
    return found
