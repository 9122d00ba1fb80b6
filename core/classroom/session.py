"""A step-through session: a model with its weights, one input, and every layer's input captured.

The layer stepped through receives what the layers before it output for this input (one forward
pass, captured by name with ``ConvScopeNet.forward_all``), so the numbers are those of the model
the class built, with its trained, untrained or lesson weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from core.classroom.backward import GRAD_TYPES
from core.classroom.step import STEP_3D_TYPES, STEP_TYPES, Step, StepError, step_at
from core.inspect.inspector import Inspector
from core.model.spec import INPUT, ModelSpec


class StepSession:
    """One model, its weights and one input; ``step(layer, position)`` gives the arithmetic."""

    def __init__(self, inspector: Inspector, x: torch.Tensor | None = None,
                 source: str = "") -> None:
        self.inspector = inspector
        self.spec: ModelSpec = inspector.spec
        self.weights_note = inspector.weights_note
        self._outputs: dict[str, torch.Tensor] = {}
        if x is None:
            generator = torch.Generator().manual_seed(0)
            x = torch.randn(*self.spec.input_shape, generator=generator)
            source = "random normal input (seed 0)"
        self.set_input(x, source)

    @classmethod
    def from_paths(cls, model: Path, weights: Path | None = None) -> StepSession:
        return cls(Inspector.from_paths(model, weights))

    def set_input(self, x: torch.Tensor, source: str) -> None:
        """Use ``x`` (the model's input shape, batch excluded) exactly as given."""
        x = x.detach().float().cpu()
        if tuple(x.shape) != tuple(self.spec.input_shape):
            raise StepError(f"the input is {'×'.join(map(str, x.shape))} but {self.spec.name} "
                            f"takes {'×'.join(map(str, self.spec.input_shape))} "
                            "(channels, height, width)")
        self.input = x
        self.source = source
        with torch.no_grad():
            outputs = self.inspector.model.forward_all(x[None])
        self._outputs = {INPUT: x, **{k: v[0] for k, v in outputs.items()}}

    def layers(self) -> list[str]:
        """The layers whose arithmetic can be stepped through, in model order (a Conv3d's at
        one output frame at a time)."""
        return [layer.name for layer in self.spec.layers
                if layer.type in STEP_TYPES or layer.type in STEP_3D_TYPES]

    def classes(self) -> int:
        """How many classes a backward step's target can name (2 for a single output)."""
        shape = self._outputs[self.spec.layers[-1].name].shape
        count = int(shape[0]) if len(shape) else 1
        return 2 if count == 1 else count

    def predicted(self) -> int:
        """The class the model scores highest for this input (for a single output: 0 or 1)."""
        out = self._outputs[self.spec.layers[-1].name]
        if out.dim() == 0 or out.shape[0] == 1:
            return int(float(out.reshape(-1)[0]) > (0.5 if self.spec.layers[-1].type ==
                                                     "Sigmoid" else 0.0))
        return int(out.reshape(out.shape[0], -1).mean(dim=1).argmax())

    def gradient_layers(self) -> list[str]:
        """The layers whose backward step can be shown (convolutions and Linear)."""
        return [layer.name for layer in self.spec.layers if layer.type in GRAD_TYPES]

    def _check(self, layer: str) -> None:
        video = [name.name for name in self.spec.layers if name.type in STEP_3D_TYPES]
        if layer not in self.layers() and layer not in self.gradient_layers() and \
                layer not in video:
            listed = ", ".join(self.layers()) or "none in this model"
            raise StepError(f'"{layer}" cannot be stepped through; choose one of: {listed}')

    def layer_input(self, layer: str) -> torch.Tensor:
        self._check(layer)
        source = self.spec.inputs_of(self.spec.index(layer))[0]
        return self._outputs[source]

    def output(self, layer: str) -> torch.Tensor:
        self._check(layer)
        return self._outputs[layer]

    def module(self, layer: str) -> torch.nn.Module:
        self._check(layer)
        return self.inspector.model.layers[layer]

    def step(self, layer: str, position: tuple[int, ...]) -> Step:
        return step_at(layer, self.module(layer), self.layer_input(layer), position,
                       tuple(self.output(layer).shape))


def read_array(path: Path) -> np.ndarray:
    """An input array from a .npy file or a text file, exactly as written.

    Text: rows of numbers separated by spaces, commas or tabs; channels separated by a blank
    line. One channel of rows is (1, H, W); a single row is (1, 1, W)."""
    if not path.exists():
        raise StepError(f"{path}: no such file")
    if path.is_dir():
        raise StepError(f"{path}: is a folder, not an array file")
    if path.suffix.lower() == ".npy":
        array = _read_npy(path)
        if array.dtype.kind not in "biuf":
            raise StepError(f"{path}: holds {array.dtype} values; give numbers")
        result: np.ndarray = array.astype(np.float64)
        if not np.isfinite(result).all():
            raise StepError(f"{path}: holds a NaN or infinite value")
        return result
    from core.regular_files import read_regular_text

    try:
        text = read_regular_text(path, ARRAY_LIMIT, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise StepError(f"{path}: cannot be read ({exc})") from None
    channels: list[list[list[float]]] = [[]]
    for number, line in enumerate(text.splitlines(), 1):
        words = line.replace(",", " ").split()
        if not words:
            if channels[-1]:
                channels.append([])
            continue
        try:
            channels[-1].append([float(w) for w in words])
        except ValueError:
            raise StepError(f"{path}, line {number}: {line.strip()[:40]!r} is not a row of "
                            "numbers") from None
    channels = [c for c in channels if c]
    if not channels:
        raise StepError(f"{path}: holds no numbers")
    width = len(channels[0][0])
    height = len(channels[0])
    for index, channel in enumerate(channels):
        if len(channel) != height or any(len(row) != width for row in channel):
            raise StepError(f"{path}: channel {index} is not {height} rows of {width} numbers "
                            "like channel 0; every row and channel must have the same size")
    array = np.array(channels, dtype=np.float64)
    if not np.isfinite(array).all():
        raise StepError(f"{path}: holds a NaN or infinite value")
    return array


ARRAY_LIMIT = 256 << 20
"""The largest input array file read (a 3×1024×1024 float64 input is 25 MB)."""


def _read_npy(path: Path) -> np.ndarray:
    """A .npy file, its header checked before any data is read: a regular file, a numeric
    dtype, and a shape whose size is what the file holds and under ARRAY_LIMIT; never pickles."""
    import io
    import math

    from numpy.lib import format as npy

    from core.regular_files import read_regular_bytes

    try:
        raw = read_regular_bytes(path, ARRAY_LIMIT)
    except OSError as exc:
        raise StepError(f"{path}: cannot be read ({exc})") from None
    handle = io.BytesIO(raw)
    try:
        version = npy.read_magic(handle)
        if version not in ((1, 0), (2, 0), (3, 0)):
            raise ValueError(f"format version {version}")
        read_header = (npy.read_array_header_1_0 if version == (1, 0)
                       else npy.read_array_header_2_0)
        shape, _, dtype = read_header(handle)  # a literal, parsed safely
        if dtype.hasobject or dtype.kind not in "biuf":
            raise ValueError(f"it holds {dtype} values; give numbers")
        if any(not isinstance(d, int) or d < 0 for d in shape):
            raise ValueError(f"the shape {shape} is not a shape")
        expected = math.prod(shape) * dtype.itemsize
        if expected != len(raw) - handle.tell():
            raise ValueError(f"its header says {shape} of {dtype} ({expected:,} bytes) but the "
                             f"file holds {len(raw) - handle.tell():,} bytes of data")
        handle.seek(0)
        array = np.load(handle, allow_pickle=False)
    except (ValueError, OSError, EOFError, SyntaxError, TypeError, OverflowError,
            MemoryError) as exc:
        why = str(exc)[:120] or type(exc).__name__
        raise StepError(f"{path}: not a readable .npy array ({why})") from None
    return np.asarray(array)


def array_input(array: np.ndarray, input_shape: tuple[int, ...], path: Path) -> torch.Tensor:
    """The array as the model's input: its shape must match (a missing channel axis is added)."""
    if array.ndim == len(input_shape) - 1 and input_shape[0] == 1:
        array = array[None]
    if array.ndim == 3 and len(input_shape) == 2 and array.shape[1] == 1:
        array = array[:, 0]  # a 1-D input written as one row per channel
    if tuple(array.shape) != tuple(input_shape):
        raise StepError(f"{path}: the array is {'×'.join(map(str, array.shape))} but the model "
                        f"takes {'×'.join(map(str, input_shape))}; it is used exactly as given, "
                        "without resizing")
    return torch.from_numpy(np.ascontiguousarray(array)).float()
