"""``convscope render diagram``: the builder's layered diagram as SVG or PNG, without Qt; bad
input refused with one clear line and nothing written (issue 19)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from core.analysis import graph_layout
from core.cli import main
from core.presets import load_preset


def test_writes_an_svg_with_a_block_per_layer_and_a_png(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    svg = tmp_path / "resnet18.svg"
    assert main(["render", "diagram", "resnet18", "--direction", "down", "-o", str(svg)]) == 0
    assert capsys.readouterr().out.strip() == str(svg)
    root = ET.parse(svg).getroot()  # well-formed XML
    assert root.tag.endswith("svg")
    text = svg.read_text(encoding="utf-8")
    assert "layer2_0_downsample" in text and "64×56×56" in text
    png = tmp_path / "resnet18.png"
    assert main(["render", "diagram", "resnet18", "-o", str(png)]) == 0
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert width > 3 * height  # flowing right: long and low
    down = tmp_path / "down.png"
    assert main(["render", "diagram", "resnet18", "--direction", "down", "-o", str(down)]) == 0
    data = down.read_bytes()
    assert int.from_bytes(data[20:24], "big") > 3 * int.from_bytes(data[16:20], "big")


def test_the_picture_has_the_windows_layout(tmp_path: Path) -> None:
    """The file draws the same ranks and lanes as the builder (one layout module)."""
    from core.inspect.render_diagram import diagram_figure

    spec = load_preset("unet_small")
    fig, width, height = diagram_figure(spec, "right")
    layout = graph_layout.layered_layout(spec)
    blocks = [p for p in fig.axes[0].patches if type(p).__name__ == "Rectangle"]
    assert len(blocks) == len(spec.layers) + 1
    lanes = {round(b.get_y() + b.get_height() / 2) for b in blocks}
    assert len(lanes) == len(set(layout.lanes))  # the U-Net's skips in lanes of their own
    assert width > 0 and height > 0


@pytest.mark.parametrize(("args", "message"), [
    (["resnet18", "-o", "{tmp}/d.jpg"], "use a name ending in .svg or .png"),
    (["resnet18", "-o", "{tmp}"], "is a folder"),
    (["resnet18", "-o", "{tmp}/missing/d.svg"], "does not exist"),
    (["{tmp}/none.json", "-o", "{tmp}/d.svg"], "no such file"),
    (["{tmp}/bad.json", "-o", "{tmp}/d.svg"], "not a ConvScope model file"),
    (["no_such_preset", "-o", "{tmp}/d.svg"], "no preset"),
])
def test_bad_input_is_refused_with_one_line_and_nothing_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
        message: str) -> None:
    (tmp_path / "bad.json").write_text('{"layers": 3}', encoding="utf-8")
    before = sorted(tmp_path.iterdir())
    code = main(["render", "diagram", *(a.format(tmp=tmp_path) for a in args)])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert sorted(tmp_path.iterdir()) == before


def test_a_bad_direction_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["render", "diagram", "resnet18", "--direction", "up", "-o",
              str(tmp_path / "d.svg")])
    assert exit_info.value.code == 2
    assert "down" in capsys.readouterr().err and not (tmp_path / "d.svg").exists()
