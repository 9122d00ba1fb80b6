"""The backward step's terms sum to autograd's gradient, on random layers and a trained model;
a convolution's matrix times the input plus the bias is its output."""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from torch import nn

from core.build import LocallyConnected2d
from core.classroom.backward import gradient_step
from core.classroom.matrix import conv_matrix, counterparts
from core.classroom.step import StepError

# its module-scoped fixture trains: the module runs on one xdist worker, which trains once
pytestmark = pytest.mark.xdist_group("test_classroom_backward")

small = st.integers(1, 3)
pairs = st.one_of(small, st.tuples(small, small))


@st.composite
def conv_layers(draw: Any, max_size: int = 7) -> tuple[nn.Module, torch.Tensor]:
    one_d = draw(st.booleans()) and draw(st.booleans())
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    c_in = groups * draw(st.integers(1, 2))
    c_out = groups * draw(st.integers(1, 2))
    mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
    kwargs: dict[str, Any] = {"kernel_size": draw(small if one_d else pairs),
                              "stride": draw(small if one_d else pairs),
                              "dilation": draw(small if one_d else pairs),
                              "groups": groups, "bias": draw(st.booleans()),
                              "padding_mode": mode}
    padding = draw(st.one_of(st.integers(0, 2), st.just("same"), st.just("valid")))
    if padding == "same":
        kwargs["stride"] = 1
    kwargs["padding"] = padding
    size = [draw(st.integers(1, max_size))] + ([] if one_d else
                                               [draw(st.integers(1, max_size))])
    cls = nn.Conv1d if one_d else nn.Conv2d
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = cls(c_in, c_out, **kwargs).double()
            x = torch.randn(c_in, *size, dtype=torch.float64) * 3
            out = module(x[None])
    except (RuntimeError, ValueError, NotImplementedError):
        assume(False)
    assume(out.numel() > 0)
    return module, x


def _autograd(module: nn.Module, x: torch.Tensor,
              seed: int) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """∂L/∂input and the module's .grad for L = Σ g · output, g a seeded random upstream."""
    x = x.detach().clone().requires_grad_(True)
    module.zero_grad()
    out = module(x[None])[0]
    g = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed),
                    dtype=torch.float64)
    (out * g).sum().backward()  # type: ignore[no-untyped-call]
    assert x.grad is not None
    return x, x.grad, g.numpy()


def _check_terms(step: Any) -> None:
    np.testing.assert_allclose(step.contributions, step.factors * step.upstream)
    np.testing.assert_allclose(step.running_sum, np.cumsum(step.contributions))
    assert len(step.positions) == len(step.contributions) == len(step.cells)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(conv_layers(), st.data())
def test_convolution_gradients_equal_autograd(layer: tuple[nn.Module, torch.Tensor],
                                              data: st.DataObject) -> None:
    module, x = layer
    x, x_grad, g = _autograd(module, x, data.draw(st.integers(0, 1000)))
    assert module.weight.grad is not None
    one_d = isinstance(module, nn.Conv1d)
    w_at = tuple(data.draw(st.integers(0, n - 1)) for n in module.weight.shape)
    step = gradient_step("l", module, x, g, "weight", w_at)
    _check_terms(step)
    # one term per output position of channel C, in reading order
    assert len(step.contributions) == int(np.prod(g.shape[1:]))
    assert [tuple(p[1:]) for p in step.positions] == list(np.ndindex(*g.shape[1:]))
    assert step.value == pytest.approx(float(module.weight.grad[w_at]), rel=1e-9, abs=1e-9)
    x_at = tuple(data.draw(st.integers(0, n - 1)) for n in x.shape)
    step = gradient_step("l", module, x, g, "input", x_at)
    _check_terms(step)
    assert step.value == pytest.approx(float(x_grad[x_at]), rel=1e-9, abs=1e-9)
    assert step.positions.shape[1] == (2 if one_d else 3)
    if module.bias is not None:
        assert module.bias.grad is not None
        c = data.draw(st.integers(0, module.out_channels - 1))
        step = gradient_step("l", module, x, g, "bias", (c,))
        assert step.value == pytest.approx(float(module.bias.grad[c]), rel=1e-9, abs=1e-9)
    else:
        with pytest.raises(StepError, match="no bias"):
            gradient_step("l", module, x, g, "bias", (0,))


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(0, 2), st.booleans(), st.data())
def test_linear_gradients_equal_autograd(n_in: int, n_out: int, lead: int, bias: bool,
                                         data: st.DataObject) -> None:
    module = nn.Linear(n_in, n_out, bias=bias).double()
    x = torch.randn(*([2] * lead), n_in, dtype=torch.float64)
    x, x_grad, g = _autograd(module, x, data.draw(st.integers(0, 1000)))
    assert module.weight.grad is not None
    w_at = (data.draw(st.integers(0, n_out - 1)), data.draw(st.integers(0, n_in - 1)))
    step = gradient_step("fc", module, x, g, "weight", w_at)
    _check_terms(step)
    assert len(step.contributions) == 2 ** lead
    assert step.value == pytest.approx(float(module.weight.grad[w_at]), rel=1e-9, abs=1e-12)
    x_at = tuple(data.draw(st.integers(0, n - 1)) for n in x.shape)
    step = gradient_step("fc", module, x, g, "input", x_at)
    assert len(step.contributions) == n_out
    assert step.value == pytest.approx(float(x_grad[x_at]), rel=1e-9, abs=1e-12)
    if bias:
        assert module.bias is not None and module.bias.grad is not None
        step = gradient_step("fc", module, x, g, "bias", (w_at[0],))
        assert step.value == pytest.approx(float(module.bias.grad[w_at[0]]), rel=1e-9,
                                           abs=1e-12)


def test_a_stride_gap_and_reflect_padding_are_spelled_out() -> None:
    conv = nn.Conv2d(1, 1, 1, stride=2, bias=False).double()
    x = torch.randn(1, 5, 5, dtype=torch.float64)
    g = np.ones((1, 3, 3))
    gap = gradient_step("c", conv, x, g, "input", (0, 1, 1))
    assert gap.value == 0 and len(gap.contributions) == 0
    assert any("stride gap" in note for note in gap.notes)
    mirror = nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect", bias=False).double()
    step = gradient_step("c", mirror, x, np.ones((1, 5, 5)), "input", (0, 1, 1))
    # the cell is read as itself by 9 windows and as the reflection of the border by more
    assert int((~step.padding).sum()) == 9 and step.padding.any()
    weight = gradient_step("c", mirror, x, np.ones((1, 5, 5)), "weight", (0, 0, 0, 0))
    assert weight.padding[0] and weight.factors[0] == float(x[0, 1, 1])  # mirror of (−1, −1)


def test_wrong_layers_and_positions_say_what_to_give() -> None:
    conv = nn.Conv2d(2, 3, 3)
    x = torch.zeros(2, 5, 5)
    g = np.zeros((3, 3, 3))
    with pytest.raises(StepError, match="C,I,A,B"):
        gradient_step("c", conv, x, g, "weight", (0, 0, 0))
    with pytest.raises(StepError, match="A = 3 is outside 0 to 2"):
        gradient_step("c", conv, x, g, "weight", (0, 0, 3, 0))
    with pytest.raises(StepError, match="MaxPool2d"):
        gradient_step("p", nn.MaxPool2d(2), x, g, "weight", (0, 0, 0, 0))


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from core.data.datasets import load_digits_dataset
    from core.presets import load_preset
    from core.train.engine import train
    from core.train.settings import Finished, TrainingSettings

    out = tmp_path_factory.mktemp("runs")
    settings_ = replace(TrainingSettings(), epochs=1, device="cpu")
    done = list(train(load_preset("digits_small"), load_digits_dataset(), settings_, out))[-1]
    assert isinstance(done, Finished)
    return Path(done.run_dir)


def test_a_trained_models_gradients_equal_autograd_of_its_loss(trained_run: Path) -> None:
    from core.classroom.backward import session_gradient
    from core.classroom.session import StepSession
    from core.inspect.inspector import image_for

    session = StepSession.from_paths(trained_run / "model.json", trained_run)
    inp = image_for(session.inspector, "digits:3")
    session.set_input(inp.tensor[0], inp.source)
    assert "weights-best" in session.weights_note
    model = session.inspector.model
    layers = session.gradient_layers()
    assert any(session.spec.layer(n).type == "Conv2d" for n in layers)
    assert any(session.spec.layer(n).type == "Linear" for n in layers)
    rng = np.random.default_rng(0)
    for target in (3, 5):
        # autograd on the whole model, the loss training uses, to class ``target``
        x = session.input[None].clone().requires_grad_(True)
        model.zero_grad()
        out = model(x)
        nn.functional.cross_entropy(out, torch.tensor([target])).backward()  # type: ignore
        for name in layers:
            module = session.module(name)
            assert module.weight.grad is not None
            for _ in range(5):
                at = tuple(int(rng.integers(0, n)) for n in module.weight.shape)
                step = session_gradient(session, name, "weight", at, target)
                expected = float(module.weight.grad[at])
                assert step.autograd == pytest.approx(expected, rel=1e-5, abs=1e-7)
                assert step.value == pytest.approx(expected, rel=1e-4, abs=1e-6)
            c = int(rng.integers(0, module.weight.shape[0]))
            bias = session_gradient(session, name, "bias", (c,), target)
            assert bias.value == pytest.approx(float(module.bias.grad[c]), rel=1e-4, abs=1e-6)
        first = layers[0]
        assert x.grad is not None
        for _ in range(5):
            at = tuple(int(rng.integers(0, n)) for n in x.shape[1:])
            step = session_gradient(session, first, "input", at, target)
            assert step.value == pytest.approx(float(x.grad[0][at]), rel=1e-4, abs=1e-6)
    # the model's own gradients are left as they were
    assert all(p.grad is not None for p in model.parameters())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(conv_layers(max_size=16), st.data())
def test_matrix_times_the_input_plus_bias_is_the_output(
        layer: tuple[nn.Module, torch.Tensor], data: st.DataObject) -> None:
    module, x = layer
    with torch.no_grad():
        out = module(x[None])[0]
    c = data.draw(st.integers(0, out.shape[0] - 1))
    conv = conv_matrix("l", module, tuple(x.shape), c)
    assert conv.matrix.shape == (out[c].numel(), x.numel())
    np.testing.assert_allclose(conv.matrix @ x.numpy().ravel() + conv.bias,
                               out[c].numpy().ravel(), rtol=1e-12, atol=1e-12)
    # every filled cell is under the window; the weights are the kernel's, shared
    assert not (conv.matrix[~conv.structure]).any()
    kernel = module.weight.detach()[c].numpy()
    if module.padding_mode == "zeros":
        filled = conv.matrix[conv.structure]
        assert set(np.round(filled, 12)) <= set(np.round(kernel.ravel(), 12))


def test_matrix_rows_are_windows_and_the_counterparts_share_nothing() -> None:
    conv = nn.Conv2d(1, 1, 3, bias=True).double()
    m = conv_matrix("c", conv, (1, 5, 5), 0)
    assert m.matrix.shape == (9, 25) and m.weights == 9 and int(m.structure.sum()) == 81
    assert m.window(4) == [(0, r, c) for r in range(1, 4) for c in range(1, 4)]
    # every row holds the same 9 numbers, shifted
    kernel = conv.weight.detach().numpy().ravel()
    for row in range(9):
        np.testing.assert_array_equal(m.matrix[row][m.structure[row]], kernel)
    np.testing.assert_array_equal(m.bias, np.full(9, float(conv.bias.detach()[0])))
    parts = counterparts(m)
    assert parts.local_weights == 81 and parts.dense_weights == 225
    assert (parts.local[~m.structure] == 0).all()
    assert len(set(parts.local[m.structure].tolist())) == 81  # no two shared
    assert (parts.dense != 0).all()
    local = LocallyConnected2d(1, 1, 3, (5, 5)).double()
    lm = conv_matrix("l", local, (1, 5, 5), 0)
    assert lm.weights == 81 and (lm.structure == m.structure).all()
    with pytest.raises(StepError, match="up to 3,072"):
        conv_matrix("c", nn.Conv2d(3, 1, 3), (3, 64, 64), 0)
    with pytest.raises(StepError, match="ReLU"):
        conv_matrix("r", nn.ReLU(), (1, 4, 4), 0)
