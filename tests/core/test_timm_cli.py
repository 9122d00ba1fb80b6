"""``convscope import timm:NAME`` and ``--list timm``: the model file (and weights) written, and
refusals in one line with exit 2 and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from core.model.spec import load_model
from core.weights import read_weights
from tests.core.cli_calls import one_line_error, run_cli

timm = pytest.importorskip("timm")


def test_list_timm_shows_cnn_families_and_not_transformers(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "import", "--list", "timm")
    assert code == 0
    names = {line.split()[0] for line in out.splitlines() if line.startswith("timm:")}
    assert {"timm:resnet18", "timm:efficientnet_b0", "timm:mobilenetv3_small_100"} <= names
    assert "timm:vit_tiny_patch16_224" not in names
    assert "convolutional families" in out.splitlines()[-1]


def test_list_of_an_unknown_source_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "import", "--list", "keras")
    assert "timm" in one_line_error(code, err)


def test_import_timm_writes_a_model_file_that_opens(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "new" / "effnet.json"
    code, out, _ = run_cli(capsys, "import", "timm:efficientnet_b0", "-o", str(out_file))
    assert code == 0 and "open it with: convscope" in out
    spec = load_model(out_file)
    assert spec.input_shape == (3, 224, 224) and spec.normalization is None
    assert not out_file.with_suffix(".safetensors").exists()


def test_import_timm_with_a_weights_file_writes_them_beside_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = timm.create_model("resnet18", pretrained=False)
    weights = tmp_path / "resnet18.safetensors"
    save_file(model.state_dict(), str(weights))
    out_file = tmp_path / "r18.json"
    code, out, _ = run_cli(capsys, "import", "timm:resnet18", "--weights", str(weights),
                        "-o", str(out_file))
    assert code == 0, out
    spec = load_model(out_file)
    assert spec.normalization is not None and spec.classes and spec.classes[1] == "goldfish"
    tensors = read_weights(out_file.with_suffix(".safetensors"))
    assert torch.equal(tensors["conv1.weight"], model.conv1.weight.detach())


@pytest.mark.parametrize(("source", "weights", "says"), [
    ("timm:vit_tiny_patch16_224", None, "convolutional networks"),
    ("timm:resnet81", None, "did you mean"),
    ("timm:vgg11", None, "cannot trace"),
    ("timm:resnet18", "missing.safetensors", "no such weights file"),
    ("timm:resnet18", "DEFAULT", "not in Hugging Face's cache"),
])
def test_refusals_are_one_line_and_write_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        source: str, weights: str | None, says: str) -> None:
    import huggingface_hub

    # as on a machine that never downloaded them, whatever this one's cache holds
    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda *a, **k: None)
    extra = ["--weights", str(tmp_path / weights) if weights != "DEFAULT" else weights] \
        if weights else []
    code, _, err = run_cli(capsys, "import", source, *extra, "-o", str(tmp_path / "x.json"))
    assert says in one_line_error(code, err)
    assert list(tmp_path.iterdir()) == []
