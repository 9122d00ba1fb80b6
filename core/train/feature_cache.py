"""The frozen part's features, computed once and cached on disk (lecture 003's recipe).

With the backbone frozen and no augmentation, every epoch feeds the same images through the same
frozen layers: their output can be computed once, kept, and the layers after them trained from
it alone (ResNet-18's head from 512 numbers an image instead of a 224×224 photo).

The cut is the last layer of the longest frozen prefix that the rest reads through one tensor
(no skip connection across it, no Dropout before it: a random layer would differ each epoch).
The cache file (safetensors, written all-or-nothing) is named by a SHA-256 of what the features
depend on: the prefix's layers and weights, the data (a folder: every file's path, size and
modification time; a bundled dataset: its tensors), the splits' labels, and the transforms (input
size, channels, normalisation). Any change gives another name, so a stale file is never read;
a damaged one is computed again.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Generator
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import nn

from core.analysis.model_analysis import ModelAnalysis
from core.build import ConvScopeNet
from core.data.adapt import BatchPreparer
from core.data.dataset import Dataset, Split
from core.model.catalog import CATALOG
from core.model.spec import INPUT, ModelSpec
from core.regular_files import write_atomic
from core.train.interrupt import Interrupted, interruptible
from core.train.settings import Caching, Event, Paused, Resumed, TrainingControl
from core.workspace import home

FORMAT = "convscope.features/1"
MAX_FEATURE_BYTES = 1 << 30
"""Features of all three splits above this are not cached (they live in memory while training)."""
SPLITS = ("train", "val", "test")
CHUNK_MACS = 4_000_000_000
"""Multiply-accumulates of the prefix's largest layer per chunk on a CPU (well under a second;
pause and stop act between layers anyway)."""
STOCHASTIC_GROUPS = frozenset({"regularization"})
"""Layer groups whose output is random in training (Dropout): they end the cacheable prefix."""


def cache_folder() -> Path:
    """Where cached features live: the ConvScope data folder's ``cache/features``."""
    return home() / "cache" / "features"


def frozen_cut(spec: ModelSpec, analysis: ModelAnalysis) -> int | None:
    """The index of the last layer whose output can be cached, None when there is none."""
    frozen = True
    best = None
    readers_before: set[str] = set()  # every layer read by a layer at or before the cut
    consumers: dict[str, int] = {}  # the last index reading each layer
    for index in range(len(spec.layers)):
        for source in spec.inputs_of(index):
            consumers[source] = index
    for index, (layer, info) in enumerate(zip(spec.layers, analysis.layers, strict=False)):
        weighted_trains = layer.trainable and info.params > 0
        if weighted_trains or CATALOG[layer.type].group in STOCHASTIC_GROUPS:
            frozen = False
        if not frozen:
            break
        readers_before.update(spec.inputs_of(index))
        readers_before.add(layer.name)
        # the cut works when nothing after it reads the input or a layer before it
        earlier = readers_before - {layer.name}
        if index < len(spec.layers) - 1 and all(consumers.get(name, -1) <= index
                                                for name in earlier | {INPUT}):
            best = index
    return best


class HeadOnly(nn.Module):
    """The layers after the cut, fed with the cut's output (the cached features)."""

    def __init__(self, model: ConvScopeNet, cut: str) -> None:
        super().__init__()
        self.model = model
        self.cut = cut
        names = list(model.layers)
        self.after = names[names.index(cut) + 1:]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = {self.cut: x}
        out = x
        for name in self.after:
            module = self.model.layers[name]
            out = module(*(outputs[s] for s in self.model.sources[name]))
            for source in self.model._release.get(name, ()):
                outputs.pop(source, None)
            outputs[name] = out
        return out


class FeatureBatches:
    """Stands in for the BatchPreparer over cached features: they are ready as they are."""

    def fit_split(self, split: Split, budget: int = 0) -> tuple[Split, bool]:
        return split, True

    def __call__(self, images: torch.Tensor, train: bool = False,
                 device: torch.device | None = None, fitted: bool = True) -> torch.Tensor:
        return images.to(device) if device is not None else images


@dataclass(frozen=True)
class CachedFeatures:
    """The cut layer's output for every image of the three splits (float32, on the CPU)."""

    cut: str
    train: torch.Tensor
    val: torch.Tensor
    test: torch.Tensor
    path: Path
    hit: bool

    def split(self, data: Dataset, which: str) -> Split:
        """``data``'s split with its images replaced by their features."""
        split: Split = getattr(data, which)
        return replace(split, images=getattr(self, which))


def _data_fingerprint(data: Dataset, digest: hashlib._Hash) -> None:
    folder = Path(data.name)
    if folder.is_dir():
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            for name in sorted(files):
                path = Path(root) / name
                try:
                    info = path.stat()
                except OSError:
                    continue
                rel = path.relative_to(folder).as_posix()
                digest.update(f"{rel}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
        return
    for which in SPLITS:  # a bundled or downloaded dataset: its contents
        digest.update(getattr(data, which).images.contiguous().numpy().tobytes())


def cache_key(model: ConvScopeNet, spec: ModelSpec, cut: int, data: Dataset,
              prepare: BatchPreparer) -> str:
    """SHA-256 of everything the cut's output depends on (see the module doc)."""
    digest = hashlib.sha256(FORMAT.encode())
    prefix = spec.layers[:cut + 1]
    digest.update(json.dumps({"input": list(spec.input_shape), "dtype": spec.input_dtype,
                              "layers": [layer.to_dict() for layer in prefix]},
                             sort_keys=True).encode())
    names = {layer.name for layer in prefix}
    state = model.layers.state_dict()
    for key in sorted(state):
        if key.split(".")[0] in names:
            tensor = state[key].detach().cpu().contiguous()
            digest.update(f"{key}{tuple(tensor.shape)}{tensor.dtype}".encode())
            digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    digest.update(data.name.encode())
    _data_fingerprint(data, digest)
    for which in SPLITS:
        digest.update(getattr(data, which).labels.contiguous().numpy().tobytes())
    transforms = {"size": list(prepare.size), "channels": prepare.channels,
                  "mean": [round(float(v), 7) for v in prepare.mean],
                  "std": [round(float(v), 7) for v in prepare.std]}
    digest.update(json.dumps(transforms, sort_keys=True).encode())
    return digest.hexdigest()


def _read(path: Path, key: str, expected: dict[str, tuple[int, ...]]
          ) -> tuple[dict[str, torch.Tensor] | None, str]:
    """The cached tensors when the file is whole and matches; else None and why (or "")."""
    if not path.is_file():
        return None, ""
    try:
        with safe_open(str(path), framework="pt") as handle:
            meta = handle.metadata() or {}
            if meta.get("format") != FORMAT or meta.get("key") != key:
                return None, f"{path.name} is not the cache it is named for; computed again"
            tensors = {name: handle.get_tensor(name) for name in SPLITS}
    except (SafetensorError, OSError, ValueError, KeyError, RuntimeError) as exc:
        return None, (f"the cached features {path.name} could not be read "
                      f"({str(exc).splitlines()[0][:80] or type(exc).__name__}); computed again")
    for name, shape in expected.items():
        tensor = tensors[name]
        if tuple(tensor.shape) != shape or tensor.dtype != torch.float32:
            return None, f"the cached features {path.name} have the wrong size; computed again"
    return tensors, ""


def features(model: ConvScopeNet, spec: ModelSpec, analysis: ModelAnalysis, cut: int,
             data: Dataset, prepare: BatchPreparer, device: torch.device,
             control: TrainingControl, chunk: int, folder: Path | None = None,
             ) -> Generator[Event, None, tuple[CachedFeatures | None, str]]:
    """Read the cut's output for every split from the cache, or compute it (yielding Caching
    progress, Paused / Resumed; pause and stop act between layers) and write it.

    Returns (features, note); features None when stopped before they were complete.
    """
    folder = folder or cache_folder()
    name = spec.layers[cut].name
    shape = analysis.layers[cut].output_shape
    sizes = {which: len(getattr(data, which)) for which in SPLITS}
    total = sum(sizes.values())
    key = cache_key(model, spec, cut, data, prepare)
    path = folder / f"{key[:40]}.safetensors"
    started = time.perf_counter()
    tensors, problem = _read(path, key, {w: (n, *shape) for w, n in sizes.items()})
    if tensors is not None:
        note = f"features of {name} read from the cache ({path})"
        yield Caching(total, total, time.perf_counter() - started, note)
        return CachedFeatures(name, tensors["train"], tensors["val"], tensors["test"], path,
                              True), note
    prefix = PrefixOnly(model, name)
    if device.type == "cpu":  # the largest layer of a chunk near a second at most
        largest = max(info.macs for info in analysis.layers[:cut + 1])
        chunk = max(chunk, min(64, CHUNK_MACS // max(largest, 1)))
    computed: dict[str, torch.Tensor] = {}
    done = 0
    was_training = model.training
    model.eval()
    try:
        for which in SPLITS:
            split, fitted = prepare.fit_split(getattr(data, which))
            parts: list[torch.Tensor] = []
            start = 0
            while start < len(split):
                if control.paused and not control.stop_requested:
                    yield Paused(0, done, "caching features")
                    while control.paused and not control.stop_requested:
                        control.wait_while_paused(0.1)
                    yield Resumed(0, done, "caching features")
                if control.stop_requested:
                    return None, "stopped while computing the features: nothing was cached"
                try:
                    with torch.no_grad(), interruptible(prefix, control):
                        x = prepare(split.images[start:start + chunk], device=device,
                                    fitted=fitted)
                        out = prefix(x)
                except Interrupted:
                    continue
                parts.append(out.float().cpu())
                start += len(out)
                done += len(out)
                yield Caching(done, total, time.perf_counter() - started)
            computed[which] = (torch.cat(parts) if parts
                               else torch.zeros((0, *shape), dtype=torch.float32))
    finally:
        model.train(was_training)
    seconds = time.perf_counter() - started
    note = f"features of {name} computed for {total:,} images in {seconds:.1f} s"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        contiguous = {w: t.contiguous() for w, t in computed.items()}
        write_atomic(path, lambda tmp: save_file(
            contiguous, str(tmp), metadata={"format": FORMAT, "key": key, "cut": name}))
        note += f" and cached in {path}"
    except (OSError, SafetensorError, RuntimeError) as exc:
        note += f"; they could not be cached ({getattr(exc, 'strerror', None) or exc}), so " \
                "the next run computes them again"
    if problem:
        note = f"{problem}; {note}"
    yield Caching(total, total, seconds, note)
    return CachedFeatures(name, computed["train"], computed["val"], computed["test"], path,
                          False), note


class PrefixOnly(nn.Module):
    """The layers up to and including the cut; its output is what gets cached."""

    def __init__(self, model: ConvScopeNet, cut: str) -> None:
        super().__init__()
        self.model = model
        names = list(model.layers)
        self.upto = names[:names.index(cut) + 1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = {INPUT: x}
        out = x
        for name in self.upto:
            module = self.model.layers[name]
            out = module(*(outputs[s] for s in self.model.sources[name]))
            for source in self.model._release.get(name, ()):
                outputs.pop(source, None)
            outputs[name] = out
        return out


def feature_bytes(analysis: ModelAnalysis, cut: int, data: Dataset) -> int:
    """Bytes the three splits' features take (float32)."""
    images = sum(len(getattr(data, which)) for which in SPLITS)
    return images * math.prod(analysis.layers[cut].output_shape) * 4


def plan(spec: ModelSpec, analysis: ModelAnalysis, data: Dataset) -> tuple[int | None, str]:
    """(the cut, "") when the features can be cached, else (None, why not)."""
    cut = frozen_cut(spec, analysis)
    if cut is None:
        first = spec.layers[0].name if spec.layers else "the model"
        return None, (f"nothing to cache: {first} trains (freeze the backbone first, e.g. "
                      "convscope train --fine-tune)")
    size = feature_bytes(analysis, cut, data)
    if size > MAX_FEATURE_BYTES:
        return None, (f"the output of {spec.layers[cut].name} for {data.name}'s images would "
                      f"take {size / 1e9:.1f} GB (the limit is {MAX_FEATURE_BYTES / 1e9:.1f} GB)")
    return cut, ""
