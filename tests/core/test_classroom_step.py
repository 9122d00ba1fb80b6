"""The step-through's numbers equal torch's own output, on random layers and a trained model."""

from __future__ import annotations

import math
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
from core.classroom.step import StepError, output_positions, scatter_step, step_at

# its module-scoped fixture trains: the module runs on one xdist worker, which trains once
pytestmark = pytest.mark.xdist_group("test_classroom_step")

small = st.integers(1, 3)
pairs = st.one_of(small, st.tuples(small, small))


@st.composite
def conv_layers(draw: Any) -> tuple[nn.Module, torch.Tensor]:
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
    size = [draw(st.integers(1, 7))] + ([] if one_d else [draw(st.integers(1, 7))])
    cls = nn.Conv1d if one_d else nn.Conv2d
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = cls(c_in, c_out, **kwargs)
            x = torch.randn(c_in, *size) * 3
            out = module(x[None])
    except (RuntimeError, ValueError, NotImplementedError):
        assume(False)
    assume(out.numel() > 0)
    return module, x


@st.composite
def pool_layers(draw: Any) -> tuple[nn.Module, torch.Tensor]:
    kind = draw(st.sampled_from(["max", "avg", "lp"]))
    k = draw(pairs)
    stride = draw(st.one_of(st.none(), pairs))
    ceil = draw(st.booleans())
    kmin = min(k) if isinstance(k, tuple) else k
    pad = draw(st.integers(0, kmin // 2))
    if kind == "max":
        module: nn.Module = nn.MaxPool2d(k, stride, pad, draw(st.integers(1, 2)),
                                         ceil_mode=ceil)
    elif kind == "avg":
        module = nn.AvgPool2d(k, stride, pad, ceil, draw(st.booleans()),
                              draw(st.sampled_from([None, None, 3])))
    else:
        module = nn.LPPool2d(draw(st.sampled_from([1.0, 2.0, 3.0])), k, stride, ceil)
    x = torch.randn(draw(small), draw(st.integers(1, 7)), draw(st.integers(1, 7)))
    if kind == "lp" and draw(st.booleans()):
        x = x.abs()
    try:
        out = module(x[None])
    except RuntimeError:
        assume(False)
    assume(out.numel() > 0)
    return module, x


@st.composite
def transposed_layers(draw: Any) -> tuple[nn.Module, torch.Tensor]:
    groups = draw(st.sampled_from([1, 1, 2]))
    kwargs = {"kernel_size": draw(pairs), "stride": draw(pairs), "padding": draw(st.integers(0, 2)),
              "output_padding": draw(st.integers(0, 1)), "dilation": draw(st.integers(1, 2)),
              "groups": groups, "bias": draw(st.booleans())}
    module = nn.ConvTranspose2d(groups * draw(small), groups * draw(small), **kwargs)
    x = torch.randn(module.in_channels, draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    try:
        out = module(x[None])
    except RuntimeError:
        assume(False)
    assume(out.numel() > 0)
    return module, x


def _agree(module: nn.Module, x: torch.Tensor, data: st.DataObject) -> None:
    with torch.no_grad():
        out = module(x[None])[0]
    position = data.draw(st.sampled_from(output_positions(tuple(out.shape))))
    step = step_at("under_test", module, x, position)
    expected = float(out[position])
    if math.isnan(expected):
        assert math.isnan(step.value)
        return
    assert step.value == pytest.approx(expected, rel=1e-4, abs=1e-4), step.to_json()
    if step.products is not None:
        assert step.kernel is not None and step.channel_sums is not None
        np.testing.assert_allclose(step.products, step.patch * step.kernel)
        np.testing.assert_allclose(step.channel_sums, step.products.sum(axis=(1, 2)))
        assert step.value == pytest.approx(float(step.channel_sums.sum()) + (step.bias or 0.0))
    assert step.patch.shape == step.padding.shape


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(conv_layers(), st.data())
def test_convolution_steps_equal_torch(layer: tuple[nn.Module, torch.Tensor],
                                       data: st.DataObject) -> None:
    _agree(*layer, data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(pool_layers(), st.data())
def test_pooling_steps_equal_torch(layer: tuple[nn.Module, torch.Tensor],
                                   data: st.DataObject) -> None:
    _agree(*layer, data)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(transposed_layers(), st.data())
def test_transposed_steps_equal_torch(layer: tuple[nn.Module, torch.Tensor],
                                      data: st.DataObject) -> None:
    _agree(*layer, data)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 2), st.integers(1, 3), pairs, pairs, st.booleans(), st.data())
def test_locally_connected_steps_equal_torch(c_in: int, c_out: int, k: Any, s: Any, bias: bool,
                                             data: st.DataObject) -> None:
    kh, kw = (k, k) if isinstance(k, int) else k
    size = (data.draw(st.integers(kh, 7)), data.draw(st.integers(kw, 7)))
    module = LocallyConnected2d(c_in, c_out, k, size, s, bias)
    _agree(module, torch.randn(c_in, *size), data)


def test_every_padding_mode_flags_and_fills_the_border() -> None:
    x = torch.arange(16.0).reshape(1, 4, 4)
    expected_corner = {"zeros": 0.0, "reflect": 5.0, "replicate": 0.0, "circular": 15.0}
    for mode, corner in expected_corner.items():
        conv = nn.Conv2d(1, 1, 3, padding=1, padding_mode=mode, bias=False)
        step = step_at("c", conv, x, (0, 0, 0))
        assert step.padding[0].tolist() == [[True] * 3, [True, False, False],
                                            [True, False, False]]
        assert step.patch[0, 0, 0] == corner, mode
        assert step.patch[0, 1, 1] == 0.0 and step.patch[0, 2, 2] == 5.0


def test_dilation_and_groups_are_visible() -> None:
    conv = nn.Conv2d(4, 2, 2, dilation=2, groups=2)
    x = torch.randn(4, 5, 5)
    step = step_at("c", conv, x, (1, 0, 0))
    assert step.in_channels == (2, 3)
    assert step.input_rows.tolist() == [[0, 0], [2, 2]]
    assert step.input_cols.tolist() == [[0, 2], [0, 2]]
    assert any("groups = 2" in note for note in step.notes)


def test_max_pool_names_the_chosen_cell_and_scatter_matches_trans_conv() -> None:
    x = torch.tensor([[[1.0, 5.0], [3.0, 2.0]]])
    step = step_at("p", nn.MaxPool2d(2), x, (0, 0, 0))
    assert step.value == 5.0 and step.chosen == (0, 0, 1) and step.kernel is None
    up = nn.ConvTranspose2d(1, 1, 2, bias=False)
    with torch.no_grad():
        up.weight.copy_(torch.tensor([[[[0.0, 1.0], [2.0, 3.0]]]]))
    x = torch.tensor([[[0.0, 1.0], [2.0, 3.0]]])
    total = np.zeros((3, 3))
    for r in range(2):
        for c in range(2):
            part = scatter_step(up, x, (0, r, c))
            total[np.ix_(part.rows, part.cols)] += part.contribution[0]
    assert total.tolist() == [[0, 0, 1], [0, 4, 6], [4, 12, 9]]


def test_wrong_layer_or_position_is_a_clear_error() -> None:
    with pytest.raises(StepError, match="outside the output 1×4×4"):
        step_at("c", nn.Conv2d(1, 1, 3, padding=1), torch.zeros(1, 4, 4), (0, 4, 0))
    with pytest.raises(StepError, match="ReLU"):
        step_at("r", nn.ReLU(), torch.zeros(1, 4, 4), (0, 0, 0))


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


def test_steps_on_a_trained_models_weights_equal_its_forward(trained_run: Path) -> None:
    from core.classroom.session import StepSession

    session = StepSession.from_paths(trained_run / "model.json", trained_run)
    assert "weights-best" in session.weights_note
    rng = np.random.default_rng(0)
    assert session.layers()
    for name in session.layers():
        out = session.output(name)
        for _ in range(20):
            position = tuple(int(rng.integers(0, n)) for n in out.shape)
            step = session.step(name, position)
            assert step.value == pytest.approx(float(out[position]), rel=1e-4, abs=1e-4)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(transposed_layers())
def test_scattering_every_input_value_rebuilds_the_output(
        layer: tuple[nn.Module, torch.Tensor]) -> None:
    from core.classroom.step import scatter_sum

    module, x = layer
    assert isinstance(module, nn.ConvTranspose2d)
    with torch.no_grad():
        out = module(x[None])[0]
    bias = 0 if module.bias is None else module.bias.detach()[:, None, None]
    total = scatter_sum(module, x, tuple(n - 1 for n in x.shape), tuple(out.shape))
    np.testing.assert_allclose(total, (out - bias).numpy(), rtol=1e-4, atol=1e-4)
