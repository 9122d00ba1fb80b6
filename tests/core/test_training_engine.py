"""The training engine on tiny real data: every path a user relies on."""

from __future__ import annotations

import math
import threading
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from core.build import build_model
from core.data.augmentation import Augmentation
from core.data.datasets import Dataset
from core.model.spec import LayerSpec, load_model
from core.presets import load_preset
from core.train.checkpoint import BEST, LAST, load_state, open_run
from core.train.engine import train
from core.train.settings import (
    BatchProgress,
    EpochEnd,
    Failed,
    Finished,
    Paused,
    Resumed,
    Started,
    TrainingControl,
    TrainingSettings,
)
from core.weights import read_weights

FAST = TrainingSettings(epochs=2, batch_size=32, device="cpu")


def run(*args: object, **kwargs: object) -> list[object]:
    return list(train(*args, **kwargs))  # type: ignore[arg-type]


def test_a_full_run_reports_and_checkpoints(tiny_digits: Dataset, tmp_path: Path) -> None:
    events = run(load_preset("digits_small"), tiny_digits, FAST, tmp_path)
    assert isinstance(events[0], Started) and events[0].batches_per_epoch == 6
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert [e.epoch for e in epochs] == [1, 2]
    assert all(e.samples_per_s > 0 and 0 <= e.val_acc <= 1 for e in epochs)
    assert any(isinstance(e, BatchProgress) for e in events)
    done = events[-1]
    assert isinstance(done, Finished) and not done.stopped and done.test_acc is not None
    run_dir = Path(done.run_dir)
    assert (run_dir / LAST).exists() and (run_dir / BEST).exists()
    state = load_state(run_dir)
    assert state.epochs_done == 2 and len(state.history) == 2 and state.finished
    assert state.classes == [str(i) for i in range(10)]
    reopened = open_run(run_dir)
    assert reopened.spec == load_preset("digits_small")
    model = build_model(reopened.spec)
    model.layers.load_state_dict(read_weights(reopened.weights))


def test_digits_small_learns(digits: Dataset, tmp_path: Path) -> None:
    settings = replace(TrainingSettings(), epochs=6, device="cpu")
    done = run(load_preset("digits_small"), digits, settings, tmp_path)[-1]
    assert isinstance(done, Finished)
    assert done.test_acc is not None and done.test_acc > 0.9


def test_stop_takes_effect_at_the_next_batch_and_leaves_a_checkpoint(
        tiny_digits: Dataset, tmp_path: Path) -> None:
    control = TrainingControl()
    seen = []
    settings = replace(FAST, epochs=50, batch_size=8)
    for event in train(load_preset("digits_small"), tiny_digits, settings, tmp_path, control):
        seen.append(event)
        if isinstance(event, BatchProgress):
            control.stop()
    done = seen[-1]
    assert isinstance(done, Finished) and done.stopped
    assert sum(isinstance(e, BatchProgress) for e in seen) == 1
    weights = read_weights(Path(done.checkpoint))
    assert "conv1.weight" in weights


def test_pause_and_resume(tiny_digits: Dataset, tmp_path: Path) -> None:
    control = TrainingControl()
    events = []
    control.pause()
    timer = threading.Timer(0.3, control.resume)
    timer.start()
    for event in train(load_preset("digits_small"), tiny_digits, FAST, tmp_path, control):
        events.append(event)
    timer.join()
    kinds = [type(e) for e in events]
    assert kinds.index(Paused) < kinds.index(Resumed) < kinds.index(EpochEnd)
    assert isinstance(events[-1], Finished) and not events[-1].stopped


def test_resume_from_a_checkpoint_continues_the_history(tiny_digits: Dataset,
                                                        tmp_path: Path) -> None:
    first = run(load_preset("digits_small"), tiny_digits, FAST, tmp_path)[-1]
    assert isinstance(first, Finished)
    more = run(load_preset("digits_small"), tiny_digits, replace(FAST, epochs=3), tmp_path,
               resume=Path(first.run_dir))
    started = more[0]
    assert isinstance(started, Started) and started.first_epoch == 3
    assert "only the number of epochs (3) is new" in started.weights_report
    ends = [e for e in more if isinstance(e, EpochEnd)]
    assert [e.epoch for e in ends] == [3]
    # the cosine schedule is the one a fresh 3-epoch run would have at its third epoch
    assert ends[0].lr == pytest.approx(FAST.lr * (1 + math.cos(math.pi * 2 / 3)) / 2)
    state = load_state(Path(first.run_dir))
    assert len(state.history) == 3 and state.settings["epochs"] == 3


def test_a_nan_loss_stops_the_run_with_a_message(tiny_digits: Dataset, tmp_path: Path) -> None:
    spec = load_preset("digits_small")
    poisoned = tmp_path / "nan.safetensors"
    model = build_model(spec)
    state = {k: v.clone() for k, v in model.layers.state_dict().items()}
    state["fc.weight"].fill_(float("nan"))
    save_file(state, str(poisoned))
    events = run(spec, tiny_digits, FAST, tmp_path, init_weights=poisoned)
    failed = events[-1]
    assert isinstance(failed, Failed)
    assert "the loss became NaN at epoch 1, batch 1" in failed.message
    assert "Lower the learning rate" in failed.message


def test_frozen_layers_stay_unchanged(tiny_digits: Dataset, tmp_path: Path) -> None:
    spec = load_preset("random_features")  # frozen convolutions, trainable dense layer
    done = run(spec, tiny_digits, FAST, tmp_path)
    started, finished = done[0], done[-1]
    assert isinstance(started, Started)
    assert "resized from 8×8 to 28×28" in " ".join(started.notes)
    assert isinstance(finished, Finished)
    torch.manual_seed(FAST.seed)
    initial = build_model(spec).layers.state_dict()
    trained = read_weights(Path(finished.run_dir) / LAST)
    for key in ("conv1.weight", "conv2.weight", "conv3.bias"):
        torch.testing.assert_close(trained[key], initial[key], rtol=0, atol=0)
    assert not torch.equal(trained["fc1.weight"], initial["fc1.weight"])


def test_transfer_learning_replace_head_freeze_then_unfreeze(digits: Dataset,
                                                             tmp_path: Path) -> None:
    """The lecture's recipe: reuse trained features, train a new head, then fine-tune."""
    base = load_preset("digits_small")
    trained = run(base, digits, replace(FAST, epochs=4), tmp_path)[-1]
    assert isinstance(trained, Finished)
    layers = [replace(layer, trainable=False) for layer in base.layers[:-1]]
    new_head = base.with_layers([*layers, LayerSpec("head", "Linear", {"out_features": 10})])
    events = run(new_head, digits, replace(FAST, epochs=3), tmp_path,
                 init_weights=Path(trained.checkpoint))
    started = events[0]
    assert isinstance(started, Started)
    assert "conv1" in started.weights_report and "not in the file: head.weight" in \
        started.weights_report
    head_done = events[-1]
    assert isinstance(head_done, Finished) and head_done.test_acc is not None
    before = read_weights(Path(trained.checkpoint))["conv2.weight"]
    after_head = read_weights(Path(head_done.run_dir) / LAST)
    torch.testing.assert_close(after_head["conv2.weight"], before, rtol=0, atol=0)
    unfrozen = new_head.with_layers(replace(layer, trainable=True) for layer in new_head.layers)
    tuned = run(unfrozen, digits, replace(FAST, epochs=2, lr=3e-4), tmp_path,
                init_weights=Path(head_done.checkpoint))[-1]
    assert isinstance(tuned, Finished) and tuned.test_acc is not None
    assert tuned.test_acc > 0.9
    assert not torch.equal(read_weights(Path(tuned.run_dir) / LAST)["conv2.weight"], before)


def test_mismatch_is_reported_before_the_first_step(tiny_digits: Dataset, tmp_path: Path) -> None:
    spec = load_preset("digits_small")
    fc = spec.layer("fc")
    wrong = spec.with_layers([*spec.layers[:-1], fc.with_params(out_features=7)])
    events = run(wrong, tiny_digits, FAST, tmp_path)
    assert len(events) == 1 and isinstance(events[0], Failed)
    assert events[0].message == ("the model outputs 7 values but digits has 10 classes: set "
                                 "out_features of fc to 10")
    fcn = load_preset("keras_mnist_fcn")
    no_flat = fcn.with_layers(fcn.layers[:-1])
    message = run(no_flat, tiny_digits, FAST, tmp_path)[0].message  # type: ignore[attr-defined]
    assert "outputs 10×1×1" in message and "end with Flatten" in message


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        (replace(FAST, lr=0.0), "lr must be a number above 0"),
        (replace(FAST, device="cuda") if not torch.cuda.is_available() else
         replace(FAST, device="mps"), "was asked for, but"),
        (replace(FAST, augmentation=Augmentation(rotation=500)), "rotation must be 0–180"),
    ],
)
def test_bad_settings_fail_with_a_message(tiny_digits: Dataset, tmp_path: Path,
                                          settings: TrainingSettings, words: str) -> None:
    events = run(load_preset("digits_small"), tiny_digits, settings, tmp_path)
    assert isinstance(events[-1], Failed) and words in events[-1].message


def test_augmented_training_runs(tiny_digits: Dataset, tmp_path: Path) -> None:
    settings = replace(FAST, epochs=1, augmentation=Augmentation(crop=1, rotation=10, shear=5,
                                                                color=0.2))
    assert isinstance(run(load_preset("digits_small"), tiny_digits, settings, tmp_path)[-1],
                      Finished)


def test_a_model_ending_in_softmax_trains(digits: Dataset, tmp_path: Path) -> None:
    """Keras habit: a Softmax last. The engine then uses NLL on its log, and still learns."""
    spec = load_preset("digits_small")
    soft = spec.with_layers([*spec.layers, LayerSpec("probs", "Softmax")])
    done = run(soft, digits, replace(FAST, epochs=3), tmp_path)[-1]
    assert isinstance(done, Finished) and done.test_acc is not None and done.test_acc > 0.8
    model_file = load_model(Path(done.run_dir) / "model.json")
    assert model_file.layers[-1].type == "Softmax"


def test_snapshots_record_how_the_filters_formed(tiny_digits: Dataset, tmp_path: Path) -> None:
    from core.train import snapshots
    from core.train.settings import FilterSnapshot

    settings = replace(FAST, epochs=3, live_filters_every=0.0)
    events = run(load_preset("digits_small"), tiny_digits, settings, tmp_path)
    live = [e for e in events if isinstance(e, FilterSnapshot)]
    assert [e.epoch for e in live] == [1, 2, 3]
    assert live[0].layer == "conv1" and live[0].weights.shape == (16, 1, 3, 3)
    done = events[-1]
    assert isinstance(done, Finished)
    history = snapshots.load(Path(done.run_dir))
    assert [epoch for epoch, _ in history] == [0, 1, 2, 3]
    first, last = history[0][1], history[-1][1]
    assert set(first) == {"filters.conv1", "filters.conv2", "filters.conv3", "activations.conv1",
                          "activations.conv2", "activations.conv3", "probe"}  # every conv
    assert first["activations.conv2"].shape == (32, 8, 8)
    assert not torch.equal(first["filters.conv1"], last["filters.conv1"])
    torch.testing.assert_close(last["filters.conv1"],
                               read_weights(Path(done.run_dir) / LAST)["conv1.weight"])


# -- pause and stop within a batch and within validation / test (issue 20, item 4) ------------

class _SlowLayers:
    """Wraps build_model so every leaf layer of the built model sleeps ``pause`` seconds and
    records the layer calls; ``armed`` (an Event) is set on the first call after ``after``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, pause: float, after: int) -> None:
        import core.train.engine as engine

        self.calls = 0
        self.after = after
        self.armed = threading.Event()
        real = engine.build_model

        def slow(*args: object, **kwargs: object) -> torch.nn.Module:
            model = real(*args, **kwargs)  # type: ignore[arg-type]
            for module in model.modules():
                if not any(module.children()):
                    module.register_forward_hook(self.hook)
            return model

        self.pause = pause
        monkeypatch.setattr(engine, "build_model", slow)

    def hook(self, *_: object) -> None:
        self.calls += 1
        if self.calls > self.after:
            self.armed.set()
        if self.pause:
            import time

            time.sleep(self.pause)


def _stop_when_armed(slow: _SlowLayers, control: TrainingControl) -> list[int]:
    """Stops the run once armed, from another thread; returns the layer calls at stop()."""
    at: list[int] = []

    def stopper() -> None:
        slow.armed.wait(60)
        at.append(slow.calls)
        control.stop()

    threading.Thread(target=stopper, daemon=True).start()
    return at


def test_stop_mid_batch_ends_the_run_within_one_more_layer(
        tiny_digits: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = load_preset("digits_small")
    layers = len(spec.layers)
    slow = _SlowLayers(monkeypatch, 0.02, after=layers + 2)  # in the second batch's forward
    control = TrainingControl()
    at = _stop_when_armed(slow, control)
    settings = replace(FAST, snapshots=False)
    events = list(train(spec, tiny_digits, settings, tmp_path, control))
    done = events[-1]
    assert isinstance(done, Finished) and done.stopped and done.epochs_done == 0
    assert slow.calls - at[0] <= 1  # at most the layer that was running when stop() came
    assert not any(isinstance(e, EpochEnd) for e in events)


def test_pause_mid_batch_redoes_the_batch_and_finishes(
        tiny_digits: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = load_preset("digits_small")
    slow = _SlowLayers(monkeypatch, 0.0, after=len(spec.layers) + 2)
    control = TrainingControl()
    paused_at: list[int] = []

    def pauser() -> None:
        slow.armed.wait(60)
        paused_at.append(slow.calls)
        control.pause()

    threading.Thread(target=pauser, daemon=True).start()
    events = []
    for event in train(spec, tiny_digits, replace(FAST, snapshots=False), tmp_path, control):
        events.append(event)
        if isinstance(event, Paused):
            assert event.phase == "training" and event.epoch == 1
            control.resume()
    kinds = [type(e) for e in events]
    assert kinds.count(Paused) == 1 and kinds.index(Paused) < kinds.index(Resumed)
    done = events[-1]
    assert isinstance(done, Finished) and not done.stopped and done.epochs_done == 2


def test_stop_during_validation_reports_what_it_covered(
        tiny_digits: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import core.train.engine as engine

    monkeypatch.setattr(engine, "EVAL_MACS", 1)  # one image per validation chunk
    spec = load_preset("digits_small")
    slow = _SlowLayers(monkeypatch, 0.0, after=0)
    control = TrainingControl()
    settings = replace(FAST, epochs=1, snapshots=False)
    events = []
    for event in train(spec, tiny_digits, settings, tmp_path, control):
        events.append(event)
        if isinstance(event, BatchProgress) and event.batch == event.batches:
            slow.calls, slow.pause = 0, 0.005  # count validation's layer calls from here
            slow.after = len(spec.layers) * 5
            slow.armed.clear()
            _stop_when_armed(slow, control)
    done = events[-1]
    assert isinstance(done, Finished) and done.stopped and done.epochs_done == 0
    assert "of 64 validation images scored" in done.covered
    covered = int(done.covered.split(": ")[1].split(" of")[0])
    assert 5 <= covered < 64 and 0 <= done.test_metrics["val_acc"] <= 1
