"""``convscope train``: headless training with a progress bar or JSON lines, the memory pre-flight
and --resume."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.cli.common import fail, positive, resolve_model
from core.model.errors import ModelError

if TYPE_CHECKING:
    from core.data.datasets import Dataset
    from core.model.spec import ModelSpec
    from core.train.fine_tune import Unfreeze
    from core.train.settings import TrainingSettings



def _same_dataset(given: str, recorded: str) -> bool:
    """True when --dataset names the data the run recorded: the same name, or a path to the same
    folder or table (runs record folders as absolute paths, so ./voc and /abs/voc are one)."""
    if given == recorded:
        return True
    path = Path(given).expanduser()
    if not path.exists():  # a name such as digits, or options after a table: names must match
        return False
    try:
        return path.resolve() == Path(recorded).resolve()
    except (OSError, RuntimeError):
        return False

def run(args: argparse.Namespace) -> int:
    from core.train.memory import tune_malloc

    tune_malloc()  # before torch allocates anything
    from core.data.augmentation import Augmentation
    from core.data.datasets import DataError, embedding_rows, load_dataset, load_vocabulary
    from core.model.spec import load_model
    from core.train.engine import train
    from core.train.settings import TrainingError, TrainingSettings

    try:
        if args.resume is None and args.model is None:
            raise TrainingError("give the model to train: a model file (.json) or a preset "
                                "name, or --resume RUN to continue a run")
        spec = load_model(resolve_model(args.model)) if args.resume is None else None
        settings = TrainingSettings(
            optimizer=args.optimizer, lr=args.lr, batch_size=args.batch_size,
            epochs=args.epochs, weight_decay=args.weight_decay, schedule=args.schedule,
            device=args.device, mixed_precision=not args.no_amp, dice=args.dice,
            cache_features=args.cache_features,
            augmentation=Augmentation(flip=args.flip, crop=args.crop, rotation=args.rotation,
                                      shear=args.shear, color=args.color,
                                      vflip=args.vflip, zoom=args.zoom, elastic=args.elastic))
        settings.check()
        planned = settings
        if args.resume is not None:
            from core.train.checkpoint import open_for_resume

            # first, and writing nothing: every file of the run checked, one line if damaged
            point = open_for_resume(Path(args.resume))
            from core.run_files import MODEL, resolve

            spec = load_model(resolve(Path(args.resume), MODEL))
            planned = TrainingSettings.from_dict(point.state.settings)
            recorded = point.state.dataset
            if args.dataset is None or _same_dataset(args.dataset, recorded):
                args.dataset = recorded  # a run continues on its own data
            elif not args.change_dataset:
                raise TrainingError(
                    f"--resume {args.resume} was trained on {recorded}, not {args.dataset}: "
                    "leave --dataset out to continue on its own data, or add "
                    "--change-dataset to continue it on the other data on purpose")
        elif args.change_dataset:
            raise TrainingError("--change-dataset goes with --resume (a new run simply uses "
                                "--dataset)")
        unfreeze = _unfreeze(args)
        if args.dataset is None:
            args.dataset = "digits"
        if args.weights is not None and Path(args.weights).is_dir():
            from core.train.checkpoint import open_run

            args.weights = str(open_run(Path(args.weights)).weights)
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise TrainingError(f"--out {out} is a file; give a folder for the run folders")
        assert spec is not None
        data = load_dataset(args.dataset, spec.input_shape,
                            Path(args.data_root) if args.data_root else None,
                            vocabulary_size=embedding_rows(spec),  # texts: the run's own words
                            vocabulary=load_vocabulary(Path(args.resume)) if args.resume else None)
        if args.fine_tune:
            spec = _fine_tune(args, spec, data.classes)
        verdict = _preflight(args, spec, planned, data)
    except (ModelError, DataError, TrainingError) as exc:
        return fail(str(exc))
    if verdict is not None:
        return verdict
    events = train(spec, data, settings, Path(args.out),
                   init_weights=Path(args.weights) if args.weights else None,
                   resume=Path(args.resume) if args.resume else None, unfreeze=unfreeze)
    try:
        return _report(events, args, spec.name, data.describe(), spec.task)
    except OSError as exc:
        return fail(f"cannot write the run folder in {args.out}: {exc.strerror or exc}")


def _unfreeze(args: argparse.Namespace) -> Unfreeze | None:
    """--unfreeze-top N (with --resume) as the engine's Unfreeze; None without it."""
    from core.train.fine_tune import Unfreeze
    from core.train.settings import TrainingError

    if args.unfreeze_top is None:
        if args.unfreeze_lr is not None:
            raise TrainingError("--unfreeze-lr goes with --unfreeze-top N")
        return None
    if args.resume is None:
        raise TrainingError("--unfreeze-top N continues a run: give it with --resume RUN (first "
                            "train the head, e.g. --fine-tune --cache-features)")
    if args.fine_tune:
        raise TrainingError("--fine-tune starts a new run; --unfreeze-top continues one "
                            "(--resume): give one of them")
    return Unfreeze(args.unfreeze_top, args.unfreeze_lr)


def _fine_tune(args: argparse.Namespace, spec: ModelSpec, classes: list[str]) -> ModelSpec:
    """--fine-tune: the head sized for the data's classes, the rest frozen; without --weights
    the model file's own weights (MODEL.safetensors beside it) when it has them."""
    from core.train.fine_tune import fine_tune_spec, trainable_summary
    from core.train.settings import TrainingError

    if args.resume is not None:
        raise TrainingError("--fine-tune starts a new run from a pretrained model; to continue "
                            "a fine-tuning run give --resume RUN (and --unfreeze-top N)")
    tuned = fine_tune_spec(spec, classes)
    beside = Path(resolve_model(args.model)).with_suffix(".safetensors")
    notes = []
    if args.weights is None and beside.is_file():
        args.weights = str(beside)
        notes.append(f"fine-tuning from {beside} (the model file's weights)")
    elif args.weights is None:
        notes.append(f"{spec.name} has no weights file beside it ({beside.name}): the frozen "
                     "layers keep random weights (import it with --weights, or give --weights "
                     "FILE)")
    notes.append(f"new head {spec.layers[_head(tuned)].name} for {len(classes)} classes; "
                 f"{trainable_summary(tuned).line}")
    for note in notes:
        print(_json_line({"fine_tune": note}) if args.json else f"fine-tune: {note}")
    return tuned


def _head(spec: ModelSpec) -> int:
    from core.analysis.model_analysis import analyze_model
    from core.train.fine_tune import head_index

    return head_index(spec, analyze_model(spec))


def _preflight(args: argparse.Namespace, spec: ModelSpec, settings: TrainingSettings,
               data: Dataset) -> int | None:
    """--dry-run: print the estimate (exit 0); a run that cannot fit: refuse (exit 2) unless
    --force. None: go ahead."""
    import math

    import torch

    from core.train.engine import pick_device
    from core.train.preflight import preflight

    device = str(pick_device(settings.device))
    samples = len(data.train)
    dataset_bytes = data.train.images.numel() * data.train.images.element_size()
    if not settings.augmentation.active:  # the engine keeps a normalised copy (see engine)
        ready = samples * math.prod(spec.input_shape) * 4
        dataset_bytes += ready if ready < 1 << 30 else 0
    verdict = preflight(spec, settings.batch_size, device, settings.optimizer,
                        settings.momentum, settings.mixed_precision, dataset_bytes, samples,
                        measure=args.dry_run, weight_decay=settings.weight_decay)
    gpu = torch.cuda.is_available()
    if args.dry_run:
        if args.json:
            print(json.dumps(verdict.to_dict(gpu)))
        else:
            print(verdict.sentence(gpu))
        return 0
    if not verdict.fits and not args.force:
        return fail(f"{verdict.sentence(gpu)} (--force tries anyway)")
    return None


def _json_line(data: dict[str, object]) -> str:
    """One JSON line; NaN (e.g. accuracy of an empty split) is written as null."""
    clean = {k: (None if isinstance(v, float) and v != v else v) for k, v in data.items()}
    return json.dumps(clean)


def _report(events: Iterator[object], args: argparse.Namespace, name: str,
            described: str, task_name: str = "classification") -> int:
    from core.tasks import task_for
    from core.train.settings import (
        BatchProgress,
        Caching,
        EpochEnd,
        Failed,
        Finished,
        Started,
    )

    task = task_for(task_name)
    running, headline = task.train_metric, task.headline_label

    for event in events:
        if isinstance(event, Started):
            if args.json:  # every note of the text mode, one JSON line each
                print(_json_line({"started": name, "dataset": described,
                                  "device": event.device, "run_dir": event.run_dir}))
                for note in event.notes:
                    print(_json_line({"note": note}))
                if event.weights_report:
                    print(_json_line({"weights": event.weights_report}), flush=True)
            else:
                print(f"training {name} on {described} ({event.device})")
                for note in event.notes:
                    print(f"  note: {note}")
                if event.weights_report:
                    print(f"  weights: {event.weights_report}")
                print(f"  run folder: {event.run_dir}")
        elif isinstance(event, Caching):
            if event.note:
                if args.json:
                    print(_json_line({"features": event.note}), flush=True)
                else:
                    sys.stderr.write("\r" + " " * 100 + "\r")
                    print(f"  features: {event.note}")
            elif not args.json:
                sys.stderr.write(f"\r  computing the frozen layers' features: {event.done:,} of "
                                 f"{event.total:,} images")
                sys.stderr.flush()
        elif isinstance(event, BatchProgress) and not args.json:
            width = 30
            filled = int(width * event.batch / event.batches)
            sys.stderr.write(f"\r  epoch {event.epoch} [{'#' * filled}{'.' * (width - filled)}]"
                             f" loss {event.loss:.4f} {running} {event.accuracy:.3f} "
                             f"{event.samples_per_s:,.0f} samples/s")
            sys.stderr.flush()
        elif isinstance(event, EpochEnd):
            if args.json:
                print(_json_line({
                    "epoch": event.epoch, "train_loss": event.train_loss,
                    "val_loss": event.val_loss, **event.metrics,
                    "samples_per_s": event.samples_per_s,
                    "seconds": event.seconds, "lr": event.lr,
                    "checkpoint": event.checkpoint}), flush=True)
            else:
                sys.stderr.write("\r" + " " * 100 + "\r")
                print(f"epoch {event.epoch}/{event.epochs}: train loss {event.train_loss:.4f} "
                      f"{running} {event.train_acc:.4f} · val loss {event.val_loss:.4f} "
                      f"{headline} {event.val_acc:.4f} · {event.samples_per_s:,.0f} samples/s · "
                      f"{event.seconds:.1f} s{' · best' if event.best else ''}")
        elif isinstance(event, Finished):
            if args.json:
                tests = {f"test_{key}": None for key in task.test_keys}
                print(_json_line({"test_loss": event.test_loss,
                                  **{**tests, **event.test_metrics},
                                  "checkpoint": event.checkpoint, "run_dir": event.run_dir,
                                  "stopped": event.stopped}), flush=True)
            else:
                figures = " · ".join(f"{key} {event.test_metrics[f'test_{key}']:.4f}"
                                     for key in task.test_keys
                                     if f"test_{key}" in event.test_metrics)
                print(f"test {figures or 'not run'} (best validation weights); "
                      f"checkpoint {event.checkpoint}")
        elif isinstance(event, Failed):
            return fail(event.message)
    return 0


def add_parser(commands: Any) -> None:
    """The sub-command and its arguments, on the dispatcher's sub-parsers."""
    tr = commands.add_parser("train", help="train a model headless",
                             formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                             epilog="Runs go to --out (here: ./runs); the window's runs go to "
                             "the ConvScope data folder (Help → Where Runs Are Stored).")
    tr.add_argument("model", nargs="?", help="a model file (.json) or a preset name (not "
                    "needed with --resume: the run has its own)")
    tr.add_argument("--dataset",
                    help="digits (bundled; the default for a new run), mnist, fashion-mnist, "
                    "cifar10, digit-scenes (bundled masks and boxes; digit-scenes:N for N "
                    "training scenes, or digit-scenes:n=N,size=S,min=A,max=B,seed=K), imdb "
                    "(downloaded once), phrases (bundled texts), moving-digits (bundled clips "
                    "for video models; moving-digits:n=N,seed=K), a folder with one sub-folder "
                    "of images, .txt files or clips (videos, GIFs, folders of frames) per class "
                    "(or train/ and test/ folders holding them), or a .csv/.tsv of texts "
                    "(columns found by name, or "
                    "FILE.csv:text=COL,label=COL; add vocab=N for the vocabulary size); with "
                    "--resume: the run's own")
    tr.add_argument("--change-dataset", action="store_true",
                    help="with --resume and --dataset: continue the run on other data than "
                    "it was trained on (recorded in the run's notes)")
    tr.add_argument("--data-root", help="where downloaded datasets live")
    tr.add_argument("--epochs", type=positive(int), default=20, help="passes over the data")
    tr.add_argument("--batch-size", type=positive(int), default=64, help="images per step")
    tr.add_argument("--lr", type=positive(float), default=3e-3, help="learning rate")
    tr.add_argument("--optimizer", choices=["adam", "adamw", "sgd"], default="adam",
                    help="the optimizer")
    tr.add_argument("--weight-decay", type=float, default=1e-4, help="L2 penalty")
    tr.add_argument("--schedule", choices=["none", "cosine", "step"], default="cosine",
                    help="learning-rate schedule")
    tr.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto",
                    help="auto: CUDA, then Apple MPS, then CPU")
    tr.add_argument("--no-amp", action="store_true", help="no mixed precision on CUDA")
    tr.add_argument("--out", default="runs",
                    help="folder for run folders, relative to the current folder")
    tr.add_argument("--weights", help="start from these weights (matched by layer name)")
    tr.add_argument("--resume", help="continue this run folder")
    tr.add_argument("--dice", type=float, default=0.0, metavar="W",
                    help="segmentation: weight of the soft Dice loss added to per-pixel "
                    "cross-entropy, 0 to 10; 0 = cross-entropy only (other tasks ignore it)")
    tr.add_argument("--fine-tune", action="store_true",
                    help="fine-tune a pretrained model on --dataset: its head (the last layer "
                    "with weights) resized for the data's classes, every layer before it frozen; "
                    "the weights come from --weights or the model file's MODEL.safetensors")
    tr.add_argument("--cache-features", action="store_true",
                    help="compute the frozen layers' output once, cache it on disk (the "
                    "ConvScope data folder's cache/features) and train only the layers after "
                    "them from it; no augmentation while cached")
    tr.add_argument("--unfreeze-top", type=positive(int), metavar="N",
                    help="with --resume: make the top N frozen blocks trainable and continue "
                    "the run at a lower learning rate (--unfreeze-lr) with a fresh optimizer")
    tr.add_argument("--unfreeze-lr", type=positive(float), metavar="LR",
                    help="the learning rate after --unfreeze-top; None: a tenth of the run's")
    tr.add_argument("--flip", action="store_true", help="augment: mirror left-right")
    tr.add_argument("--crop", type=int, default=0, help="augment: random crop after padding N")
    tr.add_argument("--rotation", type=float, default=0.0, help="augment: ± degrees")
    tr.add_argument("--shear", type=float, default=0.0, help="augment: ± degrees")
    tr.add_argument("--color", type=float, default=0.0, help="augment: colour shift 0–1")
    tr.add_argument("--vflip", action="store_true", help="augment: mirror top-bottom")
    tr.add_argument("--zoom", type=float, default=0.0, help="augment: rescale by 1 ± Z (0–0.9)")
    tr.add_argument("--elastic", type=float, default=0.0,
                    help="augment: elastic warping, strength in pixels (0–200)")
    tr.add_argument("--json", action="store_true",
                    help="JSON lines: the start (device, run folder, notes, weights loaded), "
                    "one per epoch, then one with the test accuracy")
    tr.add_argument("--dry-run", action="store_true",
                    help="print the memory and time estimate (one measured step) and stop")
    tr.add_argument("--force", action="store_true",
                    help="train even when the estimate says the run does not fit in memory")
    tr.set_defaults(run=run)
