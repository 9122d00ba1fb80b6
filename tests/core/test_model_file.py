"""The model file: parsing, clear errors naming the layer, round trips, version-1 fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.analysis.model_analysis import analyze_model
from core.model.errors import LayerError, ModelError
from core.model.spec import FORMAT, load_model, model_from_dict, save_model

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "v1"


def model(*layers: dict[str, Any], shape: list[int] | None = None) -> dict[str, Any]:
    return {"format": FORMAT, "name": "m", "input": {"shape": shape or [1, 28, 28]},
            "layers": list(layers)}


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.name)
def test_version_1_files_stay_readable(path: Path) -> None:
    spec = load_model(path)
    analysis = analyze_model(spec)
    assert analysis.ok, analysis.error
    assert model_from_dict(json.loads(spec.to_json())) == spec


def test_fixture_names_are_generated_and_connections_resolved() -> None:
    spec = load_model(FIXTURES / "skip_connections.json")
    names = [layer.name for layer in spec.layers]
    assert names == ["conv1", "stem", "conv2", "bn1", "add1", "branch", "concat1", "gap1",
                     "flatten1", "fc1"]
    analysis = analyze_model(spec)
    assert analysis.get("concat1").output_shape == (12, 16, 16)
    assert analysis.get("conv1").trainable_params == 0
    assert analysis.non_trainable_params == 8 * 3 * 9 + 8


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    spec = load_model(FIXTURES / "skip_connections.json")
    target = tmp_path / "copy.json"
    save_model(spec, target)
    assert load_model(target) == spec
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ([{"type": "Conv3x3"}], 'layer #1: unknown layer type "Conv3x3"'),
        ([{"type": "conv2d"}], 'did you mean "Conv2d"'),
        ([{"name": "c", "type": "Conv2d", "out_channels": 4, "kernal_size": 3}],
         'layer c: Conv2d has no setting "kernal_size" (did you mean "kernel_size"?)'),
        ([{"type": "ReLU", "name": "a"}, {"type": "ReLU", "name": "a"}],
         "layer a: this name is used by an earlier layer"),
        ([{"type": "ReLU", "name": "a", "inputs": ["b"]}, {"type": "ReLU", "name": "b"}],
         'layer a: inputs names "b", which is a later layer'),
        ([{"type": "ReLU", "name": "a", "inputs": ["zzz"]}], 'inputs names "zzz", which is no'),
        ([{"type": "Add", "name": "a"}], "layer a: Add merges two or more layers"),
        ([{"type": "ReLU"}, {"type": "ReLU", "inputs": ["relu1", "input"]}],
         "ReLU reads one layer, but inputs lists 2"),
        ([{"type": "ReLU", "name": "has.dot"}], "is not allowed"),
        ([{"type": "ReLU", "name": "input"}], "reserved"),
        ([{"type": "ReLU", "trainable": "no"}], "trainable must be true or false"),
        ([{"type": "ReLU", "inputs": "relu0"}], "inputs must be a list"),
        (["ReLU"], "each layer must be an object"),
        ([{"kernel_size": 3}], 'has no "type"'),
    ],
)
def test_structural_errors_name_the_layer(layers: list[Any], message: str) -> None:
    with pytest.raises(LayerError) as caught:
        model_from_dict(model(*layers))
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must hold a JSON object"),
        ({"input": {"shape": [1]}}, 'needs "format": "convscope.model/1"'),
        ({"format": "convscope.model/9", "input": {"shape": [1]}}, "newer than this ConvScope"),
        ({"format": FORMAT, "input": {"shape": [0, 4, 4]}}, "positive whole numbers"),
        ({"format": FORMAT, "input": [1, 4, 4]}, "the input must be"),
        ({"format": FORMAT, "input": {"shape": [1]}, "task": "regression"}, "task must be"),
        ({"format": FORMAT, "input": {"shape": [1]}, "colour": 1}, 'unknown key "colour"'),
        ({"format": FORMAT, "input": {"shape": [1]}, "layers": {}}, "layers must be a list"),
    ],
)
def test_model_level_errors(data: Any, message: str) -> None:
    with pytest.raises(ModelError, match=message.replace("(", r"\(")):
        model_from_dict(data)


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ({"type": "Conv2d", "kernel_size": 3}, "Conv2d needs out_channels"),
        ({"type": "Conv2d", "out_channels": 8, "kernel_size": "3"},
         'kernel_size must be a whole number from 1 to 1024 or a list of 2 of them, got "3"'),
        ({"type": "Conv2d", "out_channels": 8, "kernel_size": [3, 3, 3]}, "a list of 2"),
        ({"type": "Conv2d", "out_channels": 8, "kernel_size": 0}, "got 0"),
        ({"type": "Conv2d", "out_channels": 8.5, "kernel_size": 3}, "out_channels must be"),
        ({"type": "Conv2d", "out_channels": True, "kernel_size": 3}, "got true"),
        ({"type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding": "full"},
         'or "same" or "valid"'),
        ({"type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding_mode": "wrap"},
         'one of "zeros", "reflect", "replicate", "circular"'),
        ({"type": "Dropout", "p": 1.5}, "p must be a number from 0 to 1, got 1.5"),
        ({"type": "Dropout", "p": float("nan")}, "p must be"),
    ],
)
def test_bad_values_are_reported_on_the_layer_by_the_analysis(layer: dict[str, Any],
                                                              message: str) -> None:
    spec = model_from_dict(model({"type": "ReLU", "name": "before"}, {"name": "bad", **layer},
                                 {"type": "ReLU", "name": "after"}))
    analysis = analyze_model(spec)
    assert analysis.error is not None
    assert analysis.error.layer == "bad"
    assert message in analysis.error.reason
    assert [layer.name for layer in analysis.layers] == ["before"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON (line 1, column 2"),
        ("\udcff", "cannot be read"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    with pytest.raises(ModelError, match=message.replace("(", r"\(")):
        load_model(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such file"):
        load_model(tmp_path / "nope.json")
    with pytest.raises(ModelError, match="is a folder"):
        load_model(tmp_path)


def test_names_torch_reserves_are_refused_and_the_list_is_complete() -> None:
    from torch import nn

    from core.model.spec import RESERVED_NAMES

    public = {n for n in dir(nn.ModuleDict()) if not n.startswith("_")}
    assert public <= RESERVED_NAMES
    with pytest.raises(LayerError, match='"training" is reserved by PyTorch'):
        model_from_dict(model({"type": "ReLU", "name": "training"}))
    with pytest.raises(LayerError, match="starting with a letter"):
        model_from_dict(model({"type": "ReLU", "name": "_modules"}))


def test_byte_order_mark_and_odd_format_tags(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_text(json.dumps(model({"type": "ReLU"})), encoding="utf-8-sig")
    assert load_model(path).layers[0].type == "ReLU"
    with pytest.raises(ModelError, match="not a ConvScope format"):
        model_from_dict({**model(), "format": "convscope.model/²"})
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ModelError):
        load_model(deep)


def test_connection_problems_open_leniently_and_show_on_the_layer(tmp_path: Path) -> None:
    data = model({"type": "Conv2d", "name": "a", "out_channels": 2, "kernel_size": 3},
                 {"type": "Add", "name": "sum"})
    with pytest.raises(LayerError, match="Add merges two or more layers"):
        model_from_dict(data)
    spec = model_from_dict(data, strict=False)
    analysis = analyze_model(spec)
    assert analysis.error is not None and analysis.error.layer == "sum"
    assert [layer.name for layer in analysis.layers] == ["a"]
