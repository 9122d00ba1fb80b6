"""timm's parameter counts for the Import dialog: counted on the meta device, kept on disk per
timm version, a damaged cache ignored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.io import timm_counts

timm = pytest.importorskip("timm")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CONVSCOPE_HOME", str(tmp_path))
    monkeypatch.setattr(timm_counts, "_MEMORY", {})
    return tmp_path


def test_counts_are_timms_own_and_kept_on_disk_for_the_next_dialog(home: Path) -> None:
    names = ("resnet10t", "mobilenetv3_small_050")
    got = dict(timm_counts.counts(names))
    for name in names:
        assert got[name] == sum(p.numel() for p in timm.create_model(name).parameters())
    stored = json.loads((home / timm_counts.CACHE_NAME).read_text())
    assert stored == {timm.__version__: got}
    timm_counts._MEMORY.clear()  # a new process: the file answers, no model is built
    assert timm_counts.known_counts() == got


def test_a_count_timm_cannot_build_is_left_out_and_the_rest_still_come(home: Path) -> None:
    got = list(timm_counts.counts(("vit_tiny_patch16_224", "resnet10t")))
    assert [name for name, _ in got] == ["resnet10t"]  # a transformer is refused, not counted


@pytest.mark.parametrize("content", [
    b"\x00\xffnot json", b"[1, 2]", b'{"%s": {"resnet10t": -5, "x": true, "y": "12"}}',
])
def test_a_damaged_cache_is_ignored_and_rewritten(home: Path, content: bytes) -> None:
    (home / timm_counts.CACHE_NAME).write_bytes(content.replace(b"%s",
                                                                timm.__version__.encode()))
    assert timm_counts.known_counts() == {}
    got = dict(timm_counts.counts(("resnet10t",)))
    assert got["resnet10t"] > 0
    assert json.loads((home / timm_counts.CACHE_NAME).read_text()) == {timm.__version__: got}


def test_counts_of_another_timm_version_are_not_used(home: Path) -> None:
    (home / timm_counts.CACHE_NAME).write_text(json.dumps({"0.0.1": {"resnet10t": 7}}))
    assert timm_counts.known_counts() == {}
