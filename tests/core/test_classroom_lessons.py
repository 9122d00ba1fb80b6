"""Every lesson reproduces its lecture passage: numbers read off the quoted seed text."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core.classroom import lessons as L
from core.classroom.lessons import find_lesson, list_lessons, quotes, shared_kernel_gradients
from core.classroom.step import scatter_step
from core.cli import main
from tests.core.test_inspect import CORRECT_OUTPUT, LECTURE_IMAGE, VERTICAL_EDGE

SEEDS = Path("/work/shared/seeds")


def _rows(text: str) -> list[list[int]]:
    """Rows of whole numbers in a quoted table (lines of tab-separated integers only)."""
    rows = []
    for line in text.splitlines():
        words = line.split("\t")
        if line.strip() and all(re.fullmatch(r"-?\d+", w.strip()) for w in words if w.strip()):
            rows.append([int(w) for w in words if w.strip()])
    return rows


def _after(text: str, marker: str, count: int) -> list[list[int]]:
    return _rows(text.split(marker, 1)[1])[:count]


def _before(text: str, marker: str, count: int) -> list[list[int]]:
    return _rows(text.split(marker, 1)[0])[-count:]


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed lectures are not on this machine")
def test_quotes_are_word_for_word_in_the_seed_lectures() -> None:
    for quote in quotes().values():
        lines = (SEEDS / quote.file).read_text(encoding="utf-8").split("\n")
        first, last = quote.lines
        assert "\n".join(lines[first - 1:last]).strip("\n") == quote.text, quote.key


def test_every_lesson_analyses_and_its_steps_equal_torch() -> None:
    keys = [lesson.key for lesson in list_lessons()]
    assert len(keys) == len(set(keys)) == 13
    for lesson in list_lessons():
        assert lesson.quotes and len(lesson.explanation) > 80 and lesson.steps
        for index in range(len(lesson.models)):
            assert lesson.analysis(index).ok, (lesson.key, index)
        sessions = {}
        for step in lesson.steps:
            if step.layer is None or step.mode != "forward":  # the others: their own tests
                continue
            session = sessions.setdefault(step.model, lesson.session(step.model))
            result = session.step(step.layer, step.position)
            expected = float(session.output(step.layer)[step.position])
            assert result.value == pytest.approx(expected, abs=1e-4), (lesson.key, step.title)


def test_fc_vs_local_receptive_fields_vs_convolution() -> None:
    text = quotes()["fc_vs_local"].text
    fc, lrf = (int(v) for v in re.findall(r"parameters = (\d+) parameters", text))
    lesson = find_lesson("fc_local_conv")
    assert (fc, lrf) == (78_500, 14_976)
    assert lesson.analysis(1).total_params == 784 * 100 + 100 == fc
    assert lesson.analysis(2).total_params == 25 * 24 * 24 + 24 * 24 == lrf
    assert lesson.analysis(0).total_params == 26
    assert "24×24 neurons" in quotes()["lrf_24x24"].text
    assert lesson.analysis(2).layers[0].output_shape == (1, 24, 24)
    from core.analysis.explain import explain_layer

    assert "24×24 positions × (1 × 1 × 5×5 + 1) = 14,976" in explain_layer(
        lesson.analysis(2).layers[0])
    # the locally connected layer really has a kernel per position: no two positions share
    local = lesson.session(2).module("local")
    assert not torch.equal(local.weight[0, 0], local.weight[0, 1])


def test_the_6x6_edge_example_and_its_two_misprints() -> None:
    text = quotes()["edge_6x6"].text
    padded = _after(text, "Input: 6x6 image", 8)
    image = [row[1:-1] for row in padded[1:-1]]
    kernel = _after(text, "3x3 Filter", 3)
    printed = _after(text, "Output: 6x6 activations", 6)
    assert image == L.EDGE_IMAGE == LECTURE_IMAGE and kernel == L.VERTICAL_EDGE == VERTICAL_EDGE
    lesson = find_lesson("edge_6x6")
    computed = lesson.session().output("edge")[0].numpy()
    assert computed.astype(int).tolist() == CORRECT_OUTPUT  # the inspector's test agrees
    differ = {(r, c): (printed[r][c], int(computed[r, c])) for r in range(6) for c in range(6)
              if printed[r][c] != computed[r, c]}
    assert differ == L.EDGE_MISPRINTS == {(3, 0): (11, -11), (4, 4): (10, 11)}
    for words in ("row 4, column 1", "printed 11", "−11", "row 5, column 5", "printed 10"):
        assert words in lesson.explanation
    steps = {s.position for s in lesson.steps}
    assert {(0, 3, 0), (0, 4, 4)} <= steps


def test_zero_and_replication_padding_of_the_lectures_corner() -> None:
    text = quotes()["padding_modes"].text
    zero = _before(text, "0-padding", 4)
    replicated = _before(text, "Replication-padding", 4)
    lesson = find_lesson("padding_modes")
    session = lesson.session()
    assert np.array_equal(session.input[0].numpy(), [row[1:] for row in zero[1:]])
    z = session.step("zero_pad", (0, 0, 0))
    r = session.step("replicate_pad", (0, 0, 0))
    assert z.patch[0].tolist() == [row[:3] for row in zero[:3]]
    assert r.patch[0].tolist() == [row[:3] for row in replicated[:3]]
    assert z.padding[0].tolist() == r.padding[0].tolist() == [[True] * 3, [True, False, False],
                                                              [True, False, False]]


def test_the_rgb_example_gives_minus_25() -> None:
    text = quotes()["rgb"].text
    channels = [[row[1:] for row in _rows(part.replace("...", ""))[1:]] for part in
                text.split("Input Channel")[:3]]
    # the slide's third label follows the sums; its kernel stands before "Model parameters"
    kernels = [_before(text, marker, 3) for marker in ("Kernel Channel #1", "Kernel Channel #2",
                                                       "Model parameters")]
    sums = [int(v) for v in re.findall(r"^(-?\d+)$", text, re.M)]
    assert sums == [308, -498, 164]
    assert "Bias = 1" in text and "+ 1 = -25" in text
    assert channels == L.RGB_INPUT and kernels == L.RGB_KERNEL
    step = find_lesson("rgb_minus_25").session().step("conv", (0, 0, 0))
    assert step.channel_sums is not None
    assert step.channel_sums.tolist() == sums and step.bias == 1 and step.value == -25


def test_the_5x5_binary_image_gives_4_and_28_gives_24() -> None:
    text = quotes()["binary_5x5"].text
    cells = [line.split("\t") for line in text.splitlines()[:5]]
    image = [[int(c.split("x")[0]) for c in row if c.strip()] for row in cells]
    kernel = [[int(c.split("x")[1]) for c in row[:3]] for row in cells[:3]]
    assert image == L.BINARY_IMAGE and kernel == L.BINARY_KERNEL
    assert text.strip().endswith("4")
    lesson = find_lesson("binary_5x5")
    assert lesson.session().step("conv", (0, 0, 0)).value == 4
    assert "$28 \\times 28$" in quotes()["receptive_24"].text
    assert lesson.analysis(1).layers[0].output_shape == (1, 24, 24)


def test_76_parameters_per_filter_against_3073_and_the_volumes() -> None:
    dense, per_filter = (int(v) for v in re.findall(r"= (\d+)", quotes()["params_76"].text))
    assert (dense, per_filter) == (3073, 76)
    lesson = find_lesson("params_76")
    conv = lesson.analysis(0).layers[0]
    assert conv.params == 6 * per_filter and lesson.analysis(1).total_params == dense
    assert "28x28x6" in quotes()["six_filters"].text and conv.output_shape == (6, 28, 28)
    padding_text = quotes()["zero_padding"].text
    assert "Zero Padding = 1 $\\rightarrow 34 \\times 34 \\times 3$" in padding_text
    assert lesson.analysis(2).layers[0].output_shape == (3, 34, 34)


def test_2x2_max_pooling_stride_2_and_translational_invariance() -> None:
    assert "2x2 filters\nand stride 2" in quotes()["max_pool"].text
    lesson = find_lesson("max_pool_2x2")
    session = lesson.session()
    assert session.output("pool")[0].tolist() == [[6, 8], [3, 4]]
    assert session.step("l2", (0, 0, 0)).value == pytest.approx(math.sqrt(63), rel=1e-6)
    assert session.step("avg", (0, 0, 0)).value == 3.25
    assert "A and B are the same" in quotes()["invariance"].text
    pooled = lesson.session(1).output("pool").numpy()
    assert np.array_equal(pooled[0], pooled[1]) and not np.array_equal(pooled[0], pooled[2])


def test_1x1_convolution_and_its_multiplications() -> None:
    text = quotes()["one_by_one"].text
    assert "(28x28x192)" in text and "32, conv1x1" in text and "28x28x32" in text
    lesson = find_lesson("one_by_one")
    one, five = lesson.analysis(0).layers[0], lesson.analysis(1).layers[0]
    assert one.output_shape == five.output_shape == (32, 28, 28)
    assert one.macs == 28 * 28 * 32 * 192 == 4_816_896
    assert five.macs == 25 * one.macs == 120_422_400
    assert "4,816,896" in lesson.explanation and "120,422,400" in lesson.explanation


def test_trans_conv_equals_the_lectures_own_code() -> None:
    code = quotes()["trans_conv"].text.split("```")[1]
    namespace: dict[str, object] = {"np": np}
    exec(code, namespace)  # the lecture's own function, from the repository's quote file
    x, k = np.array(L.TRANS_X, dtype=float), np.array(L.TRANS_K, dtype=float)
    expected = namespace["trans_conv"](x, k)  # type: ignore[operator]
    session = find_lesson("trans_conv").session()
    assert session.output("up")[0].numpy().tolist() == expected.tolist()
    assert expected.tolist() == [[0, 0, 1], [0, 4, 6], [4, 12, 9]]
    total = np.zeros((3, 3))
    for r in range(2):
        for c in range(2):
            part = scatter_step(session.module("up"), session.layer_input("up"), (0, r, c))
            total[np.ix_(part.rows, part.cols)] += part.contribution[0]
    assert total.tolist() == expected.tolist()


def test_megapixel_photo_into_a_dense_layer_is_10_to_the_9() -> None:
    assert "$10^6 \\times 10^3 = 10^9$" in quotes()["megapixel"].text
    lesson = find_lesson("megapixel")
    fc = lesson.analysis(0).layers[1]
    assert fc.params - 1000 == 10**9 and not lesson.steppable()
    assert lesson.analysis(1).total_params == 26_000


def test_shared_kernel_gradient_is_the_sum_over_positions() -> None:
    assert "sum up the partial derivatives" in quotes()["shared_gradient"].text
    lesson = find_lesson("shared_gradient")
    kernel = lesson.weight_tensors()["conv.weight"]
    x = lesson.input_tensor()
    assert x is not None
    for upstream in (None, torch.randn(1, 3, 3, generator=torch.Generator().manual_seed(1))):
        grads = shared_kernel_gradients(kernel, x, upstream)
        assert grads.per_position.shape == (9, 1, 2, 2)
        np.testing.assert_allclose(grads.shared, grads.per_position.sum(0), rtol=1e-5)
        assert not np.allclose(grads.per_position[0], grads.per_position[8])


def test_lesson_command_lists_and_writes_slides(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lesson"]) == 0
    listed = capsys.readouterr().out
    assert all(lesson.key in listed for lesson in list_lessons())
    assert main(["lesson", "trans_conv", "--slides", str(tmp_path / "slides")]) == 0
    paths = [Path(p) for p in capsys.readouterr().out.split()]
    assert len(paths) == len(find_lesson("trans_conv").steps) + 1
    assert [p.name[:2] for p in paths] == [f"{i:02d}" for i in range(1, len(paths) + 1)]
    for path in paths:
        assert Image.open(path).size == (1920, 1080)
    assert main(["lesson", "nope"]) == 2
    assert "the lessons are" in capsys.readouterr().err


def test_backprop_lesson_sums_each_weights_copies_to_autograd() -> None:
    from core.classroom.backward import session_gradient

    text = quotes()["backprop_padding"].text
    assert "extreme upper-left entry in the output volume (because of the padding)" in text
    lesson = find_lesson("backprop_conv")
    assert lesson.quote_keys == ("shared_gradient", "backprop_padding")
    session = lesson.session()
    model = session.inspector.model
    x = session.input[None].clone().requires_grad_(True)
    model.zero_grad()
    torch.nn.functional.cross_entropy(model(x), torch.tensor([0])).backward()  # type: ignore
    conv = session.module("conv")
    first, last, cell, bias = (session_gradient(session, s.layer, s.grad, s.position, s.target)
                               for s in lesson.steps)
    # the upper-left weight reads padding at the upper-left output, the image's last cell at
    # the lower-right one; its 25 copies' gradients add up to autograd's
    assert first.padding[0] and first.contributions[0] == 0
    assert not first.padding[-1] and first.factors[-1] == IMAGE_LAST
    assert first.value == pytest.approx(float(conv.weight.grad[0, 0, 0, 0]), rel=1e-5)
    assert first is not last and last.value == first.value
    assert len(cell.contributions) == 4  # four windows read input (1, 1)
    assert x.grad is not None
    assert cell.value == pytest.approx(float(x.grad[0, 0, 1, 1]), rel=1e-5)
    assert bias.value == pytest.approx(float(conv.bias.grad[0]), rel=1e-5)
    model.zero_grad()


IMAGE_LAST = 2.0
"""The lesson image's lower-right value."""


def test_matrix_lesson_rows_are_the_kernel_shifted() -> None:
    from core.classroom.matrix import counterparts, session_matrix

    assert "sparse matrix C from the Filter" in quotes()["conv_matrix"].text
    assert "a large subset of weights are 0" in quotes()["lrf_sparse"].text
    lesson = find_lesson("conv_as_matrix")
    session = lesson.session()
    conv = session_matrix(session, "edge", 0)
    assert conv.matrix.shape == (4, 16) and conv.weights == 9
    kernel = [1.0, 0.0, -1.0] * 3
    for row, (y, x) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        columns = [(y + a) * 4 + x + b for a in range(3) for b in range(3)]
        assert conv.matrix[row, columns].tolist() == kernel
        assert np.count_nonzero(np.delete(conv.matrix[row], columns)) == 0
    x = session.input.double().numpy().ravel()
    np.testing.assert_allclose(conv.matrix @ x + conv.bias,
                               session.output("edge").double().numpy().ravel(), atol=1e-9)
    parts = counterparts(conv)
    # lecture 000: local receptive fields, and a fully connected layer, on the same 4×4 image
    assert parts.local_weights == 36 and parts.dense_weights == 64
    assert lesson.analysis(1).total_params == 36 + 4 and lesson.analysis(2).total_params == 68
