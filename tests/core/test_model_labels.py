"""Class names and input normalisation travel in the model file (issue 18): saved, reloaded,
checked on load, filled by the importers, and used by Inspect; old files load unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from core.model.errors import ModelError
from core.model.labels import Normalization, classes_fit
from core.model.spec import FORMAT, load_model, model_from_dict, save_model


def _model(**extra: Any) -> dict[str, Any]:
    return {"format": FORMAT, "name": "m", "input": {"shape": [3, 8, 8]},
            "layers": [{"type": "Flatten"}, {"type": "Linear", "out_features": 3}], **extra}


def test_old_files_load_unchanged_and_write_no_new_keys() -> None:
    spec = model_from_dict(_model())
    assert spec.classes == () and spec.normalization is None
    assert "classes" not in spec.to_dict() and "normalization" not in spec.to_dict()


def test_classes_and_normalization_round_trip(tmp_path: Path) -> None:
    data = _model(classes=["cat", "dog", "palace"],
                  normalization={"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]})
    spec = model_from_dict(data)
    save_model(spec, tmp_path / "m.json")
    again = load_model(tmp_path / "m.json")
    assert again == spec and again.classes == ("cat", "dog", "palace")
    assert again.normalization == Normalization((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    ranged = model_from_dict(_model(normalization={"mean": [0, 0, 0], "std": [1, 1, 1],
                                                   "range": [-1, 1]}))
    assert model_from_dict(ranged.to_dict()).normalization == ranged.normalization


@pytest.mark.parametrize(("extra", "words"), [
    ({"classes": "cat"}, "must be a list"),
    ({"classes": ["cat", 3]}, r"classes\[1\] must be a non-empty string"),
    ({"classes": [""]}, "non-empty"),
    ({"classes": ["x" * 201]}, "at most 200"),
    ({"classes": ["a\nb"]}, "control character"),
    ({"classes": ["c"] * 100_001}, "at most 100,000"),
    ({"normalization": [0.5]}, "must be an object"),
    ({"normalization": {"mean": [0.5] * 3}}, "needs both"),
    ({"normalization": {"mean": [0.5] * 2, "std": [1] * 2}}, "the input has 3 channels"),
    ({"normalization": {"mean": [0.5] * 3, "std": [1, 0, 1]}}, "positive"),
    ({"normalization": {"mean": [1e300] * 3, "std": [1] * 3}}, "finite number"),
    ({"normalization": {"mean": [10 ** 400] * 3, "std": [1] * 3}}, "too large|finite"),
    ({"normalization": {"mean": ["0"] * 3, "std": [1] * 3}}, "numbers only"),
    ({"normalization": {"mean": [True] * 3, "std": [1] * 3}}, "numbers only"),
    ({"normalization": {"mean": [0] * 3, "std": [1] * 3, "range": [1, 0]}}, "low < high"),
    ({"normalization": {"mean": [0] * 3, "std": [1] * 3, "gamma": 2}}, "unknown key"),
])
def test_hostile_values_are_refused_in_one_line(extra: dict[str, Any], words: str) -> None:
    with pytest.raises(ModelError, match=words) as refused:
        model_from_dict(_model(**extra))
    assert "\n" not in str(refused.value) and len(str(refused.value)) < 200


def test_nan_in_a_file_is_refused(tmp_path: Path) -> None:
    text = json.dumps(_model(normalization={"mean": [0, 0, 0], "std": [1, 1, 1]}))
    (tmp_path / "m.json").write_text(text.replace("[0, 0, 0]", "[NaN, 0, 0]"))
    with pytest.raises(ModelError, match="finite"):
        load_model(tmp_path / "m.json")


def test_classes_fit_counts_the_outputs() -> None:
    assert classes_fit(("a", "b", "c"), (3,)) is None
    assert classes_fit(("no", "yes"), (1,)) is None  # one logit: two classes
    assert "names 2 classes but the model gives 3" in str(classes_fit(("a", "b"), (3,)))
    assert classes_fit(("bg", "cat"), (2, 8, 8), "segmentation") is None


def test_inspect_names_the_outputs_with_the_files_classes() -> None:
    from core.inspect.inspector import Inspector

    spec = model_from_dict(_model(classes=["cat", "dog", "palace"]))
    assert Inspector(spec, attribution=False).classes == ["cat", "dog", "palace"]
    wrong = model_from_dict(_model(classes=["cat", "dog"]))  # a head replaced since
    assert Inspector(wrong, attribution=False).classes == ["0", "1", "2"]


def test_torchvision_weights_bring_imagenets_names_and_statistics(tmp_path: Path) -> None:
    import torchvision

    from core.io.fx_import import save_imported
    from core.io.torchvision_models import import_torchvision

    torch.save(torchvision.models.squeezenet1_1().state_dict(), tmp_path / "sq.pth")
    imported = import_torchvision("squeezenet1_1", weights=str(tmp_path / "sq.pth"))
    assert len(imported.spec.classes) == 1000 and imported.spec.classes[0] == "tench"
    assert imported.spec.normalization == Normalization((0.485, 0.456, 0.406),
                                                        (0.229, 0.224, 0.225))
    save_imported(imported, tmp_path / "sq.json")
    assert load_model(tmp_path / "sq.json").classes == imported.spec.classes
    assert import_torchvision("squeezenet1_1").spec.classes == ()  # random weights: no names


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_onnx_metadata_props_bring_names_and_statistics(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from torch import nn

    from core.io.onnx_import import import_onnx

    module = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 4 * 4, 3)).eval()
    path = tmp_path / "m.onnx"
    torch.onnx.export(module, (torch.zeros(1, 3, 6, 6),), str(path), dynamo=False)
    model = onnx.load(str(path))
    for key, value in (("labels", '["cat", "dog", "palace"]'), ("mean", "[0.5, 0.5, 0.5]"),
                       ("std", "[0.25, 0.25, 0.25]")):
        prop = model.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.save(model, str(path))
    imported = import_onnx(path)
    assert imported.spec.classes == ("cat", "dog", "palace")
    assert imported.spec.normalization == Normalization((0.5,) * 3, (0.25,) * 3)
    del model.metadata_props[:]
    prop = model.metadata_props.add()
    prop.key, prop.value = "classes", "cat,dog"  # two names for three outputs
    onnx.save(model, str(path))
    imported = import_onnx(path)
    assert imported.spec.classes == ()
    assert any("class names left out" in note for note in imported.notes)


def test_inspect_normalises_with_the_files_statistics() -> None:
    from core.inspect.inspector import Inspector

    spec = model_from_dict(_model(normalization={"mean": [0.5, 0.5, 0.5],
                                                 "std": [0.5, 0.5, 0.5]}))
    inspector = Inspector(spec, attribution=False)
    image = torch.full((3, 8, 8), 255, dtype=torch.uint8)  # white: 1.0 → (1 − 0.5) / 0.5 = 1
    prepared = inspector.prepare(image, "white")
    assert torch.allclose(prepared.tensor, torch.ones(1, 3, 8, 8))
    assert not any("no training run" in note for note in prepared.notes)
    ranged = model_from_dict(_model(normalization={"mean": [0, 0, 0], "std": [1, 1, 1],
                                                   "range": [-1, 1]}))
    prepared = Inspector(ranged, attribution=False).prepare(image, "white")
    assert torch.allclose(prepared.tensor, torch.ones(1, 3, 8, 8))  # 1.0 on 0…1 is 1 on −1…1
