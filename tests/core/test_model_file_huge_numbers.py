"""Model files with absurd numbers: one ModelError line each, never an OverflowError or a
MemoryError from the analysis, the summary table or the explanations (issue 18)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.analysis.explain import explain_layer
from core.analysis.model_analysis import analyze_model
from core.analysis.summary import format_markdown, format_table, summary_dict
from core.cli import main
from core.model.errors import MAX_COUNT, ModelError, count_text
from core.model.spec import FORMAT, load_model, model_from_dict

BIG = 10**300


def _model(shape: list[Any], *layers: dict[str, Any]) -> dict[str, Any]:
    return {"format": FORMAT, "name": "huge", "input": {"shape": shape}, "layers": list(layers)}


CONV = {"type": "Conv2d", "out_channels": 8, "kernel_size": 3}
REFUSED_AT_LOAD = {
    "a 10**300 input": _model([BIG], {"type": "Linear", "out_features": 10}),
    "a 10**300 image": _model([3, BIG, BIG], CONV, {"type": "Flatten"},
                              {"type": "Linear", "out_features": 10}),
    "10**300 channels": _model([BIG, 4, 4], {"type": "BatchNorm2d"}),
    "an input of 2^63 values": _model([2, 1 << 62]),
    "a transposed convolution on a 10**300 image": _model(
        [3, BIG, BIG], {"type": "ConvTranspose2d", "out_channels": 4, "kernel_size": 3,
                        "stride": 2}),
}
REFUSED_AT_A_LAYER = {
    "an Upsample chain that overflows a float": (
        _model([3, 1000, 1000], *[{"type": "Upsample", "scale_factor": 1024}] * 120),
        "upsample3"),
    "a Linear too large for a float": (
        _model([1 << 40], {"type": "Linear", "out_features": 1 << 30}), "fc1"),
    "a locally connected layer with 2^63 parameters": (
        _model([65536, 4096, 4096], {"type": "LocallyConnected2d", "out_channels": 65536,
                                      "kernel_size": 16}), "locallyconnected2d1"),
    "convolutions with more than 2^63 multiply-accumulates": (
        _model([65536, 1 << 20, 1 << 20], {"type": "Conv2d", "out_channels": 65536,
                                            "kernel_size": 1}), "conv1"),
}


def _every_view(data: dict[str, Any]) -> None:
    """Everything that reads an analysis: none of it may raise."""
    analysis = analyze_model(model_from_dict(data))
    format_table(analysis)
    format_markdown(analysis)
    json.dumps(summary_dict(analysis))
    for layer in analysis.layers:
        explain_layer(layer)


@pytest.mark.parametrize("case", sorted(REFUSED_AT_LOAD))
def test_a_huge_input_is_one_model_error(case: str) -> None:
    with pytest.raises(ModelError, match="too large to analyse") as caught:
        model_from_dict(REFUSED_AT_LOAD[case])
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 200


@pytest.mark.parametrize("case", sorted(REFUSED_AT_A_LAYER))
def test_a_layer_too_large_to_analyse_is_named(case: str) -> None:
    data, layer = REFUSED_AT_A_LAYER[case]
    analysis = analyze_model(model_from_dict(data))
    assert analysis.error is not None and analysis.error.layer == layer
    assert "too large to analyse" in str(analysis.error) and len(str(analysis.error)) < 200
    _every_view(data)


def test_the_largest_analysable_numbers_still_analyse_and_print() -> None:
    data = _model([3, 1 << 20, 1 << 20], {"type": "Conv2d", "out_channels": 4096,
                                           "kernel_size": 1})
    analysis = analyze_model(model_from_dict(data))
    assert analysis.ok and analysis.total_macs <= MAX_COUNT
    _every_view(data)


def test_a_deep_stack_of_large_strides_has_no_receptive_field_instead_of_inf() -> None:
    layer = {"type": "Conv2d", "out_channels": 1, "kernel_size": 1, "stride": 1024,
             "padding": 512}
    data = _model([1, 2, 2], *[layer] * 150)
    analysis = analyze_model(model_from_dict(data))
    assert analysis.ok
    assert analysis.layers[0].receptive_field is not None
    assert analysis.layers[-1].receptive_field is None
    assert "inf" not in format_table(analysis) and "nan" not in format_table(analysis)
    _every_view(data)


def test_counts_in_messages_stay_short() -> None:
    assert count_text(12_345) == "12,345"
    assert count_text(10**300) == "about 10^300"
    assert count_text(10**20000) == "about 10^20000"


@pytest.mark.parametrize("text", [
    '{"format": "convscope.model/1", "name": "h", "input": {"shape": [3, ' + "9" * 5000
    + ', 4]}, "layers": []}',
    json.dumps(_model([3, BIG, BIG], CONV)),
    json.dumps(_model([3, 1000, 1000], *[{"type": "Upsample", "scale_factor": 1024}] * 120)),
    json.dumps(_model([1e300])),
])
def test_the_command_line_says_one_line_and_exits_2(
        text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "huge.json"
    path.write_text(text)
    for command in (["summary", str(path)], ["summary", str(path), "--json"]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert err.startswith("convscope: ") and err.count("\n") == 1, err
    with pytest.raises(ModelError):
        analyze_model(load_model(path)).raise_error()
