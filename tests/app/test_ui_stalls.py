"""The window's first uses never stall the UI thread, even before torch is loaded.

A fresh process (tests/app/cold_start_child.py) clicks the Train tab, presses Start, opens the
Import dialog, imports a model and exports it, as soon as the window shows: the warm-up is
still importing torch on its worker. Nothing may import torch, torchvision, sklearn or scipy
on the UI thread; the UI watchdog (250 ms, more under load: tests/app/ui_watchdog.py) sees no
stall outside the marked first import, which shows a busy cursor and a status line; each
first click or dialog paints at once and Import OK closes the dialog as soon as the import reports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAINT_CEILING_MS = float(os.environ.get("CONVSCOPE_UI_PAINT_CEILING_MS", 1000))
"""Target 100 ms; the ceiling is generous for a loaded 2-core machine (the old code took
4.5–8 s for the Train tab and 60 s to close the Import dialog)."""


@pytest.fixture(scope="module", params=["train-first", "import-first"])
def cold_start(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One fresh process per order: the Train tab clicked first, or File → Import."""
    out = tmp_path_factory.mktemp("cold") / "result.json"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT),
           "CONVSCOPE_HOME": str(out.parent / "home")}
    result = subprocess.run([sys.executable, "-m", "tests.app.cold_start_child", str(out),
                             request.param],
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=600,
                            check=False)
    crash = result.stderr.find("Fatal Python error")
    assert result.returncode == 0, result.stderr[crash:crash + 6000] if crash >= 0 else \
        result.stderr[-4000:]
    return json.loads(out.read_text())


@pytest.mark.allow_ui_stalls  # measured in the child process
def test_nothing_heavy_is_imported_on_the_ui_thread(cold_start: dict) -> None:
    assert cold_start["ui_thread_imports"] == [], cold_start["ui_thread_imports"][0]


@pytest.mark.allow_ui_stalls
def test_the_ui_thread_never_stalls_outside_the_marked_first_import(cold_start: dict) -> None:
    assert cold_start["stalls"] == [], cold_start["stalls"][0]


@pytest.mark.allow_ui_stalls
def test_the_first_import_shows_a_busy_cursor_and_a_status_line(cold_start: dict) -> None:
    from app.warm_up import STATUS

    seen = cold_start["busy_seen"]
    assert seen, "the warm-up had ended before the first click: nothing to check"
    assert all(busy and status == STATUS for busy, status in seen), seen


@pytest.mark.allow_ui_stalls
@pytest.mark.parametrize("step", ["first Train-tab click → painted",
                                  "Import dialog opened → painted, filled"])
def test_first_clicks_and_dialogs_paint_at_once(cold_start: dict, step: str) -> None:
    assert cold_start["steps"][step]["ms"] < PAINT_CEILING_MS, cold_start["steps"][step]


@pytest.mark.allow_ui_stalls
def test_start_before_torch_is_loaded_trains_once_it_is(cold_start: dict) -> None:
    start = cold_start["steps"]["pressing Start → run finished"]
    assert start["finished"] == "Finished" and start["click_ms"] < PAINT_CEILING_MS, start


@pytest.mark.allow_ui_stalls
def test_import_ok_closes_the_dialog_when_the_import_reports(cold_start: dict) -> None:
    step = cold_start["steps"]["Import OK → dialog closed"]
    assert step["opened"] == "squeezenet1_1", step
    assert step["after_report_ms"] is not None and step["after_report_ms"] < 300, step
