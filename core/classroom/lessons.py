"""The lectures' worked examples as lessons: a small model, its fixed kernels and input, steps.

Each lesson reproduces a passage of the lecture texts exactly (the passages are kept word for
word in ``lecture_quotes.json``, with their file and lines; tests pin every number to them).
A lesson opens in the builder as an ordinary model the class can edit, in the step-through
with its fixed kernels and input, and as slides. Where the lecture's figure is lost (the
``trans_conv`` matrices, the pooling images A, B, C) the lesson says what it uses instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from core.lazy import LazyModule

if TYPE_CHECKING:
    import torch
else:  # imported at first use: the window imports this module at start-up
    torch = LazyModule("torch")

from core.classroom.lesson_base import (
    QUOTES_FILE,
    Lesson,
    LessonStep,
    Quote,
    _model,
    quotes,
)
from core.classroom.lessons_backward import backprop_conv, conv_as_matrix
from core.model.errors import ModelError

__all__ = ["QUOTES_FILE", "Lesson", "LessonStep", "Quote", "find_lesson", "list_lessons",
           "quotes", "shared_kernel_gradients"]

# ---------------------------------------------------------------------------------------------
# The lectures' numbers (the tests read the same numbers off the quotes).

EDGE_IMAGE = [[1, 2, 3, 1, 3, 5], [2, 2, 5, 4, 2, 5], [0, 6, 9, 6, 2, 2],
              [2, 0, 1, 9, 4, 0], [5, 5, 4, 6, 7, 6], [6, 1, 3, 7, 1, 5]]
VERTICAL_EDGE = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]
EDGE_MISPRINTS = {(3, 0): (11, -11), (4, 4): (10, 11)}
"""(row, column) from 0 → (printed in the lecture, computed)."""

RGB_INPUT = [
    [[156, 155, 156, 158, 158, 158], [153, 154, 157, 159, 159, 159],
     [149, 151, 155, 158, 159, 159], [146, 146, 149, 153, 158, 158],
     [145, 143, 143, 148, 158, 158]],
    [[167, 166, 167, 169, 169, 169], [164, 165, 168, 170, 170, 170],
     [160, 162, 166, 169, 170, 170], [156, 156, 159, 163, 168, 168],
     [155, 153, 153, 158, 168, 168]],
    [[163, 162, 163, 165, 165, 165], [160, 161, 164, 166, 166, 166],
     [156, 158, 162, 165, 166, 166], [155, 155, 158, 162, 167, 167],
     [154, 152, 152, 157, 167, 167]],
]
RGB_KERNEL = [[[-1, -1, 1], [0, 1, -1], [0, 1, 1]], [[1, 0, 0], [1, -1, -1], [1, 0, -1]],
              [[0, 1, 1], [0, 1, 0], [1, -1, 1]]]
PADDING_IMAGE = [[165, 95, 215], [222, 144, 199], [255, 172, 83]]
BINARY_IMAGE = [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0],
                [0, 1, 1, 0, 0]]
BINARY_KERNEL = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
TRANS_X = [[0, 1], [2, 3]]
TRANS_K = [[0, 1], [2, 3]]
"""The lecture's figure is lost; these are the matrices of the book example it follows
(Dive into Deep Learning, 14.10), whose result is [[0, 0, 1], [0, 4, 6], [4, 12, 9]]."""
POOL_IMAGE = [[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]


def _shifted_images() -> np.ndarray:
    """Images A, B, C of the translational-invariance slide (the figure is lost): B is A with
    each bright pixel moved inside its own 2×2 window, C moves them into the next window."""
    a = np.zeros((6, 6))
    a[0, 0] = a[2, 2] = a[4, 4] = 9
    a[1, 3] = 5
    b = np.zeros((6, 6))
    b[1, 1] = b[3, 3] = b[5, 5] = 9
    b[0, 2] = 5
    c = np.zeros((6, 6))
    c[0, 2] = c[2, 4] = c[4, 0] = 9
    c[1, 5] = 5
    return np.stack([a, b, c])


def _edge() -> Lesson:
    spec = _model("edge-6x6", [1, 6, 6], [
        {"name": "edge", "type": "Conv2d", "out_channels": 1, "kernel_size": 3, "padding": 1,
         "bias": False}], "The lecture's 6×6 image and 3×3 vertical-edge filter, zero padding 1.")
    (r1, c1), (r2, c2) = EDGE_MISPRINTS
    return Lesson(
        "edge_6x6", "A 3×3 vertical-edge filter on a 6×6 image",
        "The filter [1 0 −1] in every row takes the left column of each window minus its right "
        "column: large where brightness drops from left to right. Zero padding of 1 keeps the "
        "output 6×6. Two cells of the lecture's printed output are misprints: row 4, column 1 "
        "is printed 11 but the window there gives 0 − 6 + 0 − 0 + 0 − 5 = −11, and row 5, "
        "column 5 is printed 10 but gives (9 − 0) + (6 − 6) + (7 − 5) = 11. ConvScope shows the "
        "computed values; step to those two cells to check them with the class.",
        ("edge_6x6",), spec,
        (LessonStep("The top-left output", "The 3×3 window covers padding (zeros) on two "
                    "sides: 1·0 + 0·0 − 1·0 + 1·0 + 0·1 − 1·2 + 1·0 + 0·2 − 1·2 = −4.",
                    "edge", (0, 0, 0)),
         LessonStep("Misprint 1: row 4, column 1",
                    "The lecture prints 11; the arithmetic gives −11 (the left column is "
                    "padding, the right column is 6, 0, 5). Counting from 0 this is row 3, "
                    "column 0.", "edge", (0, r1, c1)),
         LessonStep("Misprint 2: row 5, column 5",
                    "The lecture prints 10; the arithmetic gives (9 − 0) + (6 − 6) + (7 − 5) = "
                    "11. Counting from 0: row 4, column 4.", "edge", (0, r2, c2)),
         LessonStep("The whole 6×6 output", "Play the step-through to sweep the window over "
                    "all 36 positions; change the padding to 0 and the output becomes 4×4.",
                    "edge", (0, 5, 5))),
        {"edge.weight": np.array(VERTICAL_EDGE, dtype=np.float64)[None, None]},
        np.array(EDGE_IMAGE, dtype=np.float64)[None])


def _padding() -> Lesson:
    layers = [{"name": "zero_pad", "type": "Conv2d", "out_channels": 1, "kernel_size": 3,
               "padding": 1, "bias": False},
              {"name": "replicate_pad", "type": "Conv2d", "out_channels": 1, "kernel_size": 3,
               "padding": 1, "bias": False, "padding_mode": "replicate", "inputs": ["input"]}]
    spec = _model("padding-modes", [1, 3, 3], layers,
                  "Zero padding and replication padding of the lecture's 3×3 corner.")
    centre = np.zeros((1, 1, 3, 3))
    centre[0, 0, 1, 1] = 1  # passes the centre pixel through: the padded corner is visible
    return Lesson(
        "padding_modes", "Zero padding and replication padding",
        "Padding adds a border so the output keeps the input's size. Zero padding fills it "
        "with 0; replication padding copies the nearest edge pixel (165 in the corner). "
        "The step-through marks padding cells and shows the value each mode gives them; "
        "try reflect and circular too.", ("padding_modes",), spec,
        (LessonStep("Zero padding", "The window at the corner reads 0 in the padding.",
                    "zero_pad", (0, 0, 0)),
         LessonStep("Replication padding", "The same window reads copies of the edge: "
                    "165 165 95 / 165 165 95 / 222 222 144.", "replicate_pad", (0, 0, 0))),
        {"zero_pad.weight": centre, "replicate_pad.weight": centre},
        np.array(PADDING_IMAGE, dtype=np.float64)[None])


def _rgb() -> Lesson:
    spec = _model("rgb-kernel", [3, 5, 6], [
        {"name": "conv", "type": "Conv2d", "out_channels": 1, "kernel_size": 3, "padding": 1}],
        "The lecture's RGB example: a 3×3×3 kernel and a bias of 1.")
    return Lesson(
        "rgb_minus_25", "One filter on a colour image: 308 − 498 + 164 + 1 = −25",
        "A filter on an RGB image has one 3×3 kernel channel per colour channel. Each channel's "
        "products are summed (308 for red, −498 for green, 164 for blue), the three sums are "
        "added and the bias (1) is added: −25, one number of the output map.",
        ("rgb",), spec,
        (LessonStep("Red, green and blue sums", "Each kernel channel meets its own input "
                    "channel; padding cells are 0.", "conv", (0, 0, 0)),
         LessonStep("The next position", "Slide one pixel right: the same 27 weights and the "
                    "bias, new inputs.", "conv", (0, 0, 1))),
        {"conv.weight": np.array(RGB_KERNEL, dtype=np.float64)[None],
         "conv.bias": np.array([1.0])},
        np.array(RGB_INPUT, dtype=np.float64))


def _binary() -> Lesson:
    spec = _model("binary-5x5", [1, 5, 5], [
        {"name": "conv", "type": "Conv2d", "out_channels": 1, "kernel_size": 3, "bias": False}])
    field_28 = _model("receptive-28", [1, 28, 28], [
        {"name": "conv", "type": "Conv2d", "out_channels": 1, "kernel_size": 5}])
    return Lesson(
        "binary_5x5", "A 3×3 kernel on a 5×5 binary image",
        "The kernel [1 0 1 / 0 1 0 / 1 0 1] on the top-left window: 1·1 + 1·0 + 1·1 + 0·0 + "
        "1·1 + 1·0 + 0·1 + 0·0 + 1·1 = 4. Without padding a 3×3 kernel on 5×5 gives 3×3, and "
        "a 5×5 field on a 28×28 image gives 24×24: the field can move 23 pixels across.",
        ("binary_5x5", "receptive_24", "lrf_24x24"), spec,
        (LessonStep("The first position", "Multiply and add: 4.", "conv", (0, 0, 0)),
         LessonStep("Sliding on", "The whole 3×3 output, position by position.", "conv",
                    (0, 2, 2)),
         LessonStep("28×28 with 5×5 fields → 24×24", "28 − 5 + 1 = 24 in each direction.",
                    "conv", (0, 0, 0), model=1)),
        {"conv.weight": np.array(BINARY_KERNEL, dtype=np.float64)[None, None]},
        np.array(BINARY_IMAGE, dtype=np.float64)[None], (field_28,), (_vertical_bar(28),))


def _vertical_bar(size: int) -> np.ndarray:
    image = np.zeros((1, size, size))
    image[0, size // 4: 3 * size // 4, size // 2 - 2: size // 2 + 2] = 1.0
    return image


def _fc_local_conv() -> Lesson:
    conv = _model("shared-5x5", [1, 28, 28], [
        {"name": "conv", "type": "Conv2d", "out_channels": 1, "kernel_size": 5}],
        "One shared 5×5 kernel and a bias: 26 parameters.")
    dense = _model("dense-100", [1, 28, 28], [
        {"name": "flat", "type": "Flatten"}, {"name": "fc", "type": "Linear",
                                             "out_features": 100}],
        "A fully connected layer of 100 units: 784 × 100 + 100 = 78,500 parameters.")
    local = _model("local-5x5", [1, 28, 28], [
        {"name": "local", "type": "LocallyConnected2d", "out_channels": 1, "kernel_size": 5}],
        "Local receptive fields: a 5×5 kernel and a bias per position, none shared.")
    kernel = np.tile(np.array([1.0, 1.0, 0.0, -1.0, -1.0]), (5, 1)) / 10
    return Lesson(
        "fc_local_conv", "Fully connected vs local receptive fields vs convolution",
        "On a 28×28 image, 100 dense units need 784 × 100 + 100 = 78,500 parameters. Local "
        "receptive fields give each of the 24×24 positions its own 5×5 window, weights and "
        "bias: 25 × 24 × 24 + 24 × 24 = 14,976 (a LocallyConnected2d layer). Sharing one 5×5 "
        "kernel and one bias over every position — a convolution — needs 26.",
        ("fc_vs_local", "lrf_24x24"), conv,
        (LessonStep("Fully connected: 78,500", "Every unit sees every pixel.", model=1),
         LessonStep("Local receptive fields: 14,976", "A kernel per position, no sharing.",
                    "local", (0, 0, 0), model=2),
         LessonStep("Convolution: 26", "The same 25 weights and bias at every position.",
                    "conv", (0, 7, 10))),
        {"conv.weight": kernel[None, None], "conv.bias": np.array([0.0])},
        _vertical_bar(28), (dense, local), (None, _vertical_bar(28)))


def _params_76() -> Lesson:
    spec = _model("six-filters", [3, 32, 32], [
        {"name": "conv", "type": "Conv2d", "out_channels": 6, "kernel_size": 5}],
        "Six 5×5 filters on a 32×32×3 image.")
    unit = _model("dense-unit", [3, 32, 32], [
        {"name": "flat", "type": "Flatten"}, {"name": "unit", "type": "Linear",
                                             "out_features": 1}],
        "One dense unit on the same image: 32·32·3 + 1 = 3,073 parameters.")
    padded = _model("zero-padding-1", [3, 32, 32], [
        {"name": "pad", "type": "ZeroPad2d", "padding": 1}], "Zero padding 1: 34×34×3.")
    return Lesson(
        "params_76", "76 parameters per filter instead of 3,073",
        "A 5×5 filter on a colour image has 5·5·3 weights and a bias: 76 parameters, whatever "
        "the image size; one dense unit on a 32×32×3 image needs 32·32·3 + 1 = 3,073. Six "
        "such filters give six 28×28 activation maps, stacked into a 28×28×6 volume. Zero "
        "padding of 1 makes the 32×32×3 image 34×34×3.",
        ("params_76", "six_filters", "zero_padding"), spec,
        (LessonStep("One filter: 76", "5·5·3 + 1 = 76 parameters; 6 filters: 456.", "conv",
                    (0, 0, 0)),
         LessonStep("A dense unit: 3,073", "32·32·3 + 1.", model=1),
         LessonStep("Six filters → 28×28×6", "32 − 5 + 1 = 28; one map per filter.", "conv",
                    (5, 27, 27)),
         LessonStep("Zero padding 1 → 34×34×3", "One row and column of zeros on each side.",
                    model=2)),
        compare=(unit, padded))


def _pooling() -> Lesson:
    spec = _model("max-pool-2x2", [1, 4, 4], [
        {"name": "pool", "type": "MaxPool2d", "kernel_size": 2, "stride": 2},
        {"name": "l2", "type": "LPPool2d", "norm_type": 2.0, "kernel_size": 2, "stride": 2,
         "inputs": ["input"]},
        {"name": "avg", "type": "AvgPool2d", "kernel_size": 2, "stride": 2,
         "inputs": ["input"]}])
    shifted = _model("images-a-b-c", [3, 6, 6], [
        {"name": "pool", "type": "MaxPool2d", "kernel_size": 2, "stride": 2}],
        "Images A, B, C as three channels: max pooling treats each channel alone.")
    return Lesson(
        "max_pool_2x2", "2×2 max pooling with stride 2",
        "Max pooling keeps the largest value of each 2×2 window and moves 2 pixels at a time: "
        "a 4×4 map becomes 2×2. L2 pooling takes the square root of the sum of squares and "
        "average pooling the mean. Translational invariance: image B moves A's bright pixels "
        "inside their windows and pools to the same result; image C moves them into other "
        "windows and does not. (The lecture's images are lost; these are made to show it.)",
        ("max_pool", "pooling_kinds", "invariance"), spec,
        (LessonStep("Max of each window", "max(1, 1, 5, 6) = 6.", "pool", (0, 0, 0)),
         LessonStep("Stride 2", "The next window starts 2 pixels to the right: 8.", "pool",
                    (0, 0, 1)),
         LessonStep("L2 pooling", "√(1² + 1² + 5² + 6²) = √63 ≈ 7.94.", "l2", (0, 0, 0)),
         LessonStep("Average pooling", "(1 + 1 + 5 + 6) / 4 = 3.25.", "avg", (0, 0, 0)),
         LessonStep("Images A and B pool alike", "Channel 0 is A, channel 1 is B, channel 2 "
                    "is C.", "pool", (1, 0, 0), model=1)),
        input=np.array(POOL_IMAGE, dtype=np.float64)[None], compare=(shifted,),
        compare_inputs=(_shifted_images(),))


def _one_by_one() -> Lesson:
    spec = _model("conv-1x1", [192, 28, 28], [
        {"name": "conv1x1", "type": "Conv2d", "out_channels": 32, "kernel_size": 1}],
        "32 filters of 1×1×192: depth 192 → 32.")
    five = _model("conv-5x5", [192, 28, 28], [
        {"name": "conv5x5", "type": "Conv2d", "out_channels": 32, "kernel_size": 5,
         "padding": 2}], "The same output with 5×5 filters.")
    return Lesson(
        "one_by_one", "1×1 convolution: 28×28×192 → 28×28×32",
        "A 1×1 convolution mixes channels at each pixel: 32 filters of 1×1×192 turn 28×28×192 "
        "into 28×28×32, shrinking depth as pooling shrinks width and height. It costs "
        "28·28·32·192 = 4,816,896 multiplications; 5×5 filters for the same output cost 25 "
        "times as many, 120,422,400.", ("one_by_one",), spec,
        (LessonStep("One output value", "A weighted sum of the 192 values at one pixel plus a "
                    "bias.", "conv1x1", (0, 0, 0)),
         LessonStep("Against a 5×5 convolution", "Same 28×28×32 output, 25× the "
                    "multiplications.", model=1)),
        compare=(five,))


def _trans_conv() -> Lesson:
    spec = _model("trans-conv", [1, 2, 2], [
        {"name": "up", "type": "ConvTranspose2d", "out_channels": 1, "kernel_size": 2,
         "bias": False}], "The lecture's trans_conv: a 2×2 kernel on a 2×2 input.")
    return Lesson(
        "trans_conv", "Transposed convolution with a 2×2 kernel",
        "Each input value stamps a copy of the kernel scaled by itself onto a 3×3 output, "
        "shifted to its own position; overlapping stamps add up. This is the lecture's "
        "trans_conv loop, and what ConvTranspose2d computes. The lecture's matrices are lost "
        "with its figure; the lesson uses X = K = [[0, 1], [2, 3]] from the book example it "
        "follows, giving [[0, 0, 1], [0, 4, 6], [4, 12, 9]].", ("trans_conv",), spec,
        (LessonStep("X[0,0] = 0 stamps 0·K", "Nothing is added.", "up", (0, 0, 0)),
         LessonStep("The centre collects four stamps", "0·3 + 1·2 + 2·1 + 3·0 = 4.", "up",
                    (0, 1, 1)),
         LessonStep("The bottom-right corner", "Only X[1,1] = 3 reaches it: 3·3 = 9.", "up",
                    (0, 2, 2))),
        {"up.weight": np.array(TRANS_K, dtype=np.float64)[None, None]},
        np.array(TRANS_X, dtype=np.float64)[None])


def _megapixel() -> Lesson:
    spec = _model("megapixel-photo", [1, 1000, 1000], [
        {"name": "flat", "type": "Flatten"},
        {"name": "fc", "type": "Linear", "out_features": 1000}],
        "A one-megapixel photo into 1,000 dense units: 10^9 weights. Analysed, never built.")
    conv = _model("megapixel-conv", [1, 1000, 1000], [
        {"name": "conv", "type": "Conv2d", "out_channels": 1000, "kernel_size": 5}],
        "1,000 shared 5×5 filters on the same photo.")
    return Lesson(
        "megapixel", "A one-megapixel photo into a dense layer: 10^9 weights",
        "A one-megapixel photo has 10^6 inputs. Even 1,000 hidden units make 10^6 × 10^3 = "
        "10^9 weights (plus 1,000 biases), 4 GB of float32 in one layer. 1,000 convolution "
        "filters of 5×5 need 26,000 parameters on the same photo.", ("megapixel",), spec,
        (LessonStep("10^9 weights", "The summary counts them without building the layer."),
         LessonStep("1,000 filters: 26,000", "Shared kernels do not grow with the image.",
                    model=1)),
        compare=(conv,))


def _shared_gradient() -> Lesson:
    spec = _model("shared-gradient", [1, 4, 4], [
        {"name": "conv", "type": "Conv2d", "out_channels": 1, "kernel_size": 2,
         "bias": False}], "A 2×2 kernel shared over a 4×4 input (9 positions).")
    image = np.arange(16, dtype=np.float64).reshape(1, 4, 4) / 4
    return Lesson(
        "shared_gradient", "Backpropagation with shared weights: sum over positions",
        "The same kernel is used at all 9 positions. Pretend each position has its own copy "
        "(a LocallyConnected2d layer with the kernel copied 9 times): autograd gives each copy "
        "its gradient, and the shared kernel's gradient is exactly their sum.",
        ("shared_gradient",), spec,
        (LessonStep("One position's copy", "Its gradient is the input patch times the output "
                    "gradient there.", "conv", (0, 0, 0)),
         LessonStep("The sum", "Adding the 9 copies' gradients gives the shared kernel's "
                    "gradient (see shared_kernel_gradients).", "conv", (0, 2, 2))),
        {"conv.weight": np.array([[[[1.0, -1.0], [0.5, 2.0]]]])}, image)


LESSONS: tuple[Callable[[], Lesson], ...] = (
    _fc_local_conv, _edge, _padding, _rgb, _binary, _params_76, _pooling, _one_by_one,
    _trans_conv, _megapixel, _shared_gradient, backprop_conv, conv_as_matrix,
)


@cache
def list_lessons() -> tuple[Lesson, ...]:
    """Every built-in lesson, in teaching order."""
    return tuple(make() for make in LESSONS)


def find_lesson(key: str) -> Lesson:
    for lesson in list_lessons():
        if key in (lesson.key, lesson.spec.name):
            return lesson
    raise ModelError(f'no lesson "{key}"; the lessons are: '
                     + ", ".join(lesson.key for lesson in list_lessons()))


@dataclass(frozen=True)
class SharedGradient:
    """The shared kernel's gradient and each position's copy's gradient (positions, kh, kw)."""

    shared: np.ndarray
    per_position: np.ndarray


def shared_kernel_gradients(kernel: torch.Tensor, x: torch.Tensor,
                            upstream: torch.Tensor | None = None) -> SharedGradient:
    """Autograd on a convolution and on its unshared copy (a kernel per position).

    ``kernel`` is (1, C, kh, kw), ``x`` is (C, H, W); the loss is Σ upstream · output (all ones
    by default), so the output gradient is ``upstream``."""
    from core.build import LocallyConnected2d

    shared = kernel.detach().clone().requires_grad_(True)
    out = torch.nn.functional.conv2d(x[None], shared)[0]
    g = torch.ones_like(out) if upstream is None else upstream
    (out * g).sum().backward()  # type: ignore[no-untyped-call]
    kh, kw = kernel.shape[-2:]
    local = LocallyConnected2d(x.shape[0], 1, (kh, kw), (x.shape[1], x.shape[2]), bias=False)
    with torch.no_grad():
        local.weight.copy_(kernel.detach().expand_as(local.weight))
    (local(x[None])[0] * g).sum().backward()
    assert shared.grad is not None and local.weight.grad is not None
    per_position = local.weight.grad.reshape(-1, *kernel.shape[1:])
    return SharedGradient(shared.grad[0].numpy().astype(np.float64),
                          per_position.numpy().astype(np.float64))
