"""Weight initialisation in the model file: statistics, round trip, export (issue 20 item 5)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from core.build import build_model
from core.io.pytorch_code import pytorch_source
from core.model.errors import ModelError
from core.model.initialisation import Initialisation
from core.model.spec import load_model, model_from_dict
from core.presets import load_preset


def _wide(init: dict[str, object] | None) -> dict[str, object]:
    model: dict[str, object] = {
        "format": "convscope.model/1", "name": "wide", "input": {"shape": [64]},
        "layers": [{"name": "fc1", "type": "Linear", "out_features": 256},
                   {"name": "relu", "type": "ReLU"},
                   {"name": "fc2", "type": "Linear", "out_features": 128}]}
    if init is not None:
        model["init"] = init
    return model


def test_glorot_uniform_fills_its_bound_and_he_normal_has_its_spread() -> None:
    torch.manual_seed(0)
    spec = model_from_dict(_wide({"weights": "glorot_uniform", "biases": "zeros",
                                  "layers": {"fc2": "he_normal"}}))
    net = build_model(spec)
    w1 = net.layers["fc1"].weight.detach()  # type: ignore[index]
    bound = math.sqrt(6 / (64 + 256))
    assert float(w1.abs().max()) <= bound + 1e-6 and float(w1.abs().max()) > 0.98 * bound
    assert float(w1.std()) == pytest.approx(bound / math.sqrt(3), rel=0.05)
    w2 = net.layers["fc2"].weight.detach()  # type: ignore[index]
    assert float(w2.std()) == pytest.approx(math.sqrt(2 / 256), rel=0.05)
    assert all(float(net.layers[n].bias.detach().abs().max()) == 0 for n in ("fc1", "fc2"))  # type: ignore[index]


def test_files_without_init_build_as_before() -> None:
    spec = model_from_dict(_wide(None))
    assert spec.init is None and "init" not in spec.to_dict()
    torch.manual_seed(3)
    a = build_model(spec).state_dict()
    torch.manual_seed(3)
    b = build_model(model_from_dict(_wide({"weights": "default"}))).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    bound = 1 / math.sqrt(64)  # torch's default for Linear: U(±1/sqrt(fan_in))
    assert float(a["layers.fc1.weight"].abs().max()) <= bound


def test_init_round_trips_through_the_model_file(tmp_path: Path) -> None:
    spec = load_preset("lenet5")
    from dataclasses import replace

    first_conv = next(layer.name for layer in spec.layers if layer.type == "Conv2d")
    spec = replace(spec, init=Initialisation("glorot_normal", "zeros", {first_conv: "he_uniform"}))
    path = tmp_path / "m.json"
    path.write_text(spec.to_json())
    again = load_model(path)
    assert again == spec and again.init is not None
    assert again.init.scheme_for(first_conv) == "he_uniform"


@pytest.mark.parametrize(("init", "message"), [
    ("glorot", "init must be an object"),
    ({"weights": "lecun"}, "init.weights must be one of"),
    ({"biases": "ones"}, "init.biases must be one of"),
    ({"layers": {"nope": "he_normal"}}, "not a layer of the model"),
    ({"layers": {"fc1": "xavier"}}, "init.layers.fc1 must be one of"),
    ({"weight": "he_normal"}, "init has no key 'weight'"),
])
def test_bad_init_is_one_clear_message(init: object, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        model_from_dict(_wide(init))  # type: ignore[arg-type]


def test_exported_code_initialises_like_the_build(tmp_path: Path) -> None:
    spec = model_from_dict(_wide({"weights": "glorot_uniform", "biases": "zeros",
                                  "layers": {"fc2": "he_normal"}}))
    source = pytorch_source(spec)
    assert "nn.init.xavier_uniform_(self.fc1.weight)" in source
    assert 'nn.init.kaiming_normal_(self.fc2.weight, nonlinearity="relu")' in source
    assert "nn.init.zeros_(self.fc1.bias)" in source
    file = str(tmp_path / "wide.py")
    namespace: dict[str, object] = {"__name__": "exported", "__file__": file}
    exec(compile(source, file, "exec"), namespace)
    net = namespace["model"](weights=False).requires_grad_(False)  # type: ignore[operator]
    bound = math.sqrt(6 / (64 + 256))
    assert float(net.fc1.weight.abs().max()) <= bound + 1e-6
    assert float(net.fc1.weight.std()) == pytest.approx(bound / math.sqrt(3), rel=0.05)
    assert float(net.fc2.weight.std()) == pytest.approx(math.sqrt(2 / 256), rel=0.05)
    assert float(net.fc2.bias.abs().max()) == 0
    assert "nn.init" not in pytorch_source(model_from_dict(_wide(None)))
    assert json.loads(spec.to_json())["init"]["layers"] == {"fc2": "he_normal"}


def test_editing_a_layers_initialiser_follows_rename_and_delete() -> None:
    from core.model import editing

    spec = load_preset("lenet5")
    first = spec.layers[0].name
    spec = editing.set_layer_init(spec, first, "he_normal")
    assert spec.init is not None and spec.init.scheme_for(first) == "he_normal"
    spec = editing.rename_layer(spec, first, "stem")
    assert spec.init is not None and spec.init.layers == {"stem": "he_normal"}
    with pytest.raises(ModelError, match="must be one of default, glorot_uniform"):
        editing.set_layer_init(spec, "stem", "lecun")
    spec = editing.remove_layers(spec, ["stem"])
    assert spec.init is not None and spec.init.layers == {}
