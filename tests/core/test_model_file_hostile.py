"""Hostile model files: every malformed value is one ModelError with a readable one-line message,
and loading is linear in the number of layers (default names do not restart at 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.analysis.model_analysis import analyze_model
from core.model.errors import ModelError, quote
from core.model.spec import FORMAT, load_model, model_from_dict


def model(*layers: dict[str, Any], **top: Any) -> dict[str, Any]:
    data = {"format": FORMAT, "name": "m", "input": {"shape": [1, 8, 8]}, "layers": list(layers)}
    data.update(top)
    return data


@pytest.mark.parametrize("tag", ["convscope.model/" + "9" * 5000, "convscope.model/-1",
                                 "convscope.model/0", "convscope.model/01",
                                 "convscope.model/1.0", "convscope.model/١",
                                 "convscope.model/1\n"])
def test_malformed_format_versions_are_model_errors(tag: str) -> None:
    with pytest.raises(ModelError, match="not a ConvScope format") as info:
        model_from_dict(model(format=tag))
    assert len(str(info.value)) < 300
    assert "\n" not in str(info.value)


def test_a_newer_version_says_update() -> None:
    with pytest.raises(ModelError, match="newer than this ConvScope reads"):
        model_from_dict(model(format="convscope.model/2"))


def test_a_5000_digit_version_in_a_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps(model(format="convscope.model/" + "7" * 5000)))
    with pytest.raises(ModelError) as info:
        load_model(path)
    assert len(str(info.value)) < 300


@pytest.mark.parametrize("value", [10 ** 4000, "x" * 100_000, [10 ** 4000, 1], {"a": 1},
                                   [[[[1]]]], 1e308, -(10 ** 30)])
def test_bad_values_are_quoted_cut_to_a_readable_length(value: Any) -> None:
    spec = model_from_dict(model({"type": "Conv2d", "out_channels": 4, "kernel_size": value}))
    analysis = analyze_model(spec)
    assert analysis.error is not None
    message = str(analysis.error)
    assert "kernel_size" in message
    assert len(message) < 400, message
    assert "\n" not in message


@pytest.mark.parametrize("raw", [
    {"type": "x" * 100_000}, {"type": "ReLU", "name": "n" * 100_000},
    {"type": "ReLU", "k" * 100_000: 1}, {"type": "ReLU", "trainable": "x" * 100_000},
    {"type": "ReLU", "inputs": ["z" * 100_000]}, {"type": 10 ** 5000},
])
def test_long_bad_values_in_a_layer_are_cut(raw: dict[str, Any]) -> None:
    with pytest.raises(ModelError) as info:
        model_from_dict(model({"type": "ReLU"}, raw))
    assert len(str(info.value)) < 400


def test_quote_never_raises_and_stays_short() -> None:
    assert quote(10 ** 5000) == "a number of about 5001 digits"
    assert quote("abc") == '"abc"'
    assert quote([1, 2]) == "[1, 2]"
    cut = quote("y" * 1000)
    assert cut.endswith("(1,002 characters)") and len(cut) < 90
    assert quote([10 ** 5000]) == "list"


def test_default_names_count_up_per_type_and_skip_taken_names() -> None:
    spec = model_from_dict(model({"type": "ReLU"}, {"type": "ReLU", "name": "relu2"},
                                 {"type": "ReLU"}, {"type": "Conv2d", "out_channels": 2,
                                                    "kernel_size": 1}, {"type": "ReLU"}))
    assert [layer.name for layer in spec.layers] == ["relu1", "relu2", "relu3", "conv1", "relu4"]


def test_many_unnamed_layers_load_with_unique_names(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text(json.dumps(model(*[{"type": "ReLU"}] * 20_000)))
    spec = load_model(path)
    names = [layer.name for layer in spec.layers]
    assert len(set(names)) == 20_000 and names[-1] == "relu20000"


def test_a_safetensors_file_with_a_huge_header_is_refused(tmp_path: Path) -> None:
    import struct

    from core.model.errors import ModelError
    from core.weights import read_weights

    table = json.dumps({"__metadata__": {"note": "x" * (20 << 20)},
                        "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    (tmp_path / "fat.safetensors").write_bytes(struct.pack("<Q", len(table)) + table + b"\0" * 4)
    (tmp_path / "liar.safetensors").write_bytes(struct.pack("<Q", 1 << 40) + b"{}")
    (tmp_path / "tiny.safetensors").write_bytes(b"\1\0")
    for name, words in (("fat", "header claims"), ("liar", "header claims"),
                        ("tiny", "only 2 bytes")):
        with pytest.raises(ModelError, match=words):
            read_weights(tmp_path / f"{name}.safetensors")


def test_an_unknown_key_in_the_input_is_refused_like_any_other() -> None:
    with pytest.raises(ModelError, match='unknown key "extra" in the input'):
        model_from_dict({"format": FORMAT, "name": "m",
                         "input": {"shape": [1, 8, 8], "extra": 1}, "layers": []})
