"""The ``convscope`` command: the GUI without arguments, sub-commands for headless work."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from core.model.errors import ModelError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from core.data.datasets import Dataset
    from core.inspect.inspector import Inspector
    from core.model.spec import ModelSpec
    from core.train.settings import TrainingSettings

USAGE_ERROR = 2


def _fail(message: str) -> int:
    print(f"convscope: {message}", file=sys.stderr)
    return USAGE_ERROR


def _with_force(exc: Exception) -> str:
    """The error's line; a memory refusal says how to try anyway."""
    from core.train.preflight import MemoryRefused

    return f"{exc} (--force tries anyway)" if isinstance(exc, MemoryRefused) else str(exc)


def _resolve_model(source: str) -> Path:
    """A model file path, or a bundled preset's file when ``source`` names one."""
    from core.presets import find_preset

    path = Path(source)
    if path.exists() or path.suffix == ".json":
        return path
    return find_preset(source).path


def _summary(args: argparse.Namespace) -> int:
    from core.analysis.model_analysis import analyze_model
    from core.analysis.summary import format_markdown, format_table, summary_dict
    from core.model.spec import load_model

    try:
        spec = load_model(_resolve_model(args.model))
    except ModelError as exc:
        return _fail(str(exc))
    analysis = analyze_model(spec)
    if analysis.error is not None:
        if not args.json and not args.markdown:
            sys.stdout.write(format_table(analysis))
        return _fail(str(analysis.error))
    if args.json:
        print(json.dumps(summary_dict(analysis), indent=1))
    elif args.markdown:
        sys.stdout.write(format_markdown(analysis))
    else:
        sys.stdout.write(format_table(analysis))
    return 0


def _positive(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
        return value
    return parse


def _train(args: argparse.Namespace) -> int:
    from core.train.memory import tune_malloc

    tune_malloc()  # before torch allocates anything
    from core.data.augmentation import Augmentation
    from core.data.datasets import DataError, load_dataset
    from core.model.spec import load_model
    from core.train.engine import train
    from core.train.settings import TrainingError, TrainingSettings

    try:
        if args.resume is None and args.model is None:
            raise TrainingError("give the model to train: a model file (.json) or a preset "
                                "name, or --resume RUN to continue a run")
        spec = load_model(_resolve_model(args.model)) if args.resume is None else None
        settings = TrainingSettings(
            optimizer=args.optimizer, lr=args.lr, batch_size=args.batch_size,
            epochs=args.epochs, weight_decay=args.weight_decay, schedule=args.schedule,
            device=args.device, mixed_precision=not args.no_amp, dice=args.dice,
            augmentation=Augmentation(flip=args.flip, crop=args.crop, rotation=args.rotation,
                                      shear=args.shear, color=args.color))
        settings.check()
        planned = settings
        if args.resume is not None:
            from core.train.checkpoint import open_for_resume

            # first, and writing nothing: every file of the run checked, one line if damaged
            point = open_for_resume(Path(args.resume))
            spec = load_model(Path(args.resume) / "model.json")
            planned = TrainingSettings.from_dict(point.state.settings)
            recorded = point.state.dataset
            if args.dataset is None or args.dataset == recorded:
                args.dataset = recorded  # a run continues on its own data
            elif not args.change_dataset:
                raise TrainingError(
                    f"--resume {args.resume} was trained on {recorded}, not {args.dataset}: "
                    "leave --dataset out to continue on its own data, or add "
                    "--change-dataset to continue it on the other data on purpose")
        elif args.change_dataset:
            raise TrainingError("--change-dataset goes with --resume (a new run simply uses "
                                "--dataset)")
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
                            Path(args.data_root) if args.data_root else None)
        verdict = _preflight(args, spec, planned, data)
    except (ModelError, DataError, TrainingError) as exc:
        return _fail(str(exc))
    if verdict is not None:
        return verdict
    events = train(spec, data, settings, Path(args.out),
                   init_weights=Path(args.weights) if args.weights else None,
                   resume=Path(args.resume) if args.resume else None)
    try:
        return _report(events, args, spec.name, data.describe(), spec.task)
    except OSError as exc:
        return _fail(f"cannot write the run folder in {args.out}: {exc.strerror or exc}")


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
                        measure=args.dry_run)
    gpu = torch.cuda.is_available()
    if args.dry_run:
        if args.json:
            print(json.dumps(verdict.to_dict(gpu)))
        else:
            print(verdict.sentence(gpu))
        return 0
    if not verdict.fits and not args.force:
        return _fail(f"{verdict.sentence(gpu)} (--force tries anyway)")
    return None


def _json_line(data: dict[str, object]) -> str:
    """One JSON line; NaN (e.g. accuracy of an empty split) is written as null."""
    clean = {k: (None if isinstance(v, float) and v != v else v) for k, v in data.items()}
    return json.dumps(clean)


def _report(events: Iterator[object], args: argparse.Namespace, name: str,
            described: str, task_name: str = "classification") -> int:
    from core.tasks import task_for
    from core.train.settings import BatchProgress, EpochEnd, Failed, Finished, Started

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
            return _fail(event.message)
    return 0


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 1600x900") from None
    if not (200 <= width <= 8000 and 200 <= height <= 8000):
        raise argparse.ArgumentTypeError("width and height must be 200 to 8000 pixels")
    return width, height


def _render(args: argparse.Namespace) -> int:
    from core.data.errors import DataError
    from core.inspect import render
    from core.inspect.inspector import InspectError, Inspector, image_for

    output = Path(args.output)
    if output.is_dir():
        return _fail(f"-o {output} is a folder; give a file name ending in .png")
    if output.suffix.lower() != ".png":
        return _fail(f"-o {output}: the output is a PNG image; use a name ending in .png")
    try:
        weights = Path(args.weights) if args.weights else None
        inspector = Inspector.from_paths(
            _resolve_model(args.model), weights, force=args.force,
            attribution=args.view in ("gradcam", "saliency", "occlusion"))
        notes = [inspector.weights_note]
        name = inspector.spec.name
        if args.view in ("masks", "boxes"):
            fig = _scene_figure(args, inspector, notes)
        elif args.view == "filters":
            grid = inspector.filters(args.layer, args.channel)
            what = "RGB kernels" if grid.color else f"input channel {grid.in_channel} of " \
                f"{grid.in_channels}"
            fig = render.filters_figure(grid, f"{name} · {args.layer} filters ({what})", notes,
                                        args.size)
        else:
            inp = image_for(inspector, args.image)
            notes += [f"input: {inp.source}" + (f" — {'; '.join(inp.notes)}" if inp.notes
                                                else "")]
            if args.view == "activations":
                values = inspector.activation(args.layer, inp)
                labels = inspector.classes if values.ndim == 1 else ()
                fig = render.activations_figure(values, f"{name} · {args.layer} activations "
                                                f"({'×'.join(map(str, values.shape))})", notes,
                                                args.size, labels)
            else:
                if args.view == "gradcam":
                    heat, cls, layer = inspector.gradcam(inp, args.target, args.layer)
                    method = f"Grad-CAM on {layer}"
                elif args.view == "saliency":
                    heat, cls = inspector.saliency(inp, args.target)
                    method = "saliency (|gradient|)"
                else:
                    heat, cls = inspector.occlusion(inp, args.target)
                    method = "occlusion sensitivity"
                if not heat.any():
                    notes.append("the map is empty: no part of the input raises this class's "
                                 "score here (try another layer or class)")
                probs = inspector.top_k(inp, 3)
                notes.append("top: " + ", ".join(f"{p.label} {p.probability:.1%}" for p in probs))
                fig = render.overlay_figure(
                    inp.display, heat, f"{name} · {method} for class "
                    f"{inspector.classes[cls] if cls < len(inspector.classes) else cls}", notes,
                    args.size)
        out = render.save_png(fig, output)
    except (ModelError, DataError, InspectError) as exc:
        return _fail(_with_force(exc))
    except OSError as exc:
        return _fail(f"cannot write {args.output}: {exc.strerror or exc}")
    print(out)
    return 0


def _position(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not C,Y,X (whole numbers, e.g. 0,3,2; C,X for a Conv1d)") from None
    if not 2 <= len(values) <= 3 or min(values) < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not C,Y,X (2 or 3 numbers from 0)")
    return values


def _step(args: argparse.Namespace) -> int:
    from core.classroom.step import StepError
    from core.data.errors import DataError

    try:
        session = _step_session(args)
        step = session.step(args.layer, args.at)
    except (ModelError, DataError, StepError) as exc:
        return _fail(_with_force(exc))
    if args.json:
        data = step.to_json()
        data["input"] = session.source
        data["weights"] = session.weights_note
        print(json.dumps(data))
    else:
        from core.classroom.text import describe_step

        print(describe_step(step))
    return 0


def _step_session(args: argparse.Namespace) -> Any:
    from core.classroom.lessons import find_lesson
    from core.classroom.session import StepSession, array_input, read_array
    from core.inspect.inspector import Inspector, image_for

    path = Path(args.model)
    lesson = None
    if not path.exists() and path.suffix != ".json":
        try:
            lesson = find_lesson(args.model)
        except ModelError:
            lesson = None  # then a preset name, or "no such file"
    if lesson is not None:
        if args.weights is not None:
            raise ModelError(f"{lesson.key} is a lesson with its own fixed kernels; save it as a "
                             "model file to step through it with other weights")
        session = lesson.session()
    else:
        session = StepSession(Inspector.from_paths(
            _resolve_model(args.model), Path(args.weights) if args.weights else None,
            force=args.force, attribution=False))  # a forward pass only
    if args.image is not None:
        inp = image_for(session.inspector, args.image)
        session.set_input(inp.tensor[0], inp.source + (f" ({'; '.join(inp.notes)})"
                                                       if inp.notes else ""))
    elif args.input is not None:
        path = Path(args.input)
        session.set_input(array_input(read_array(path), session.spec.input_shape, path),
                          f"{path.name}, exactly as given")
    return session


def _lesson(args: argparse.Namespace) -> int:
    from core.classroom.lessons import find_lesson, list_lessons

    if args.name is None:
        if args.slides is not None:
            return _fail("--slides needs a lesson name: convscope lesson NAME --slides DIR")
        for lesson in list_lessons():
            print(f"{lesson.key:16} {lesson.title}")
        return 0
    try:
        lesson = find_lesson(args.name)
    except ModelError as exc:
        return _fail(str(exc))
    if args.slides is None:
        print(f"{lesson.title}\n\n{lesson.explanation}\n")
        for number, step in enumerate(lesson.steps, 1):
            print(f"{number}. {step.title}: {step.text}")
        return 0
    folder = Path(args.slides)
    if folder.exists() and not folder.is_dir():
        return _fail(f"--slides {folder} is a file; give a folder for the PNG slides")
    from core.classroom.slides import write_lesson_slides

    try:
        paths = write_lesson_slides(lesson, folder)
    except OSError as exc:
        return _fail(f"cannot write slides in {folder}: {exc.strerror or exc}")
    for path in paths:
        print(path)
    return 0


def _scene_figure(args: argparse.Namespace, inspector: Inspector, notes: list[str]) -> Figure:
    """The masks or boxes view of one input (a test scene with its ground truth, or a file)."""
    import torch

    from core.inspect import render_scenes, scenes
    from core.inspect.inspector import InspectError

    for option in ("score", "nms", "alpha"):
        value = getattr(args, option, 0.5)
        if not 0 <= value <= 1:
            raise InspectError(f"--{option} must be 0–1, got {value:g}")
    out = inspector.analysis.output_shape or ()
    if len(out) != 3:
        raise InspectError(f"render {args.view} needs a model whose output is a map per pixel "
                           f"or grid cell; {inspector.spec.name} outputs "
                           f"{'×'.join(map(str, out))}")
    scene = scenes.scene_input(inspector, args.image)
    inp = scene.input
    notes.append(f"input: {inp.source}" + (f" — {'; '.join(inp.notes)}" if inp.notes else ""))
    name = inspector.spec.name
    raw = scenes.raw_output(inspector, inp.tensor)[0]
    if args.view == "masks":
        predicted = raw.max(0).indices.numpy()  # argmax is ~9× slower on CPU
        classes = ["background", *inspector.classes]
        if scene.mask is not None:
            from core.tasks.segmentation import image_iou

            iou = image_iou(torch.from_numpy(predicted), torch.from_numpy(scene.mask),
                            len(classes))
            notes.append(f"mIoU of this image: {iou:.3f}")
        return render_scenes.masks_figure(inp.display, predicted, scene.mask, classes,
                                          f"{name} · masks", notes, args.size, args.alpha)
    size = inp.display.shape[1:]
    found = scenes.detect(raw, (int(size[0]), int(size[1])), args.score, args.nms)
    truth = (scene.boxes, scene.labels) if scene.boxes is not None else None
    picture = scenes.boxes_picture(inp.display, found, inspector.classes, truth)
    notes.append(f"{len(found.boxes)} boxes at score ≥ {args.score:g} after NMS at IoU "
                 f"{args.nms:g}; score = objectness × class probability")
    return render_scenes.boxes_figure(picture, scenes.objectness_map(raw),
                                      f"{name} · boxes", notes, args.size)


def _presets(args: argparse.Namespace) -> int:
    from core.presets import list_presets

    for preset in list_presets():
        print(f"{preset.key:18} {preset.description}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from core.io.fx_import import save_imported

    if args.list:
        from core.io.torchvision_models import classification_models

        for entry in classification_models():
            count = f"{entry.params:>13,}" if entry.params else f"{'?':>13}"
            print(f"torchvision:{entry.name:28} {count} parameters")
        return 0
    if args.source is None or args.output is None:
        return _fail("import needs a SOURCE (torchvision:NAME or a .onnx file) and -o MODEL.json")
    output = Path(args.output)
    if output.suffix != ".json" or output.is_dir():
        return _fail(f"-o {output}: the model file is a .json file")
    try:
        if args.source.startswith("torchvision:"):
            from core.io.torchvision_models import import_torchvision

            imported = import_torchvision(args.source.removeprefix("torchvision:"), args.weights)
        elif args.source.lower().endswith(".onnx"):
            if args.weights:
                return _fail("--weights is for torchvision models; an ONNX file brings its own")
            from core.io.onnx_import import import_onnx

            imported = import_onnx(args.source)
        else:
            return _fail(f'cannot import "{args.source}": give torchvision:NAME (e.g. '
                         "torchvision:resnet18; --list shows them) or a .onnx file")
        written = save_imported(imported, output)
    except ModelError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot write {output}: {exc.strerror or exc}")
    print(f"imported {imported.spec.name}: {len(imported.spec.layers)} layers")
    for note in imported.notes:
        print(f"  note: {note}")
    for path in written:
        print(f"  wrote {path}")
    if len(written) > 1:
        print(f"open it with: convscope {written[0]}   (weights: --weights {written[1]})")
    else:
        print(f"open it with: convscope {written[0]}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from core.io.export import export_model
    from core.model.spec import load_model

    weights = Path(args.weights) if args.weights else None
    run = None
    if weights is not None:
        folder = weights if weights.is_dir() else weights.parent
        run = folder if (folder / "training.json").is_file() else None
        if not weights.exists():
            return _fail(f"--weights {weights}: no such file or run folder")
    try:
        spec = load_model(_resolve_model(args.model))
        result = export_model(spec, args.format, Path(args.output), weights, args.dataset, run)
    except ModelError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot write {args.output}: {exc.strerror or exc}")
    print(result.describe())
    return 0


class _Parser(argparse.ArgumentParser):
    """Bad arguments: exit 2 with a one-line reason (and where to find the usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="convscope",
        description="Build, train and look inside convolutional neural networks. "
        "Without a command, opens the window (convscope [MODEL.json] opens a model in it).",
    )
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    summary = commands.add_parser(
        "summary", help="print a model's layers, output shapes, parameters and MACs"
    )
    summary.add_argument("model", help="a model file (.json) or a preset name, e.g. resnet18")
    out = summary.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the summary as JSON")
    out.add_argument("--markdown", action="store_true", help="print a Markdown table")
    summary.set_defaults(run=_summary)
    tr = commands.add_parser("train", help="train a model headless",
                             formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                             epilog="Runs go to --out (here: ./runs); the window's runs go to "
                             "the ConvScope data folder (Help → Where Runs Are Stored).")
    tr.add_argument("model", nargs="?", help="a model file (.json) or a preset name (not "
                    "needed with --resume: the run has its own)")
    tr.add_argument("--dataset",
                    help="digits (bundled; the default for a new run), mnist, fashion-mnist, "
                    "cifar10, digit-scenes (bundled masks and boxes; digit-scenes:N for N "
                    "training scenes, or digit-scenes:n=N,size=S,min=A,max=B,seed=K), or a "
                    "folder with one sub-folder per class; with --resume: the run's own")
    tr.add_argument("--change-dataset", action="store_true",
                    help="with --resume and --dataset: continue the run on other data than "
                    "it was trained on (recorded in the run's notes)")
    tr.add_argument("--data-root", help="where downloaded datasets live")
    tr.add_argument("--epochs", type=_positive(int), default=20, help="passes over the data")
    tr.add_argument("--batch-size", type=_positive(int), default=64, help="images per step")
    tr.add_argument("--lr", type=_positive(float), default=3e-3, help="learning rate")
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
    tr.add_argument("--flip", action="store_true", help="augment: mirror left-right")
    tr.add_argument("--crop", type=int, default=0, help="augment: random crop after padding N")
    tr.add_argument("--rotation", type=float, default=0.0, help="augment: ± degrees")
    tr.add_argument("--shear", type=float, default=0.0, help="augment: ± degrees")
    tr.add_argument("--color", type=float, default=0.0, help="augment: colour shift 0–1")
    tr.add_argument("--json", action="store_true",
                    help="JSON lines: the start (device, run folder, notes, weights loaded), "
                    "one per epoch, then one with the test accuracy")
    tr.add_argument("--dry-run", action="store_true",
                    help="print the memory and time estimate (one measured step) and stop")
    tr.add_argument("--force", action="store_true",
                    help="train even when the estimate says the run does not fit in memory")
    tr.set_defaults(run=_train)
    rend = commands.add_parser("render", help="render a view of a model to PNG")
    views = rend.add_subparsers(dest="view", required=True, parser_class=_Parser)
    for view, text in (("filters", "a convolution's kernels"),
                       ("activations", "a layer's feature maps for an image"),
                       ("gradcam", "Grad-CAM heat map over an image"),
                       ("saliency", "saliency (gradient) map over an image"),
                       ("occlusion", "occlusion sensitivity over an image"),
                       ("masks", "a segmentation model's masks over an image or test scene"),
                       ("boxes", "a detection model's boxes and objectness over an image")):
        v = views.add_parser(view, help=text)
        v.add_argument("model", help="a model file (.json) or a preset name")
        v.add_argument("--weights", help="weights (.safetensors) or a run folder; omitted: "
                       "random initial weights, stated in the image")
        v.add_argument("-o", "--output", required=True, help="the PNG to write")
        v.add_argument("--size", type=_size, default=(1200, 900), help="WIDTHxHEIGHT pixels")
        v.add_argument("--force", action="store_true",
                       help="render even when the estimate says it does not fit in memory")
        if view == "filters":
            v.add_argument("--layer", required=True)
            v.add_argument("--channel", type=int, help="input channel (default: colour for RGB "
                           "input, else 0)")
        elif view in ("masks", "boxes"):
            v.add_argument("--image", required=True, help="scenes:N (digit-scenes test scene N, "
                           "with its ground truth) or an image file")
            if view == "masks":
                v.add_argument("--alpha", type=float, default=0.6, help="mask opacity 0–1")
            else:
                v.add_argument("--score", type=float, default=0.3,
                               help="score threshold (objectness × class probability)")
                v.add_argument("--nms", type=float, default=0.5, help="NMS IoU threshold")
        else:
            v.add_argument("--image", required=True, help="an image file, a sample photo name "
                           "(astronaut, camera, coffee, chelsea, …) or digits:N, the N-th "
                           "image (from 0) of the bundled digits' test split")
            v.add_argument("--layer", required=view == "activations",
                           help="the layer" + (" (default: the last with feature maps)"
                                               if view == "gradcam" else ""))
            if view != "activations":
                v.add_argument("--target", type=int, help="class index (default: predicted)")
        v.set_defaults(run=_render)
    imp = commands.add_parser("import", help="make a model file from a torchvision model or an "
                              "ONNX file")
    imp.add_argument("source", nargs="?", help="torchvision:NAME (e.g. torchvision:resnet18) or "
                     "a .onnx file")
    imp.add_argument("-o", "--output", help="the model file to write (.json); weights go "
                     "beside it (.safetensors)")
    imp.add_argument("--weights", help="torchvision's pretrained weights: DEFAULT, a weight "
                     "name such as IMAGENET1K_V2, or a state_dict file of that model")
    imp.add_argument("--list", action="store_true", help="list torchvision's classification "
                     "models with their parameter counts")
    imp.set_defaults(run=_import)
    exp = commands.add_parser("export", help="export a model to PyTorch code, ONNX, TorchScript "
                              "or a training script for torchrun")
    exp.add_argument("model", help="a model file (.json) or a preset name")
    exp.add_argument("--format", required=True, choices=["pytorch", "onnx", "torchscript",
                                                         "script"])
    exp.add_argument("-o", "--output", required=True, help="the file to write (.py, .onnx, .pt)")
    exp.add_argument("--weights", help="a run folder or a weights file (.safetensors); a run "
                     "also gives the training script its dataset and settings")
    exp.add_argument("--dataset", help="script: the dataset to train on when no run is given "
                     "(default digits)")
    exp.set_defaults(run=_export)
    st = commands.add_parser(
        "step", help="the arithmetic of one output value of a convolution, pooling or "
        "transposed convolution layer")
    st.add_argument("model", help="a model file (.json), a preset or a lesson name")
    st.add_argument("--layer", required=True, help="the layer (Conv1d/2d, ConvTranspose2d, "
                    "MaxPool2d, AvgPool2d, LPPool2d, LocallyConnected2d)")
    st.add_argument("--at", required=True, type=_position, metavar="C,Y,X",
                    help="the output position: channel, row, column (C,X for a Conv1d)")
    st.add_argument("--weights", help="weights (.safetensors) or a run folder; omitted: random "
                    "initial weights (a lesson: its own fixed kernels)")
    source = st.add_mutually_exclusive_group()
    source.add_argument("--image", help="an image file, a sample photo name or digits:N, "
                        "fitted to the model's input like the inspector does")
    source.add_argument("--input", help="a .npy array or a text file of numbers (rows; channels "
                        "separated by a blank line) used exactly as given")
    st.add_argument("--json", action="store_true", help="print one JSON object")
    st.add_argument("--force", action="store_true",
                    help="step through a model that the memory pre-flight says will not fit")
    st.set_defaults(run=_step)
    les = commands.add_parser("lesson", help="list the lectures' worked examples, show one, "
                              "or write its slides")
    les.add_argument("name", nargs="?", help="a lesson (omitted: list them)")
    les.add_argument("--slides", metavar="DIR", help="write numbered 1920×1080 PNG slides here")
    les.set_defaults(run=_lesson)
    presets = commands.add_parser("presets", help="list the bundled preset models")
    presets.set_defaults(run=_presets)
    return parser


COMMANDS: tuple[str, ...] = ("summary", "presets", "train", "render", "import", "export")
COMMANDS += ("step", "lesson")  # the classroom (issue 9)


def main(argv: Sequence[str] | None = None,
         gui: Callable[[argparse.Namespace], int] | None = None) -> int:
    """Run a command; without one, open the window through ``gui`` (given by app.launcher)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    model_file = None
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        model_file = argv.pop(0)  # convscope MODEL.json opens it in the window
    parser = _parser()
    args = parser.parse_args(argv)
    args.model_file = model_file
    if args.command is None:
        if gui is None:
            parser.print_help()
            return USAGE_ERROR
        return gui(args)
    code = args.run(args)
    assert isinstance(code, int)
    return code


if __name__ == "__main__":
    sys.exit(main())
