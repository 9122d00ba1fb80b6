"""``-o`` into a folder that does not exist: import, export and render create it (and say so);
a path through a file, or a refusal before writing, leaves nothing behind (issue 18)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torchvision

from core.model.spec import load_model
from tests.core.cli_calls import run_cli

# torch 2.9+ calls its TorchScript-based ONNX exporter and torch.jit deprecated; both still work
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")


def test_import_with_weights_creates_the_folders(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    torch.save(torchvision.models.squeezenet1_1().state_dict(), tmp_path / "sq.pth")
    target = tmp_path / "new" / "deeper" / "sq.json"
    code, out, err = run_cli(capsys, "import", "torchvision:squeezenet1_1", "--weights",
                          str(tmp_path / "sq.pth"), "-o", str(target))
    assert code == 0, err
    assert f"created the folder {tmp_path / 'new'}" in out
    assert load_model(target).name
    assert (target.parent / "sq.safetensors").is_file()


@pytest.mark.parametrize(("fmt", "suffix"), [("pytorch", ".py"), ("onnx", ".onnx"),
                                             ("torchscript", ".pt"), ("script", ".py")])
def test_export_creates_the_folders(fmt: str, suffix: str, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out" / "nested" / f"digits{suffix}"
    code, out, err = run_cli(capsys, "export", "digits_small", "--format", fmt, "-o", str(target))
    assert code == 0, err
    assert target.is_file()
    assert f"created the folder {tmp_path / 'out'}" in out


def test_a_refused_export_leaves_no_empty_folder(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out" / "digits.py"
    code, _, err = run_cli(capsys, "export", "digits_small", "--format", "pytorch", "-o",
                        str(target), "--weights", str(tmp_path / "missing.safetensors"))
    assert code == 2 and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["import", "export"])
def test_a_path_through_a_file_is_one_line(command: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("x")
    if command == "import":
        argv = ["import", "torchvision:squeezenet1_1", "-o", str(tmp_path / "file" / "m.json")]
    else:
        argv = ["export", "digits_small", "--format", "onnx", "-o",
                str(tmp_path / "file" / "m.onnx")]
    code, _, err = run_cli(capsys, *argv)
    assert code == 2
    assert err.startswith("convscope: ") and err.count("\n") == 1, err


def test_render_creates_the_folders_too(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "pictures" / "filters.png"
    code, _, err = run_cli(capsys, "render", "filters", "digits_small", "--layer", "conv1", "-o",
                        str(target))
    assert code == 0, err
    assert target.is_file()


def test_a_render_that_fails_midway_keeps_the_picture_already_there(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Rendering over last week's picture: a failure while writing (disk full, Ctrl+C) must not
    leave a truncated PNG in its place."""
    from matplotlib.figure import Figure

    target = tmp_path / "filters.png"
    code, _, err = run_cli(capsys, "render", "filters", "digits_small", "--layer", "conv1", "-o",
                        str(target))
    assert code == 0, err
    before = target.read_bytes()
    real = Figure.savefig

    def half_written(self: Figure, fname: str, **kwargs: object) -> None:
        real(self, fname, **kwargs)
        with open(fname, "r+b") as handle:
            handle.truncate(100)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", half_written)
    code, _, err = run_cli(capsys, "render", "filters", "digits_small", "--layer", "conv2", "-o",
                        str(target))
    assert code != 0 and "No space left on device" in err, err
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["filters.png"]
