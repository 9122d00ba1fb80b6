"""Hypothesis mutates what ConvScope reads — model files, run folders, autosaves, weights — and
every outcome is a success or the one error type with one line; never a traceback, and a refused
resume leaves the run folder byte-identical. A bounded number of examples keeps it quick."""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.analysis.model_analysis import analyze_model
from core.build import build_model
from core.data.datasets import Dataset
from core.model.errors import ModelError
from core.model.spec import load_model, model_from_dict
from core.presets import load_preset
from core.train import checkpoint as ckpt
from core.train.engine import train
from core.train.settings import Failed, Started
from core.weights import load_weights, save_weights
from core.workspace import Autosave
from tests.core.run_folder_helpers import TINY, TINY_MODEL, folder_bytes, train_tiny

# its module-scoped fixture trains: the module runs on one xdist worker, which trains once
pytestmark = pytest.mark.xdist_group("test_mutations")

FEW = settings(max_examples=60, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.function_scoped_fixture,
                                      HealthCheck.too_slow])

HOSTILE = st.one_of(
    st.none(), st.booleans(), st.integers(), st.sampled_from([0, -1, 10**30, -(10**400), 2**63]),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.sampled_from(["x" * 5000, "", "1e400", "convscope.model/" + "9" * 5000, "relu"]),
    st.lists(st.integers(-3, 5), max_size=4), st.dictionaries(st.text(max_size=3),
                                                              st.integers(), max_size=2),
    st.lists(st.lists(st.integers(), max_size=2), max_size=2),
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value: keys of objects and indexes of lists (depth first)."""
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data[:6]):
            found += _paths(value, (*prefix, index))
    return found


def _mutate(data: Any, draw: Any) -> Any:
    data = copy.deepcopy(data)
    path = draw(st.sampled_from(_paths(data)))
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
    if action == "delete" and isinstance(parent, dict):
        del parent[path[-1]]
    elif action == "add" and isinstance(parent, dict):
        parent[draw(st.text(min_size=1, max_size=8))] = draw(HOSTILE)
    else:
        parent[path[-1]] = draw(HOSTILE)
    return data


MODELS = [load_preset(k).to_dict() for k in ("keras_mnist", "resnet18", "unet_small")]


def _one_line(message: str) -> None:
    assert message and "\n" not in message and "Traceback" not in message
    assert len(message) < 600, message[:200]


@FEW
@given(data=st.data())
def test_mutated_model_files_load_or_fail_with_one_model_error(data: st.DataObject) -> None:
    mutated = _mutate(data.draw(st.sampled_from(MODELS)), data.draw)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.json"
        try:
            path.write_text(json.dumps(mutated))
        except ValueError:  # an int too long for JSON text: the file cannot exist
            return
        try:
            spec = load_model(path, strict=data.draw(st.booleans()))
        except ModelError as exc:
            _one_line(str(exc))
            return
    analysis = analyze_model(spec)
    if analysis.error is not None:
        _one_line(str(analysis.error))
    elif analysis.total_params < 200_000:
        build_model(spec, analysis)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory, digits: Dataset) -> Path:
    return train_tiny(digits, tmp_path_factory.mktemp("mutation-runs"))


def _first_event(run: Path, data: Dataset) -> object:
    """Resume up to the first event: everything is read and checked by then, nothing written."""
    events = train(model_from_dict(TINY_MODEL), data, TINY.__class__(
        **{**TINY.to_dict(), "epochs": 3, "augmentation": TINY.augmentation}),
        run.parent, resume=run)
    first = next(events)
    events.close()
    return first


@FEW
@given(data=st.data())
def test_mutated_run_folders_resume_or_are_refused_in_one_line_unchanged(
        data: st.DataObject, tiny_run: Path, digits: Dataset) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(shutil.copytree(tiny_run, Path(tmp) / "run"))
        kind = data.draw(st.sampled_from(["json", "json", "json", "truncate", "swap", "bytes"]))
        if kind == "json":
            meta = json.loads((run / ckpt.META).read_text())
            try:
                (run / ckpt.META).write_text(json.dumps(_mutate(meta, data.draw)))
            except ValueError:
                return
        elif kind == "truncate":
            name = data.draw(st.sampled_from([ckpt.LAST, ckpt.BEST, ckpt.OPTIMIZER, ckpt.META,
                                              "model.json"]))
            raw = (run / name).read_bytes()
            (run / name).write_bytes(raw[:data.draw(st.integers(0, len(raw) - 1))])
        elif kind == "swap":
            a, b = data.draw(st.permutations([ckpt.LAST, ckpt.BEST, ckpt.OPTIMIZER]))[:2]
            raw_a, raw_b = (run / a).read_bytes(), (run / b).read_bytes()
            (run / a).write_bytes(raw_b)
            (run / b).write_bytes(raw_a)
        else:
            name = data.draw(st.sampled_from([ckpt.LAST, ckpt.OPTIMIZER]))
            raw = bytearray((run / name).read_bytes())
            at = data.draw(st.integers(0, min(len(raw) - 1, 200)))
            raw[at] = (raw[at] + data.draw(st.integers(1, 255))) % 256
            (run / name).write_bytes(bytes(raw))
        before = folder_bytes(run)
        first = _first_event(run, digits)
        assert isinstance(first, Started | Failed)
        if isinstance(first, Failed):
            _one_line(first.message)
            assert folder_bytes(run) == before


VALID_AUTOSAVE = {"saved_at": 1_700_000_000.0, "source": None,
                  "model": load_preset("keras_mnist").to_dict()}


@FEW
@given(data=st.data())
def test_mutated_autosaves_are_offered_or_set_aside_never_raised(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if data.draw(st.booleans()):
            content = _mutate(VALID_AUTOSAVE, data.draw)
        else:
            content = data.draw(HOSTILE)
        try:
            text = json.dumps(content)
        except ValueError:
            return
        if data.draw(st.booleans()):
            text = text[:data.draw(st.integers(0, len(text)))]
        (folder / "session-1-1.json").write_text(text)
        autosave = Autosave(folder)
        found = autosave.pending()
        assert len(found) + len(autosave.set_aside) == 1
        for line in autosave.set_aside:
            _one_line(line)
        for recovery in found:
            recovery.remove()
        autosave.close()


@FEW
@given(data=st.data())
def test_mutated_weights_load_or_fail_with_one_model_error(data: st.DataObject,
                                                           tmp_path: Path) -> None:
    spec = model_from_dict(TINY_MODEL)
    model = build_model(spec)
    suffix = data.draw(st.sampled_from([".safetensors", ".pt"]))
    path = tmp_path / f"w{suffix}"
    if suffix == ".safetensors":
        save_weights(model, path)
        raw = bytearray(path.read_bytes())
    else:
        raw = bytearray(data.draw(st.binary(min_size=0, max_size=300)))
    action = data.draw(st.sampled_from(["truncate", "flip", "append"]))
    if action == "truncate" and raw:
        raw = raw[:data.draw(st.integers(0, len(raw) - 1))]
    elif action == "flip" and raw:
        at = data.draw(st.integers(0, min(len(raw) - 1, 120)))
        raw[at] = (raw[at] ^ data.draw(st.integers(1, 255)))
    else:
        raw += data.draw(st.binary(max_size=20))
    path.write_bytes(bytes(raw))
    try:
        load_weights(model, path)
    except ModelError as exc:
        _one_line(str(exc))
