"""The training engine: a plain generator of events, run headless or on a GUI worker thread.

Commands come in through a TrainingControl (pause, resume, stop): checked between batches and,
through hooks, between layers of the forward and backward passes, so a slow batch is abandoned
(and redone on resume) rather than finished; validation and test passes check between chunks and
layers too and, when stopped, report what they covered. Events
go out as small frozen values. Real PyTorch training: Adam / AdamW / SGD with momentum, a
schedule, mixed precision on CUDA, checkpoints every epoch and for the best validation accuracy,
resumable runs, frozen layers, and weights loaded by layer name for transfer learning.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from core.analysis.model_analysis import ModelAnalysis, analyze_model
from core.build import build_model
from core.data.adapt import BatchPreparer
from core.data.dataset import Dataset, Split
from core.data.datasets import save_data_files
from core.data.errors import DataError
from core.model.catalog import CATALOG
from core.model.errors import ModelError
from core.model.spec import ModelSpec, load_model
from core.tasks import Task, task_for
from core.tasks.base import LossFn
from core.train import checkpoint as ckpt
from core.train import feature_cache, snapshots
from core.train.feature_cache import FeatureBatches, HeadOnly
from core.train.fine_tune import Unfreeze, unfreeze_run
from core.train.interrupt import Interrupted as _Interrupted
from core.train.interrupt import interruptible as _interruptible
from core.train.run_schema import RunState
from core.train.settings import (
    BatchProgress,
    EpochEnd,
    Event,
    Failed,
    FilterSnapshot,
    Finished,
    Paused,
    Resumed,
    Started,
    TrainingControl,
    TrainingError,
    TrainingSettings,
)
from core.weights import load_weights

Preparer = BatchPreparer | FeatureBatches
"""Turns a split's stored images into model inputs: images, or cached features as they are."""
EVAL_BATCH = 512
EVAL_MACS = 2_000_000_000
"""Multiply-accumulates per evaluation chunk on a CPU: a chunk's largest layer then takes well
under a second, so pause and stop answer within one (the 150×150 convnet gets 16–32 images)."""
PROGRESS_INTERVAL = 0.1
"""Seconds between BatchProgress events: enough for a smooth bar, cheap to send to a UI."""


def pick_device(name: str) -> torch.device:
    """auto: CUDA, else MPS, else CPU; an explicit device that is missing is an error."""
    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if name == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if name == "cuda" and not cuda:
        raise TrainingError("device cuda was asked for, but no CUDA GPU is available here; "
                            "use auto or cpu")
    if name == "mps" and not mps:
        raise TrainingError("device mps was asked for, but Apple's MPS is not available here; "
                            "use auto or cpu")
    return torch.device(name)


def _freeze_norms(model: nn.Module, spec: ModelSpec) -> None:
    """Frozen batch-norm layers keep their running statistics too (as Keras does)."""
    for layer in spec.layers:
        if not layer.trainable and CATALOG[layer.type].group == "normalization":
            model.layers[layer.name].eval()  # type: ignore[index, union-attr]


def _optimizer(model: nn.Module, s: TrainingSettings) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise TrainingError("every layer is frozen: there is nothing to train (tick "
                            "'trainable' on at least one layer with weights)")
    if s.optimizer == "sgd":
        return torch.optim.SGD(params, lr=s.lr, momentum=s.momentum,
                               weight_decay=s.weight_decay)
    cls = torch.optim.Adam if s.optimizer == "adam" else torch.optim.AdamW
    return cls(params, lr=s.lr, weight_decay=s.weight_decay)


def _scheduler(opt: torch.optim.Optimizer, s: TrainingSettings
               ) -> torch.optim.lr_scheduler.LRScheduler | None:
    if s.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=s.epochs)
    if s.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=max(1, s.epochs // 3), gamma=0.1)
    return None


def _fast_forward(scheduler: torch.optim.lr_scheduler.LRScheduler, epochs_done: int) -> None:
    """Put a schedule made for the (possibly longer) resumed run at ``epochs_done``.

    The closed form gives the rate a fresh run of the new length would have there; restoring
    the old schedule's state instead would keep its old length (cosine then cycles).
    """
    scheduler.last_epoch = epochs_done
    closed_form = getattr(scheduler, "_get_closed_form_lr", None)
    if closed_form is None:
        return
    rates = closed_form()
    for group, rate in zip(scheduler.optimizer.param_groups, rates, strict=True):
        group["lr"] = rate
    scheduler._last_lr = list(rates)  # what get_last_lr() reports


def eval_chunk(analysis: ModelAnalysis, device: torch.device) -> int:
    """Images per evaluation chunk: EVAL_BATCH, fewer on a CPU for heavy models."""
    if device.type != "cpu":
        return EVAL_BATCH
    return max(1, min(EVAL_BATCH, EVAL_MACS // max(analysis.total_macs, 1)))


@dataclass
class Evaluation:
    """One pass over a split: mean loss, the task's metrics, and how much of it was covered."""

    loss: float
    metrics: dict[str, float]
    covered: int
    total: int

    @property
    def complete(self) -> bool:
        return self.covered == self.total


def evaluate(model: nn.Module, split: Split, prepare: Preparer, loss_fn: LossFn,
             device: torch.device, task: Task, data: Dataset) -> tuple[float, dict[str, float]]:
    """(mean loss, the task's metrics by short name) over a split, in evaluation mode."""
    passes = _evaluation(model, split, prepare, loss_fn, device, task, data, TrainingControl(),
                         EVAL_BATCH)
    while True:
        try:
            next(passes)
        except StopIteration as done:
            result: Evaluation = done.value
            return result.loss, result.metrics


def _evaluation(model: nn.Module, split: Split, prepare: Preparer, loss_fn: LossFn,
                device: torch.device, task: Task, data: Dataset, control: TrainingControl,
                chunk: int, epoch: int = 0, phase: str = "validation"
                ) -> Generator[Event, None, Evaluation]:
    """A pass over ``split`` in chunks that yields Paused / Resumed while paused and ends early
    when stopped (a chunk interrupted by pause is redone); returns what it covered."""
    if len(split) == 0:
        return Evaluation(math.nan, dict.fromkeys(task.test_keys, math.nan), 0, 0)
    targets = task.targets(split, data)
    split, fitted = prepare.fit_split(split)
    was_training = model.training
    model.eval()
    total_loss = 0.0
    metrics = task.metrics(data)
    start = 0
    try:
        while start < len(split):
            if control.paused and not control.stop_requested:
                yield Paused(epoch, start // chunk, phase)
                while control.paused and not control.stop_requested:
                    control.wait_while_paused(0.1)
                yield Resumed(epoch, start // chunk, phase)
            if control.stop_requested:
                break
            try:
                with torch.no_grad(), _interruptible(model, control):
                    x = prepare(split.images[start:start + chunk], device=device, fitted=fitted)
                    y = targets[start:start + chunk].to(device)
                    out = model(x)
            except _Interrupted:
                continue
            total_loss += float(loss_fn(out, y)) * len(y)
            metrics.update(out, y)
            start += len(y)
    finally:
        model.train(was_training)
    if start == 0:
        return Evaluation(math.nan, dict.fromkeys(task.test_keys, math.nan), 0, len(split))
    return Evaluation(total_loss / start, metrics.compute(), start, len(split))


def train(spec: ModelSpec, data: Dataset, settings: TrainingSettings, out_dir: Path,
          control: TrainingControl | None = None, init_weights: Path | None = None,
          resume: Path | None = None, unfreeze: Unfreeze | None = None) -> Iterator[Event]:
    """Train ``spec`` on ``data``; yields events and ends with Finished or Failed.

    ``init_weights`` loads weights by layer name and shape (transfer learning); ``resume``
    continues a run folder where it stopped (its model, weights, optimizer and history);
    ``unfreeze`` with it makes the top frozen blocks trainable at a lower learning rate.
    """
    control = control or TrainingControl()
    run_dir = ""

    def _remember(path: str) -> None:
        nonlocal run_dir
        run_dir = path

    try:
        yield from _train(spec, data, settings, out_dir, control, init_weights, resume,
                          _remember, unfreeze)
    except torch.cuda.OutOfMemoryError:
        torch.cuda.empty_cache()
        yield Failed(f"the GPU ran out of memory at batch size {settings.batch_size}: try "
                     f"{max(1, settings.batch_size // 2)}", run_dir)
    except (DataError, ModelError, TrainingError) as exc:
        yield Failed(str(exc), run_dir)
    except RuntimeError as exc:
        yield Failed(f"training failed: {str(exc).splitlines()[0]}", run_dir)


def _train(spec: ModelSpec, data: Dataset, s: TrainingSettings, out_dir: Path,
           control: TrainingControl, init_weights: Path | None, resume: Path | None,
           remember: Callable[[str], None], unfreeze: Unfreeze | None = None
           ) -> Iterator[Event]:
    s.check()
    torch.manual_seed(s.seed)
    state: RunState | None = None
    resume_note = ""
    if resume is not None:
        point = ckpt.open_for_resume(resume)  # checked; refuses in one line, writes nothing
        state = point.state
        spec = load_model(ckpt.resolve(resume, ckpt.MODEL))  # the committed model file
        s = TrainingSettings.from_dict({**state.settings, "epochs": s.epochs})
        if s.epochs <= state.epochs_done:
            raise TrainingError(f"the run has done {state.epochs_done} epochs already; ask for "
                                f"more epochs (e.g. {state.epochs_done + 10}) to continue it")
        unfrozen = ""
        if unfreeze is not None:
            spec, s, unfrozen = unfreeze_run(spec, s, state, unfreeze)
        state.settings = s.to_dict()
        resume_note = "; ".join(filter(None, [point.note, unfrozen or (
            f"resumed after epoch {state.epochs_done} with the run's own settings "
            f"({s.optimizer}, lr {s.lr:g}, batch {s.batch_size}, {s.schedule} "
            f"schedule); only the number of epochs ({s.epochs}) is new")]))
        if data.name == state.dataset and list(data.classes) != list(state.classes):
            raise TrainingError(f"training.json lists {len(state.classes)} classes "
                                f"({', '.join(state.classes[:3])}…) but {data.name} has "
                                f"{len(data.classes)}; the file was changed by hand or is "
                                "damaged, so the run cannot be resumed")
        if data.name != state.dataset:  # asked for explicitly (convscope train --change-dataset)
            if list(data.classes) != list(state.classes):
                raise TrainingError(f"the run was trained on {state.dataset} with classes "
                                    f"{', '.join(state.classes[:5])}…; {data.name} has other "
                                    "classes, so it cannot continue this run (start a new run "
                                    "from its weights with --weights)")
            change = (f"epochs after {state.epochs_done} trained on {data.name} (the run began "
                      f"on {state.dataset})")
            state.notes = [*state.notes, change]
            state.dataset = data.name
            resume_note = f"{resume_note}; {change}"
    analysis = analyze_model(spec)
    task = task_for(spec.task, s)
    task.check_fits(analysis, data)
    device = pick_device(s.device)
    model = build_model(spec, analysis).to(device)  # refuses models too large, before any data
    prepare = BatchPreparer(data, spec.input_shape, s.augmentation)
    report = ""
    if init_weights is not None:
        report = load_weights(model, init_weights).describe()
    loss_fn = task.loss(spec, analysis, data)
    optimizer = _optimizer(model, s)
    scheduler = _scheduler(optimizer, s)
    amp = device.type == "cuda" and s.mixed_precision
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    if resume is not None and state is not None:
        run = resume
        loaded = load_weights(model, point.weights)
        if loaded.shape_mismatch or loaded.not_in_file:
            raise ModelError(f"{point.weights.name} does not fit the run's model.json: "
                             f"{loaded.describe()[:200]}")
        if unfreeze is None:  # unfrozen layers: a fresh optimizer over the new parameters
            ckpt.restore_optimizer(optimizer, run, state)
        else:
            ckpt.save_spec_in_generation(run, spec, state)
        if scheduler is not None:
            _fast_forward(scheduler, state.epochs_done)
        report = resume_note
    else:
        run = ckpt.new_run_dir(out_dir, spec.name)
        ckpt.save_spec(run, spec)
        state = RunState(settings=s.to_dict(), dataset=data.name, classes=data.classes,
                              mean=prepare.mean.tolist(), std=prepare.std.tolist(),
                              notes=prepare.notes, best_metric=f"val_{task.headline}")
        ckpt.save_state(run, state)
        save_data_files(run, data)  # a text dataset's vocabulary.txt
    remember(str(run))
    notes = list(prepare.notes)
    cut, why_not = feature_cache.plan(spec, analysis, data) if s.cache_features else (None, "")
    if why_not:
        notes.append(f"features not cached: {why_not}")
    if cut is not None:
        notes.append(f"only the layers after {spec.layers[cut].name} train, from its output "
                     "computed once and cached on disk: no augmentation while cached"
                     + (" (the augmentation settings are ignored)"
                        if s.augmentation.active else ""))
    train_split, fitted = (data.train, True) if cut is not None else prepare.fit_split(data.train)
    n = len(train_split)
    # Without augmentation every epoch sees the same inputs: normalise them once, on the
    # device, when they fit (4 bytes a value); the per-batch work is then only indexing.
    ready: torch.Tensor | None = None
    if cut is None and fitted and not s.augmentation.active and n * math.prod(
            spec.input_shape) * 4 < 1 << 30:
        ready = torch.cat([prepare(train_split.images[i:i + 4096], device=device, fitted=True)
                           for i in range(0, n, 4096)])
    labels = task.targets(train_split, data).to(device)
    batches = math.ceil(n / s.batch_size)
    first_epoch = state.epochs_done + 1
    yield Started(str(device), tuple(notes), n, len(data.val), len(data.test), batches,
                  s.epochs, first_epoch, str(run), report)
    last_ckpt = str(run / ckpt.LAST) if (run / ckpt.LAST).exists() else ""
    watched = snapshots.snapshot_layers(spec) if s.snapshots else []
    probe = None
    if watched and len(data.val):
        probe_split, probe_fitted = prepare.fit_split(data.val.take(slice(0, 1)))
        probe = prepare(probe_split.images, device=device, fitted=probe_fitted)
        if first_epoch == 1:
            snapshots.save(run, 0, snapshots.take(model, spec, probe))
    chunk = eval_chunk(analysis, device)
    net: nn.Module = model
    eval_prepare: Preparer = prepare
    splits = {"val": data.val, "test": data.test}
    if cut is not None:
        cached, _note = yield from feature_cache.features(model, spec, analysis, cut, data,
                                                          prepare, device, control, chunk)
        if cached is None:  # stopped while computing them
            last_ckpt = str(ckpt.save_checkpoint(run, model, optimizer, state, best=False))
            yield Finished(None, None, last_ckpt, str(run), True, state.epochs_done)
            return
        net, eval_prepare = HeadOnly(model, cached.cut), FeatureBatches()
        splits = {which: cached.split(data, which) for which in splits}
        ready = cached.train.to(device)
        chunk = EVAL_BATCH
    last_live = time.perf_counter()
    generator = torch.Generator().manual_seed(s.seed)
    for epoch in range(first_epoch, s.epochs + 1):
        model.train()
        _freeze_norms(model, spec)
        generator.manual_seed(s.seed * 100_003 + epoch)
        order = torch.randperm(n, generator=generator)
        started = last_report = time.perf_counter()
        loss_sum, seen, scored = 0.0, 0, 0
        correct = torch.zeros((), dtype=torch.long, device=device)
        batch = 0
        while batch < batches:
            if control.paused:
                yield Paused(epoch, batch)
                while control.paused and not control.stop_requested:
                    control.wait_while_paused(0.1)
                yield Resumed(epoch, batch)
            if control.stop_requested:
                last_ckpt = str(ckpt.save_checkpoint(run, model, optimizer, state, best=False))
                yield Finished(None, None, last_ckpt, str(run), True, state.epochs_done)
                return
            index = order[batch * s.batch_size:(batch + 1) * s.batch_size]
            if ready is not None:
                index = index.to(device)
                x = ready[index]
                y = labels[index]
            else:
                x, y = prepare.with_targets(train_split.images[index], labels[index.to(device)],
                                            task, device=device, fitted=fitted)
            try:
                with _interruptible(model, control), torch.autocast(
                        device.type, dtype=torch.float16, enabled=amp):
                    out = net(x)
                    loss = loss_fn(out, y)
                value = float(loss.detach())
                if not math.isfinite(value):
                    raise TrainingError(
                        f"the loss became {'NaN' if math.isnan(value) else 'infinite'} at "
                        f"epoch {epoch}, batch {batch + 1}: the run stopped. Lower the learning "
                        f"rate (now {s.lr:g}) or check the data; the last good checkpoint is "
                        f"{last_ckpt or 'not written yet (this was the first epoch)'}")
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()  # type: ignore[no-untyped-call]
            except _Interrupted:  # pause or stop mid-batch: the batch is dropped (redone)
                optimizer.zero_grad(set_to_none=True)
                continue
            scaler.step(optimizer)
            scaler.update()
            loss_sum += value * len(y)
            hits, count = task.batch_score(out.detach(), y)
            correct += hits
            seen += len(y)
            scored += count
            now = time.perf_counter()
            if watched and s.live_filters_every and now - last_live >= s.live_filters_every:
                last_live = now
                yield FilterSnapshot(epoch, batch + 1, watched[0], snapshots.first_filters(
                    model, watched[0]).numpy())
            if now - last_report >= PROGRESS_INTERVAL or batch == batches - 1:
                last_report = now
                yield BatchProgress(epoch, batch + 1, batches, loss_sum / seen,
                                    int(correct) / max(scored, 1),
                                    seen / max(now - started, 1e-9), now - started)
            batch += 1
        seconds = time.perf_counter() - started
        val = yield from _evaluation(net, splits["val"], eval_prepare, loss_fn, device, task, data,
                                     control, chunk, epoch)
        if not val.complete:  # stopped during validation: the epoch counts as not done
            last_ckpt = str(ckpt.save_checkpoint(run, model, optimizer, state, best=False))
            yield Finished(None, None, last_ckpt, str(run), True, state.epochs_done,
                           {f"val_{key}": value for key, value in val.metrics.items()},
                           f"stopped during validation after epoch {epoch}'s training: "
                           f"{val.covered} of {val.total} validation images scored")
            return
        val_loss, val_metrics = val.loss, val.metrics
        val_acc = val_metrics[task.headline]
        lr = optimizer.param_groups[0]["lr"]
        if scheduler is not None:
            scheduler.step()
        state.best_metric = f"val_{task.headline}"
        best = val_acc > state.best_value
        if best:
            state.best_value = val_acc
        state.epochs_done = epoch
        train_acc = int(correct) / max(scored, 1)
        metrics = {f"train_{task.train_metric}": train_acc,
                   **{f"val_{key}": value for key, value in val_metrics.items()}}
        record = {"epoch": epoch, "train_loss": loss_sum / seen, "val_loss": val_loss,
                  **metrics, "seconds": seconds, "samples_per_s": seen / seconds, "lr": lr}
        state.history.append(record)
        last_ckpt = str(ckpt.save_checkpoint(run, model, optimizer, state, best))
        if probe is not None:
            snapshots.save(run, epoch, snapshots.take(model, spec, probe))
        if watched:
            yield FilterSnapshot(epoch, batches, watched[0],
                                 snapshots.first_filters(model, watched[0]).numpy())
        yield EpochEnd(epoch, s.epochs, loss_sum / seen, train_acc, val_loss, val_acc,
                       seconds, seen / seconds, lr, last_ckpt, best, metrics)
    if (run / ckpt.BEST).exists():
        load_weights(model, run / ckpt.BEST)
    test = yield from _evaluation(net, splits["test"], eval_prepare, loss_fn, device, task, data,
                                  control, chunk, s.epochs, "test")
    test_metrics = {f"test_{key}": value for key, value in test.metrics.items()}
    if not test.complete:  # stopped during the test pass: what it covered, not stored as final
        covered = f"stopped during the test pass: {test.covered} of {test.total} test images scored"
        yield Finished(test.loss, test.metrics[task.headline], str(run / ckpt.BEST), str(run),
                       True, state.epochs_done, test_metrics, covered)
        return
    state.test_acc = test.metrics[task.headline]
    state.test_metrics = test_metrics
    state.finished = True
    ckpt.save_state(run, state)
    yield Finished(test.loss, state.test_acc, str(run / ckpt.BEST), str(run), False,
                   state.epochs_done, state.test_metrics)
