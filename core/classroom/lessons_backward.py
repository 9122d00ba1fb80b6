"""Lecture 003's ideas without numbers, as lessons: backpropagation through a shared kernel,
and a convolution as a sparse matrix (with lecture 000's local receptive fields beside it).

The lecture gives no worked numbers for these; the lessons use a small 4×4 image and fixed
kernels, and every number shown is computed (the backward step's total is autograd's own)."""

from __future__ import annotations

import numpy as np

from core.classroom.lesson_base import Lesson, LessonStep, lesson_model

IMAGE = [[1, 2, 0, 1], [0, 1, 3, 2], [2, 0, 1, 1], [1, 3, 0, 2]]
"""The 4×4 input of both lessons."""
KERNEL = [[1.0, -1.0], [0.5, 2.0]]
"""The backward lesson's shared 2×2 kernel (the shared_gradient lesson's)."""
HEAD = (np.round(np.random.default_rng(3).uniform(-1, 1, (2, 25)), 1)).tolist()
"""The backward lesson's 25 → 2 class scores, rounded to one decimal so slides stay short."""
EDGE = [[1.0, 0.0, -1.0]] * 3


def backprop_conv() -> Lesson:
    spec = lesson_model("backprop-conv", [1, 4, 4], [
        {"name": "conv", "type": "Conv2d", "out_channels": 1, "kernel_size": 2, "padding": 1},
        {"name": "flat", "type": "Flatten"},
        {"name": "fc", "type": "Linear", "out_features": 2}],
        "A 2×2 kernel shared over a 4×4 image (zero padding 1: 25 positions), then two class "
        "scores; the loss is cross-entropy to class 0, which the model scores far below "
        "class 1, so the gradient at the two scores is almost exactly (−1, +1).")
    return Lesson(
        "backprop_conv", "Backpropagation through a convolution, term by term",
        "The kernel's weights are used at all 25 output positions. The loss's gradient with "
        "respect to one weight is the sum, over the positions, of the input value under that "
        "kernel cell times the gradient arriving at that output (∂L/∂y): pretend each "
        "position has its own copy, take each copy's gradient, add them up. The running sum "
        "ends at autograd's value. An input cell's gradient collects weight × ∂L/∂y from "
        "every window that read it (a transposed convolution), a bias the sum of ∂L/∂y.",
        ("shared_gradient", "backprop_padding"), spec,
        (LessonStep("The upper-left weight at the upper-left output",
                    "Kernel cell (0, 0) lies on the padding there: input 0, so this copy's "
                    "gradient is 0 (the lecture: it might not even contribute).", "conv",
                    (0, 0, 0, 0), mode="backward", grad="weight", target=0, term=0),
         LessonStep("…and at the lower-right output",
                    "The same weight reads the image's last cell there: it contributes, and "
                    "after 25 terms the running sum is autograd's ∂L/∂w.", "conv",
                    (0, 0, 0, 0), mode="backward", grad="weight", target=0, term=-1),
         LessonStep("One input cell's gradient",
                    "Input (1, 1) sits under all four kernel cells, in four windows: four "
                    "terms weight × ∂L/∂y, the transposed convolution of ∂L/∂y.", "conv",
                    (0, 1, 1), mode="backward", grad="input", target=0, term=-1),
         LessonStep("The bias", "The bias is added at every position: its gradient is the sum "
                    "of the 25 upstream gradients.", "conv", (0,), mode="backward",
                    grad="bias", target=0, term=-1)),
        {"conv.weight": np.array(KERNEL)[None, None], "conv.bias": np.zeros(1),
         "fc.weight": np.array(HEAD), "fc.bias": np.zeros(2)},
        np.array(IMAGE, dtype=np.float64)[None])


def conv_as_matrix() -> Lesson:
    spec = lesson_model("conv-as-matrix", [1, 4, 4], [
        {"name": "edge", "type": "Conv2d", "out_channels": 1, "kernel_size": 3}],
        "A 3×3 vertical-edge kernel on a 4×4 image: a 2×2 output.")
    local = lesson_model("local-as-matrix", [1, 4, 4], [
        {"name": "local", "type": "LocallyConnected2d", "out_channels": 1, "kernel_size": 3}],
        "The same windows without sharing: a kernel per output position.")
    dense = lesson_model("dense-as-matrix", [1, 4, 4], [
        {"name": "flat", "type": "Flatten"},
        {"name": "fc", "type": "Linear", "out_features": 4}],
        "Every output reads every input: a full 4 × 16 matrix.")
    return Lesson(
        "conv_as_matrix", "A convolution is a sparse matrix",
        "Flatten the 4×4 input into a column of 16 numbers. Each of the 4 output cells is a "
        "row of a 4 × 16 matrix C: the kernel's 9 weights at the columns of that output's "
        "window, 0 elsewhere, so C · x plus the bias is the output. Every row holds the same 9 "
        "numbers, shifted. A locally connected layer has the same zeros but 36 distinct "
        "weights; a dense layer fills all 64 cells.",
        ("conv_matrix", "lrf_sparse", "fc_vs_conv"), spec,
        (LessonStep("Row 0: the upper-left window", "The 9 filled cells are the kernel, at the "
                    "columns of input rows 0–2, columns 0–2.", "edge", (0, 0), mode="matrix"),
         LessonStep("Row 3: the same numbers, shifted", "The lower-right window: the kernel "
                    "moved one row and one column along the flattened input.", "edge",
                    (0, 3), mode="matrix"),
         LessonStep("Without sharing: 36 weights", "A locally connected layer: the same "
                    "sparse rows, each with its own 9 weights.", model=1),
         LessonStep("Dense: 64 weights", "A fully connected layer fills every cell.",
                    model=2)),
        {"edge.weight": np.array(EDGE)[None, None], "edge.bias": np.zeros(1)},
        np.array(IMAGE, dtype=np.float64)[None], compare=(local, dense))
