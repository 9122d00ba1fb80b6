"""Fine-tuning: a new head with the backbone frozen, cached features, unfreezing the top blocks."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core.analysis.model_analysis import analyze_model
from core.build import build_model
from core.data.adapt import BatchPreparer
from core.data.datasets import Dataset, load_dataset
from core.model.spec import LayerSpec, load_model
from core.presets import load_preset
from core.train import feature_cache
from core.train.checkpoint import LAST, load_state, open_for_resume
from core.train.engine import train
from core.train.fine_tune import (
    Unfreeze,
    blocks,
    fine_tune_spec,
    trainable_summary,
    unfreeze_top,
)
from core.train.settings import (
    Caching,
    EpochEnd,
    Failed,
    Finished,
    Started,
    TrainingControl,
    TrainingError,
    TrainingSettings,
)
from core.weights import read_weights

FAST = TrainingSettings(epochs=2, batch_size=32, device="cpu", snapshots=False)


def run(*args: object, **kwargs: object) -> list[object]:
    return list(train(*args, **kwargs))  # type: ignore[arg-type]


def _features(model: torch.nn.Module, spec: object, data: Dataset,
              folder: Path, control: TrainingControl | None = None
              ) -> tuple[list[object], feature_cache.CachedFeatures | None, str]:
    analysis = analyze_model(spec)  # type: ignore[arg-type]
    cut = feature_cache.frozen_cut(spec, analysis)  # type: ignore[arg-type]
    assert cut is not None
    prepare = BatchPreparer(data, spec.input_shape)  # type: ignore[attr-defined]
    events: list[object] = []
    gen = feature_cache.features(model, spec, analysis, cut, data, prepare,  # type: ignore[arg-type]
                                 torch.device("cpu"), control or TrainingControl(), 64, folder)
    while True:
        try:
            events.append(next(gen))
        except StopIteration as done:
            cached, note = done.value
            return events, cached, note


def test_fine_tune_spec_resizes_the_head_and_freezes_the_rest() -> None:
    spec = load_preset("digits_small")
    tuned = fine_tune_spec(spec, ["cat", "dog", "fox"])
    assert tuned.layer("fc").params["out_features"] == 3 and tuned.layer("fc").trainable
    assert tuned.classes == ("cat", "dog", "fox")
    assert [layer.name for layer in tuned.layers if layer.trainable] == ["fc"]
    assert trainable_summary(tuned).line == ("Trains: fc (195 params); frozen: 6 layers "
                                             "(23,520 params)")
    with pytest.raises(TrainingError, match="at least two classes"):
        fine_tune_spec(spec, ["one"])


@pytest.fixture(scope="module")
def resnet18() -> object:
    from core.io.torchvision_models import import_torchvision

    return import_torchvision("resnet18").spec


def test_resnet18_blocks_and_unfreezing_the_top_two(resnet18: object) -> None:
    tuned = fine_tune_spec(resnet18, ["a", "b"])  # type: ignore[arg-type]
    names = [block.name for block in blocks(tuned)]
    assert names[:3] == ["conv1", "bn1", "layer1_0"] and names[-3:] == ["layer4_0", "layer4_1",
                                                                         "fc"]
    summary = trainable_summary(tuned)
    assert summary.line == "Trains: fc (1,026 params); frozen: 40 layers (11,176,512 params)"
    cut = feature_cache.frozen_cut(tuned, analyze_model(tuned))
    assert cut is not None and tuned.layers[cut].name == "flatten"
    unfrozen, chosen = unfreeze_top(tuned, 2)
    assert chosen == ["layer4_0", "layer4_1"]
    trains = {layer.name for layer in unfrozen.layers if layer.trainable}
    assert {"layer4_0_conv1", "layer4_0_downsample_0", "layer4_1_bn2", "fc"} <= trains
    assert "layer3_1_conv2" not in trains
    # the skip connection into layer4_0 leaves from layer3_1_relu_1: the cut goes there
    cut = feature_cache.frozen_cut(unfrozen, analyze_model(unfrozen))
    assert cut is not None and unfrozen.layers[cut].name == "layer3_1_relu_1"
    everything, _ = unfreeze_top(unfrozen, 100)
    assert all(layer.trainable for layer in everything.layers)
    with pytest.raises(TrainingError, match="no frozen block"):
        unfreeze_top(everything, 1)


def test_no_cut_after_a_dropout_or_when_the_first_layer_trains() -> None:
    spec = fine_tune_spec(load_preset("digits_small"), [str(i) for i in range(10)])
    assert feature_cache.frozen_cut(load_preset("digits_small"),
                                    analyze_model(load_preset("digits_small"))) is None
    index = spec.index("flatten")
    dropped = spec.with_layers([*spec.layers[:index],
                                LayerSpec("drop", "Dropout", {"p": 0.5}, trainable=False),
                                *spec.layers[index:]])
    cut = feature_cache.frozen_cut(dropped, analyze_model(dropped))
    assert cut is not None and dropped.layers[cut].name == spec.layers[index - 1].name


def _photos(folder: Path, per_class: int = 12) -> Path:
    rng = np.random.default_rng(0)
    for c, colour in enumerate([(220, 30, 30), (30, 220, 30)]):
        target = folder / f"class{c}"
        target.mkdir(parents=True)
        for i in range(per_class):
            pixels = (rng.normal(0, 25, (12, 12, 3)) + colour).clip(0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(target / f"{i}.png")
    return folder


def test_cache_hit_miss_and_invalidation(tmp_path: Path) -> None:
    photos = _photos(tmp_path / "photos")
    spec = replace(load_preset("digits_small"), input_shape=(3, 8, 8))
    data = load_dataset(str(photos), spec.input_shape)
    spec = fine_tune_spec(spec, data.classes)
    torch.manual_seed(0)
    model = build_model(spec)
    cache = tmp_path / "cache"
    events, first, note = _features(model, spec, data, cache)
    assert first is not None and not first.hit and "computed for 24 images" in note
    assert first.path.is_file() and first.path.parent == cache
    assert isinstance(events[-1], Caching) and events[-1].done == events[-1].total == 24
    flat = analyze_model(spec).layers[spec.index("flatten")].output_shape
    assert first.train.shape == (len(data.train), *flat)
    _, again, note = _features(model, spec, data, cache)
    assert again is not None and again.hit and "read from the cache" in note
    torch.testing.assert_close(again.train, first.train)
    # the backbone's weights changed: another key, computed again; the old file is untouched
    with torch.no_grad():
        model.layers["conv1"].weight.add_(0.01)
    _, changed, note = _features(model, spec, data, cache)
    assert changed is not None and not changed.hit and changed.path != first.path
    assert not torch.allclose(changed.train, first.train)
    # the head's weights are not part of the key
    with torch.no_grad():
        model.layers["fc"].weight.add_(1.0)
    assert _features(model, spec, data, cache)[1].hit  # type: ignore[union-attr]
    # a data file touched (its modification time): the data changed
    picture = next((photos / "class0").iterdir())
    stat = picture.stat()
    os.utime(picture, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    touched = _features(model, spec, data, cache)[1]
    assert touched is not None and not touched.hit and touched.path != changed.path
    # the transforms changed (another normalisation): another key
    prepare = BatchPreparer(data, spec.input_shape, mean=torch.zeros(3), std=torch.ones(3))
    cut = feature_cache.frozen_cut(spec, analyze_model(spec))
    assert cut is not None
    assert feature_cache.cache_key(model, spec, cut, data, prepare) not in touched.path.name
    assert feature_cache.cache_key(model, spec, cut, data, BatchPreparer(
        data, spec.input_shape)).startswith(touched.path.stem)


def test_a_damaged_cache_file_is_computed_again_and_a_stop_writes_nothing(
        tmp_path: Path, tiny_digits: Dataset) -> None:
    spec = fine_tune_spec(load_preset("digits_small"), tiny_digits.classes)
    model = build_model(spec)
    cache = tmp_path / "cache"
    control = TrainingControl()
    control.stop()
    _, cached, note = _features(model, spec, tiny_digits, cache, control)
    assert cached is None and "nothing was cached" in note
    assert not cache.exists() or not any(cache.iterdir())
    _, first, _ = _features(model, spec, tiny_digits, cache)
    assert first is not None
    first.path.write_bytes(first.path.read_bytes()[:100])  # cut off
    _, again, note = _features(model, spec, tiny_digits, cache)
    assert again is not None and not again.hit and "could not be read" in note
    torch.testing.assert_close(again.train, first.train)
    assert [p.name for p in cache.iterdir()] == [first.path.name]  # no .tmp left behind


def test_head_only_training_from_the_cache_equals_training_with_frozen_layers(
        tiny_digits: Dataset, tmp_path: Path) -> None:
    spec = fine_tune_spec(load_preset("digits_small"), tiny_digits.classes)
    plain = run(spec, tiny_digits, FAST, tmp_path / "plain")
    cached = run(spec, tiny_digits, replace(FAST, cache_features=True), tmp_path / "cached")
    started = cached[0]
    assert isinstance(started, Started)
    assert any("no augmentation while cached" in note for note in started.notes)
    assert any(isinstance(e, Caching) and "computed" in e.note for e in cached)
    done_plain, done_cached = plain[-1], cached[-1]
    assert isinstance(done_plain, Finished) and isinstance(done_cached, Finished)
    a = read_weights(Path(done_plain.run_dir) / LAST)
    b = read_weights(Path(done_cached.run_dir) / LAST)
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(b[key], a[key], rtol=1e-4, atol=1e-5)
    losses = [[e.train_loss for e in events if isinstance(e, EpochEnd)]
              for events in (plain, cached)]
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-4)
    assert done_cached.test_acc == pytest.approx(done_plain.test_acc)
    # the second run reads the cache the first wrote
    third = run(spec, tiny_digits, replace(FAST, cache_features=True), tmp_path / "third")
    assert any(isinstance(e, Caching) and "read from the cache" in e.note for e in third)


def test_caching_a_model_that_trains_everything_says_why_not(tiny_digits: Dataset,
                                                             tmp_path: Path) -> None:
    events = run(load_preset("digits_small"), tiny_digits,
                 replace(FAST, epochs=1, cache_features=True), tmp_path)
    started = events[0]
    assert isinstance(started, Started)
    assert any(note.startswith("features not cached: nothing to cache") for note in
               started.notes)
    assert isinstance(events[-1], Finished)


def test_unfreeze_top_continues_the_run_at_a_lower_rate(tiny_digits: Dataset,
                                                        tmp_path: Path) -> None:
    spec = fine_tune_spec(load_preset("digits_small"), tiny_digits.classes)
    head = run(spec, tiny_digits, replace(FAST, epochs=1, cache_features=True), tmp_path)[-1]
    assert isinstance(head, Finished)
    run_dir = Path(head.run_dir)
    before = read_weights(run_dir / LAST)
    events = run(spec, tiny_digits, replace(FAST, epochs=2), tmp_path, resume=run_dir,
                 unfreeze=Unfreeze(1))
    assert isinstance(events[-1], Finished), events[-1]
    started = events[0]
    assert isinstance(started, Started)
    assert "unfroze bn3 and continued at lr 0.0003 (was 0.003)" in started.weights_report
    model = load_model(run_dir / "model.json")
    trains = {layer.name for layer in model.layers if layer.trainable}
    assert {"bn3", "fc"} <= trains and "conv3" not in trains
    state = load_state(run_dir)
    assert state.epochs_done == 2 and state.settings["lr"] == pytest.approx(3e-4)
    assert "unfroze bn3" in state.notes[-1]
    after = read_weights(run_dir / LAST)
    assert not torch.equal(after["bn3.weight"], before["bn3.weight"])
    torch.testing.assert_close(after["conv1.weight"], before["conv1.weight"], rtol=0, atol=0)
    # the run stays whole: it resumes again (model.json's record followed the change)
    open_for_resume(run_dir)
    more = run(spec, tiny_digits, replace(FAST, epochs=3), tmp_path, resume=run_dir)
    assert isinstance(more[-1], Finished) and more[-1].epochs_done == 3
    record = json.loads((run_dir / "training.json").read_text())
    assert "model.json" in record["files"]


def test_unfreeze_without_a_frozen_block_fails_in_one_line(tiny_digits: Dataset,
                                                           tmp_path: Path) -> None:
    done = run(load_preset("digits_small"), tiny_digits, replace(FAST, epochs=1), tmp_path)[-1]
    assert isinstance(done, Finished)
    events = run(load_preset("digits_small"), tiny_digits, replace(FAST, epochs=2), tmp_path,
                 resume=Path(done.run_dir), unfreeze=Unfreeze(2))
    assert isinstance(events[-1], Failed) and "no frozen block" in events[-1].message


def test_an_unfreeze_cut_off_before_its_commit_resumes_from_the_frozen_model(
        tiny_digits: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The process dies after the unfrozen model.json replaced the old one but before
    training.json committed it: the folder still resumes, from the model it recorded."""
    from core.train import checkpoint

    spec = fine_tune_spec(load_preset("digits_small"), tiny_digits.classes)
    head = run(spec, tiny_digits, replace(FAST, epochs=1), tmp_path)[-1]
    assert isinstance(head, Finished)
    run_dir = Path(head.run_dir)
    frozen = load_model(run_dir / "model.json")
    real_replace = os.replace

    def die_at_the_commit(src: object, dst: object) -> None:
        if Path(str(dst)).name == "training.json":
            raise SystemExit("killed")  # not an OSError: nothing in the process tidies up
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(checkpoint.os, "replace", die_at_the_commit)
    with pytest.raises(SystemExit):
        run(spec, tiny_digits, replace(FAST, epochs=2), tmp_path, resume=run_dir,
            unfreeze=Unfreeze(1))
    monkeypatch.setattr(checkpoint.os, "replace", real_replace)
    assert load_model(run_dir / "model.json") != frozen  # the new file is in place, uncommitted
    point = open_for_resume(run_dir)
    assert "cut off" in point.note and point.state.epochs_done == 1
    more = run(spec, tiny_digits, replace(FAST, epochs=2), tmp_path, resume=run_dir)
    assert isinstance(more[-1], Finished) and more[-1].epochs_done == 2
    assert load_model(run_dir / "model.json") == frozen  # rolled back, then kept
    assert not (run_dir / "model.json.prev").exists()
    open_for_resume(run_dir)
