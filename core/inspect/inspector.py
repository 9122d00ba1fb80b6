"""Looking inside a model: filters, activation maps, predictions, attributions, channel images.

An Inspector holds a built model with its current weights (random, mid-training or a reopened
run) and returns plain numpy arrays; core.inspect.render turns them into PNGs and the GUI draws
them with pyqtgraph. Attributions use captum.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torchvision.transforms.v2 import functional as tf

from core.analysis.model_analysis import ModelAnalysis, analyze_model
from core.build import ConvScopeNet, build_model
from core.data.adapt import BatchPreparer
from core.data.dataset import Dataset
from core.data.errors import DataError
from core.inspect.inputs import ModelInput, fit_clip, fit_image, frame_of
from core.model.catalog import KERNEL_TYPES
from core.model.errors import ModelError
from core.model.spec import ModelSpec
from core.train.checkpoint import load_state
from core.train.run_schema import RunState
from core.weights import load_weights


class TwoClassScores(nn.Module):
    """A single-output (binary) model seen as two class scores, (−z, z), so attributions can be
    asked for either class: z is the logit of class 1 (recovered from a Sigmoid's output)."""

    def __init__(self, model: nn.Module, after_sigmoid: bool) -> None:
        super().__init__()
        self.model = model
        self.after_sigmoid = after_sigmoid

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.model(x)[:, :1]
        if self.after_sigmoid:
            z = torch.logit(z.clamp(1e-6, 1 - 1e-6))
        return torch.cat([-z, z], dim=1)


class InspectError(ValueError):
    """A view cannot be made (wrong layer, no kernels…); the message lists valid choices."""


@dataclass(frozen=True)
class FilterGrid:
    """Kernels to draw: (N, 3, kh, kw) in colour, or (N, 1, kh, kw) for one input channel."""

    kernels: np.ndarray
    color: bool
    vmin: float
    vmax: float
    layer: str
    in_channel: int | None
    in_channels: int
    depth: int = 1
    """Frames a Conv3d kernel spans (1 for 2-D and 1-D kernels)."""
    frame: int | None = None
    """Which of a Conv3d kernel's frames ``kernels`` shows (None for 2-D and 1-D kernels)."""
    titles: tuple[str, ...] = ()
    """One per kernel (a Linear template's class name), else none: the index is shown."""


def filter_grid(weights: np.ndarray, layer: str, in_channel: int | None = None,
                frame: int | None = None, titles: tuple[str, ...] = ()) -> FilterGrid:
    """Kernels (out, in, …) as a grid: colour for 3 input channels unless one is chosen,
    one symmetric colour scale (over all of a Conv3d kernel's frames, so frames compare).
    ``frame``: which frame of a Conv3d kernel (default the middle one). Also used for live and
    replayed snapshots of training."""
    weight = np.asarray(weights, dtype=np.float32)
    depth, shown, whole = 1, None, weight
    if weight.ndim == 3:  # Conv1d: kernels as 1-pixel-high images
        weight = weight[:, :, None, :]
    elif weight.ndim == 5:  # Conv3d: one frame of each kernel
        depth = weight.shape[2]
        shown = depth // 2 if frame is None else frame
        if not 0 <= shown < depth:
            raise InspectError(f"frame {shown} does not exist: the kernels of {layer} span "
                               f"{depth} frames (0 to {depth - 1})")
        weight = weight[:, :, shown]
    in_channels = weight.shape[1]
    color = in_channels == 3 and in_channel is None
    if not color:
        channel = 0 if in_channel is None else in_channel
        if not 0 <= channel < in_channels:
            raise InspectError(f"input channel {channel} does not exist: {layer} has "
                               f"{in_channels} (0 to {in_channels - 1})")
        weight = weight[:, channel:channel + 1]
        in_channel = channel
    scaled = weight  # a Conv3d's scale spans all its frames
    if shown is not None:
        scaled = whole if color else whole[:, in_channel or 0:(in_channel or 0) + 1]
    limit = float(np.abs(scaled).max()) if scaled.size else 0.0
    limit = limit or 1.0
    return FilterGrid(weight, color, -limit, limit, layer, in_channel, in_channels, depth, shown,
                      titles)


@dataclass(frozen=True)
class Prediction:
    label: str
    index: int
    probability: float


_BUILD_LOCK = threading.Lock()


class Inspector:
    def __init__(self, spec: ModelSpec, weights: Path | None = None,
                 state: RunState | None = None, seed: int = 0, force: bool = False,
                 attribution: bool = True) -> None:
        """The model built (with ``weights``) for looking inside; MemoryRefused, before
        anything is allocated, when it would not fit in memory (``force``: try anyway;
        ``attribution``: count the backward pass Grad-CAM, saliency and occlusion need)."""
        self.spec = spec
        self.analysis: ModelAnalysis = analyze_model(spec)
        self.analysis.raise_error()
        if not force:
            from core.train.preflight import check_room, inspection_memory

            need = inspection_memory(spec, attribution=attribution, analysis=self.analysis)
            check_room(need.total, f"looking inside {spec.name}")
        # One build at a time, waited for on a Python lock (which lets go of the GIL). Two
        # workers building at once (the Inspect and Classroom tabs) met in torch's generator:
        # one filled a 10^9-weight layer holding its mutex, the other waited for it in
        # manual_seed holding the GIL, and the window froze for 5.7 s.
        with _BUILD_LOCK:
            torch.manual_seed(seed)
            self.model: ConvScopeNet = build_model(spec, self.analysis).eval()
        self.state = state
        if weights is not None:
            report = load_weights(self.model, weights)
            if not report.loaded:
                raise ModelError(f"{weights}: none of its tensors fit this model "
                                 f"({report.describe()})")
            self.weights_note = f"weights: {weights.name}"
            if report.shape_mismatch or report.not_in_file:
                self.weights_note += f" (partly: {report.describe()})"
        else:
            self.weights_note = "random initial weights (untrained)"
        self.classes = list(state.classes) if state else self._default_classes()

    @classmethod
    def from_paths(cls, model: Path, weights: Path | None, force: bool = False,
                   attribution: bool = True) -> Inspector:
        from core.model.spec import load_model

        state = None
        if weights is not None:
            if weights.is_dir():
                from core.train.checkpoint import open_run

                run = open_run(weights)
                weights, state = run.weights, run.state
            elif (weights.parent / "training.json").exists():
                state = load_state(weights.parent)
        return cls(load_model(model), weights, state, force=force, attribution=attribution)

    def _default_classes(self) -> list[str]:
        """The model file's class names when they name its outputs, else the indices."""
        from core.model.labels import classes_fit

        out = self.analysis.output_shape
        if self.spec.classes and classes_fit(self.spec.classes, out, self.spec.task) is None:
            return list(self.spec.classes)
        n = out[0] if out and len(out) == 1 else 0
        return [str(i) for i in range(2 if n == 1 else n)]

    @contextmanager
    def watch(self, check: Callable[[], object]) -> Iterator[None]:
        """Call ``check()`` before every layer runs while inside the block: a caller on another
        thread can stop any forward (or backward) pass between layers by raising from it."""
        hooks = [module.register_forward_pre_hook(lambda _m, _i: check())
                 for module in self.model.layers.values()]
        try:
            yield
        finally:
            for hook in hooks:
                hook.remove()

    # -- layers -----------------------------------------------------------------------------
    def layer_names(self) -> list[str]:
        return [layer.name for layer in self.spec.layers]

    def kernel_layers(self) -> list[str]:
        return [layer.name for layer in self.spec.layers if layer.type in KERNEL_TYPES]

    def _check_layer(self, name: str, choices: list[str], what: str) -> None:
        if name not in choices:
            listed = ", ".join(choices) if choices else "none in this model"
            raise InspectError(f'"{name}" is not {what}; choose one of: {listed}')

    # -- filters ----------------------------------------------------------------------------
    def template_layers(self) -> list[str]:
        """Linear layers reading the image: their weights drawn as one image per unit."""
        from core.inspect.templates import template_layers

        return template_layers(self.analysis)

    def filters(self, layer: str, in_channel: int | None = None, frame: int | None = None
                ) -> FilterGrid:
        """A convolution's kernels, or a Linear's templates (one image of the input per output
        unit, titled with the class names): in colour for RGB input, else one input channel
        at a time; a Conv3d's one frame at a time (``frame``, default the middle one)."""
        templates = self.template_layers()
        choices = self.kernel_layers() + templates
        if layer not in choices:
            listed = ", ".join(choices) if choices else "none in this model"
            raise InspectError(f'"{layer}" is neither a layer with kernels (a convolution) nor '
                               f"a Linear that reads the image (directly or after Flatten); "
                               f"choose one of: {listed}")
        module = self.model.layers[layer]
        if layer in templates:
            from core.inspect.templates import template_shape

            shape = template_shape(self.analysis, layer)
            assert isinstance(module, nn.Linear) and shape is not None
            matrix = module.weight.detach().cpu().float().numpy()
            titles = tuple(self.classes) if len(self.classes) == matrix.shape[0] else ()
            return filter_grid(matrix.reshape(matrix.shape[0], *shape), layer, in_channel,
                               titles=titles)
        assert isinstance(module, nn.modules.conv._ConvNd)
        weight = module.weight.detach().cpu().float()
        if isinstance(module, nn.ConvTranspose2d):
            weight = weight.transpose(0, 1)  # (out, in, kh, kw) like a convolution
        return filter_grid(weight.numpy(), layer, in_channel, frame)

    # -- activations ------------------------------------------------------------------------
    def _statistics(self) -> tuple[list[float] | None, list[float] | None]:
        """The run's recorded mean/std, else the model file's normalisation (an imported
        pretrained model), else none."""
        if self.state:
            return list(self.state.mean), list(self.state.std)
        if self.spec.normalization is not None:
            return self.spec.normalization.for_unit_range()
        return None, None

    def prepare(self, image: torch.Tensor, source: str) -> ModelInput:
        """An image (C, H, W), or a clip (C, T, H, W) for a video model, as the model's input."""
        mean, std = self._statistics()
        if image.dim() == 4 and len(self.spec.input_shape) == 4:
            return fit_clip(image, self.spec.input_shape, mean, std, source)
        if image.dim() == 4:  # a clip for a 2-D model: its middle frame, as training gives it
            from core.data.frames import middle_frames

            image = middle_frames(image)
            source += " (its middle frame)"
        return fit_image(image, self.spec.input_shape, mean, std, source)

    def activations(self, inp: ModelInput) -> dict[str, torch.Tensor]:
        """Every layer's output for one input (batch dimension removed)."""
        with torch.no_grad():
            outputs = self.model.forward_all(inp.tensor)
        return {name: value[0] for name, value in outputs.items()}

    def activation(self, layer: str, inp: ModelInput, frame: int | None = None) -> np.ndarray:
        """The layer's output for one input; with ``frame``, a Conv3d layer's (C, T, H, W)
        output at that frame, (C, H, W)."""
        self._check_layer(layer, self.layer_names(), "a layer of this model")
        values = self.activations(inp)[layer].numpy()
        if frame is not None and values.ndim == 4:
            return frame_of(values, frame, layer)[0]
        return values

    # -- predictions ------------------------------------------------------------------------
    def preparer(self, data: Dataset) -> BatchPreparer:
        """Dataset batches as this model's inputs, normalised as its training run recorded."""
        mean, std = self._statistics()
        return BatchPreparer(data, self.spec.input_shape,
                             mean=torch.tensor(mean) if mean is not None else None,
                             std=torch.tensor(std) if std is not None else None)

    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """(N, classes) probabilities, whatever the model's last layer."""
        with torch.no_grad():
            out = self.model(x)
        if out.dim() != 2:
            raise InspectError("predictions need a classifier: the model's output is "
                               f"{'×'.join(map(str, out.shape[1:]))}, not one score per class")
        last = self.spec.layers[-1].type
        if out.shape[1] == 1:
            p = out[:, 0] if last == "Sigmoid" else torch.sigmoid(out[:, 0])
            return torch.stack([1 - p, p], dim=1)
        return out if last == "Softmax" else torch.softmax(out, dim=1)

    def top_k(self, inp: ModelInput, k: int = 5) -> list[Prediction]:
        probs = self.probabilities(inp.tensor)[0]
        values, indices = probs.topk(min(k, probs.numel()))
        return [Prediction(self._label(int(i)), int(i), float(v))
                for v, i in zip(values, indices, strict=True)]

    def _label(self, index: int) -> str:
        return self.classes[index] if index < len(self.classes) else str(index)

    def target_for(self, inp: ModelInput, target: int | None) -> int:
        """The class to explain: given, or the predicted one."""
        out = self.analysis.output_shape
        n = out[0] if out and len(out) == 1 else 0
        classes = 2 if n == 1 else n
        if target is not None:
            if not 0 <= target < classes:
                raise InspectError(f"class {target} does not exist: the model scores {classes} "
                                   f"classes (0 to {classes - 1})")
            return target
        return int(self.probabilities(inp.tensor)[0].argmax())

    def scorer(self) -> nn.Module:
        """What attributions differentiate: the model, or for one output its two-class view."""
        out = self.analysis.output_shape
        if out is not None and len(out) == 1 and out[0] == 1:
            return TwoClassScores(self.model, self.spec.layers[-1].type == "Sigmoid").eval()
        return self.model

    # -- attributions (captum) ----------------------------------------------------------------
    def spatial_layers(self) -> list[str]:
        """Layers whose output is still a 2-D map (what Grad-CAM can weigh)."""
        return [info.name for info in self.analysis.layers
                if len(info.output_shape) == 3 and info.output_shape[1] * info.output_shape[2] > 1]

    def gradcam_layer(self, inp: ModelInput | None = None, target: int | None = None) -> str:
        """Grad-CAM's automatic layer: the last spatial layer whose gradients (of the target's
        score, for this input) are not all zero and whose map is not empty. Without an input:
        the last spatial layer.

        The plain "last spatial layer" often gives an empty map: nothing flows back to it, or
        its gradient-weighted channels sum to less than zero everywhere (a trained keras-mnist's
        last pooled map, for most digits)."""
        spatial = self.spatial_layers()
        if not spatial:
            raise InspectError("Grad-CAM needs a layer with 2-D feature maps; this model has "
                               "none")
        if inp is None:
            return spatial[-1]
        cls = self.target_for(inp, target)
        outputs: dict[str, torch.Tensor] = {}
        hooks = [self.model.layers[name].register_forward_hook(
            lambda _m, _i, out, name=name: outputs.__setitem__(name, out)) for name in spatial]
        try:
            score = self.scorer()(inp.tensor.clone().requires_grad_(True))[0, cls]
        finally:
            for hook in hooks:
                hook.remove()
        names = [n for n in spatial if n in outputs and outputs[n].requires_grad]
        if not names:
            return spatial[-1]
        grads = torch.autograd.grad(score, [outputs[n] for n in names], allow_unused=True)
        for name, grad in reversed(list(zip(names, grads, strict=True))):
            if grad is None or not bool(grad.abs().sum() > 0):
                continue
            weights = grad[0].mean(dim=(1, 2), keepdim=True)  # Grad-CAM's channel weights
            cam = (weights * outputs[name][0].detach()).sum(0).clamp_min(0)
            if bool(cam.sum() > 0):
                return name
        return spatial[-1]

    def gradcam(self, inp: ModelInput, target: int | None = None,
                layer: str | None = None) -> tuple[np.ndarray, int, str]:
        """(heat map at the input's size in 0..1, target class, layer used); without a layer,
        the automatic one (``gradcam_layer``)."""
        from captum.attr import LayerAttribution, LayerGradCam

        layer = layer or self.gradcam_layer(inp, target)
        self._check_layer(layer, self.layer_names(), "a layer of this model")
        cls = self.target_for(inp, target)
        cam = LayerGradCam(self.scorer(), self.model.layers[layer])
        x = inp.tensor.clone().requires_grad_(True)
        attribution = cam.attribute(x, target=cls, relu_attributions=True)
        if attribution.dim() != 4:
            raise InspectError(f"{layer} has no 2-D feature maps; choose a convolution or "
                               f"pooling layer such as {self.spatial_layers()[-1]}")
        up = LayerAttribution.interpolate(attribution, tuple(x.shape[2:]), "bilinear")
        heat = up[0].mean(0).detach()
        heat = heat.clamp_min(0)
        top = float(heat.max())
        return (heat / top if top > 0 else heat).numpy(), cls, layer

    def saliency(self, inp: ModelInput, target: int | None = None) -> tuple[np.ndarray, int]:
        from captum.attr import Saliency

        cls = self.target_for(inp, target)
        grads = Saliency(self.scorer()).attribute(inp.tensor.clone().requires_grad_(True),
                                               target=cls, abs=True)
        heat = grads[0].max(0).values.detach()
        top = float(heat.max())
        return (heat / top if top > 0 else heat).numpy(), cls

    def occlusion(self, inp: ModelInput, target: int | None = None,
                  window: int | None = None,
                  progress: Callable[[int, int], object] | None = None
                  ) -> tuple[np.ndarray, int]:
        """How much the target's score drops when each region is greyed out.
        ``progress(done, total)`` hears of every batch of occluded images."""
        from captum.attr import Occlusion

        cls = self.target_for(inp, target)
        c, h, w = self.spec.input_shape
        size = window or max(1, min(h, w) // 8)
        stride = max(1, size // 2)
        total = 1 + ((h - size) // stride + 1) * ((w - size) // stride + 1)
        scorer = self.scorer()
        seen = [0]

        def forward(x: torch.Tensor) -> torch.Tensor:
            seen[0] += x.shape[0]
            if progress is not None:
                progress(min(seen[0], total), total)
            return scorer(x)  # type: ignore[no-any-return]

        attr = Occlusion(forward).attribute(
            inp.tensor, target=cls, sliding_window_shapes=(c, size, size),
            strides=(c, stride, stride), baselines=0.0, perturbations_per_eval=8)
        heat = attr[0].mean(0).detach().clamp_min(0)
        top = float(heat.max())
        return (heat / top if top > 0 else heat).numpy(), cls

    # -- what a channel looks for -------------------------------------------------------------
    def maximize(self, layer: str, channel: int, steps: int = 96, lr: float = 0.05,
                 progress: Callable[[int, int], bool] | None = None,
                 seed: int = 0) -> np.ndarray:
        """Activation maximisation: gradient ascent on the input from noise, with jitter and
        blur as regularisers (the "deep dream" idea). ``progress(step, steps)`` returning False
        cancels. Returns the image as float (C, H, W) in 0..1."""
        self._check_layer(layer, self.layer_names(), "a layer of this model")
        info = self.analysis.get(layer)
        assert info is not None
        if not 0 <= channel < info.output_shape[0]:
            raise InspectError(f"channel {channel} does not exist: {layer} has "
                               f"{info.output_shape[0]} (0 to {info.output_shape[0] - 1})")
        generator = torch.Generator().manual_seed(seed)
        x = (torch.randn(1, *self.spec.input_shape, generator=generator) * 0.1)
        x.requires_grad_(True)
        optimizer = torch.optim.Adam([x], lr=lr)
        captured: dict[str, torch.Tensor] = {}
        hook = self.model.layers[layer].register_forward_hook(
            lambda _m, _i, out: captured.__setitem__("out", out))
        spatial = len(self.spec.input_shape) == 3
        jitter = max(1, self.spec.input_shape[-1] // 16) if spatial else 0
        cancelled = False
        try:
            for step in range(steps):
                if progress is not None and progress(step, steps) is False:
                    cancelled = True
                    break
                shift = [int(v) for v in torch.randint(-jitter, jitter + 1, (2,),
                                                       generator=generator)] if jitter else [0, 0]
                shifted = torch.roll(x, shifts=shift, dims=(2, 3)) if spatial else x
                self.model(shifted)
                out = captured["out"][0, channel]
                loss = -out.mean() + 1e-3 * (x ** 2).mean()
                optimizer.zero_grad()
                loss.backward()  # type: ignore[no-untyped-call]
                optimizer.step()
                if spatial and step % 8 == 7 and min(self.spec.input_shape[1:]) >= 5:
                    with torch.no_grad():
                        x.copy_(tf.gaussian_blur(x, [3, 3], [0.5, 0.5]))
        finally:
            hook.remove()
        image = x.detach()[0]
        image = (image - image.min()) / (image.max() - image.min()).clamp_min(1e-8)
        if progress is not None and not cancelled:
            progress(steps, steps)
        return image.numpy()


def confusion(inspector: Inspector, images: torch.Tensor, labels: torch.Tensor,
              prepare: Callable[[torch.Tensor], torch.Tensor], batch: int = 128,
              progress: Callable[[int, int], object] | None = None
              ) -> tuple[np.ndarray, dict[tuple[int, int], list[int]]]:
    """Confusion matrix (rows: true class, columns: predicted) and the sample indices in each
    off-diagonal cell, so a view can open the misclassified examples. The split goes through
    the model in batches (only each batch's predictions are kept); ``progress(done, total)``
    hears of each batch."""
    from sklearn.metrics import confusion_matrix

    predicted = []
    for start in range(0, len(labels), batch):
        x = prepare(images[start:start + batch])
        predicted.append(inspector.probabilities(x).argmax(1))
        if progress is not None:
            progress(min(start + batch, len(labels)), len(labels))
    pred = torch.cat(predicted).numpy() if predicted else np.zeros(0, dtype=np.int64)
    truth = labels.numpy()
    n = len(inspector.classes)
    matrix = confusion_matrix(truth, pred, labels=list(range(n)))
    cells: dict[tuple[int, int], list[int]] = {}
    for index, (t, p) in enumerate(zip(truth, pred, strict=True)):
        if t != p:
            cells.setdefault((int(t), int(p)), []).append(index)
    return matrix, cells


def image_for(inspector: Inspector, source: str) -> ModelInput:
    """An input by name: a sample photo, an image file, or 'digits:N' (a test-split digit)."""
    from core.inspect.inputs import SAMPLE_PHOTOS, read_image, sample_photo

    if source.lower().startswith("moving-digits:"):
        return inspector.prepare(*_moving_digit(inspector, source))
    if len(inspector.spec.input_shape) == 4 and source not in SAMPLE_PHOTOS and \
            not source.startswith("digits:"):
        from core.data.clips import read_clip

        shape = tuple(inspector.spec.input_shape)
        channels = shape[0] if shape[0] in (1, 3) else 3
        clip, count = read_clip(Path(source), shape[1], (shape[2], shape[3]), channels)
        sampled = f", sampled evenly to {shape[1]}" if count != shape[1] else ""
        return inspector.prepare(clip, f"{Path(source).name} ({count} frames{sampled}, "
                                       f"resized to {shape[3]} × {shape[2]})")
    if source in SAMPLE_PHOTOS:
        image, text = sample_photo(source)
    elif source.startswith("digits:"):
        from core.data.datasets import load_digits_dataset

        data = load_digits_dataset()
        try:
            index = int(source.split(":", 1)[1])
            if not 0 <= index < len(data.test):
                raise IndexError(index)
            image = data.test.images[index]
        except (ValueError, IndexError):
            raise DataError(f"{source}: use digits:N with N from 0 to {len(data.test) - 1}"
                            ) from None
        text = f"digits test image {index} (label {int(data.test.labels[index])})"
    else:
        shape = inspector.spec.input_shape
        image, text = read_image(Path(source), (shape[-2], shape[-1]) if len(shape) == 3 else None)
    return inspector.prepare(image, text)


def _moving_digit(inspector: Inspector, source: str) -> tuple[torch.Tensor, str]:
    """``moving-digits:N``: test clip N of the bundled moving digits at the model's shape."""
    from core.data.datasets import load_dataset

    data = load_dataset("moving-digits", inspector.spec.input_shape)
    try:
        index = int(source.split(":", 1)[1])
        if not 0 <= index < len(data.test):
            raise IndexError(index)
    except (ValueError, IndexError):
        raise DataError(f"{source}: use moving-digits:N with N from 0 to {len(data.test) - 1}"
                        ) from None
    label = data.classes[int(data.test.labels[index])]
    return data.test.images[index], f"moving-digits test clip {index} (moving {label})"
