"""``convscope render``: the Inspect tab's pictures (filters, activations, attributions, masks,
boxes; dreams and styles in core.cli.render_dream) as PNG files, the builder's model diagram
as SVG or PNG, and a run's time-lapse of how its filters formed as a GIF or MP4."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.cli.common import Parser, fail, resolve_model, with_force
from core.model.errors import ModelError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from core.inspect.inspector import Inspector


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 1600x900") from None
    if not (200 <= width <= 8000 and 200 <= height <= 8000):
        raise argparse.ArgumentTypeError("width and height must be 200 to 8000 pixels")
    return width, height


def run_diagram(args: argparse.Namespace) -> int:
    """``convscope render diagram MODEL [--weights RUN --image SRC] [--direction down|right]
    -o FILE.svg|.png``: with an image, every block shows its output's thumbnail."""
    from core.data.errors import DataError
    from core.inspect.render_diagram import SUFFIXES, DiagramError, write_diagram
    from core.model.spec import load_model

    output = Path(args.output)
    if output.is_dir():
        return fail(f"-o {output} is a folder; give a file name ending in .svg or .png")
    if output.suffix.lower() not in SUFFIXES:
        return fail(f"-o {output}: the diagram is an SVG or PNG image; use a name ending in "
                    ".svg or .png")
    if not output.parent.is_dir():
        return fail(f"-o {output}: the folder {output.parent} does not exist")
    if args.weights and not args.image:
        return fail("--weights draws each block's output for an input: give --image SRC too "
                    "(a sample photo such as astronaut, an image file or digits:N)")
    try:
        pictures = None
        if args.image:
            from core.inspect.inspector import Inspector, image_for
            from core.inspect.thumbnails import model_pictures

            inspector = Inspector.from_paths(resolve_model(args.model),
                                             Path(args.weights) if args.weights else None,
                                             force=args.force, attribution=False)
            spec = inspector.spec
            pictures = model_pictures(inspector, image_for(inspector, args.image))
        else:
            spec = load_model(resolve_model(args.model))
        out = write_diagram(spec, args.direction, output, pictures)
    except (ModelError, DiagramError, DataError) as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot write {args.output}: {exc.strerror or exc}")
    print(out)
    return 0


def run_timelapse(args: argparse.Namespace) -> int:
    """``render timelapse RUN --layer L -o FILE.gif|.mp4 [--fps N]``."""
    from core.inspect.inspector import InspectError
    from core.inspect.timelapse import write_timelapse
    from core.train import snapshots
    from core.train.checkpoint import open_run
    from core.train.settings import TrainingError

    folder, output = Path(args.run_folder), Path(args.output)
    if not folder.is_dir():
        return fail(f"{folder} is not a run folder")
    if output.is_dir():
        return fail(f"-o {output} is a folder; give a file name ending in .gif or .mp4")
    try:
        state = open_run(folder).state
        count = write_timelapse(snapshots.load(folder), args.layer, output, state.history,
                                state.best_metric, args.fps)
    except (ModelError, InspectError, TrainingError) as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot write {args.output}: {exc.strerror or exc}")
    print(f"{output} ({count} frames)")
    return 0


def run_text(args: argparse.Namespace) -> int:
    """``render text MODEL --weights RUN (--text "…" | --sample N) --layer L -o FILE.png``."""
    from core.data.errors import DataError
    from core.inspect import render
    from core.inspect import text as inspect_text
    from core.inspect.inspector import InspectError, Inspector
    from core.inspect.render_text import text_figure

    output = Path(args.output)
    if output.is_dir() or output.suffix.lower() != ".png":
        return fail(f"-o {output}: the output is a PNG image; use a file name ending in .png")
    try:
        weights = Path(args.weights) if args.weights else None
        inspector = Inspector.from_paths(resolve_model(args.model), weights, force=args.force)
        run_dir = weights if weights is not None and weights.is_dir() else (
            weights.parent if weights is not None else None)
        source = inspect_text.text_source(inspector, run_dir)
        text = (inspect_text.sample_text(source.vocabulary, source.data, args.sample)
                if args.sample is not None else
                inspect_text.read_text(source.vocabulary, args.text or inspect_text.EXAMPLE))
        layer = args.layer or next(iter(inspect_text.sequence_layers(inspector.spec)), "")
        strip = inspect_text.word_strip(inspector, text, layer, args.channel)
        chosen = strip.strongest if args.channel is None else args.channel
        saliency, target = inspect_text.word_saliency(inspector, text, args.target)
        label = inspector.classes[target] if target < len(inspector.classes) else str(target)
        notes = [inspector.weights_note, f"input: {text.source}; {source.note}"]
        if text.unknown:
            notes.append("not in the vocabulary: " + ", ".join(text.unknown))
        fig = text_figure(text.words, strip.values, saliency,
                          f"{inspector.spec.name} · filter {chosen} of {layer} (orange) · "
                          f"saliency for {label} (red up, blue down)",
                          inspect_text.text_top_k(inspector, text),
                          inspect_text.top_ngrams(inspector, source, layer, chosen), notes,
                          args.size)
        out = render.save_png(fig, output)
    except (ModelError, DataError, InspectError) as exc:
        return fail(with_force(exc))
    except OSError as exc:
        return fail(f"cannot write {args.output}: {exc.strerror or exc}")
    print(out)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.view == "diagram":
        return run_diagram(args)
    from core.data.errors import DataError
    from core.inspect import render
    from core.inspect.inspector import InspectError, Inspector, image_for

    output = Path(args.output)
    if output.is_dir():
        return fail(f"-o {output} is a folder; give a file name ending in .png")
    if output.suffix.lower() != ".png":
        return fail(f"-o {output}: the output is a PNG image; use a name ending in .png")
    try:
        weights = Path(args.weights) if args.weights else None
        inspector = Inspector.from_paths(
            resolve_model(args.model), weights, force=args.force,
            attribution=args.view in ("gradcam", "saliency", "occlusion"))
        notes = [inspector.weights_note]
        name = inspector.spec.name
        if args.view in ("masks", "boxes"):
            fig = _scene_figure(args, inspector, notes)
        elif args.view == "filters":
            grid = inspector.filters(args.layer, args.channel, args.frame)
            what = "RGB" if grid.color else f"input channel {grid.in_channel} of " \
                f"{grid.in_channels}"
            if grid.frame is not None:
                what += f", kernel frame {grid.frame} of {grid.depth}"
            kind = "templates" if args.layer in inspector.template_layers() else "filters"
            fig = render.filters_figure(grid, f"{name} · {args.layer} {kind} ({what})", notes,
                                        args.size)
        else:
            inp = image_for(inspector, args.image)
            notes += [f"input: {inp.source}" + (f" — {'; '.join(inp.notes)}" if inp.notes
                                                else "")]
            if args.view == "activations":
                values = inspector.activation(args.layer, inp)
                labels = inspector.classes if values.ndim == 1 else ()
                shape = "×".join(map(str, values.shape))
                if values.ndim == 4:  # a Conv3d layer (C, T, H, W): one frame
                    from core.inspect.inputs import frame_of

                    values, chosen = frame_of(values, args.frame, args.layer)
                    shape += f", frame {chosen}"
                fig = render.activations_figure(values, f"{name} · {args.layer} activations "
                                                f"({shape})", notes,
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
        return fail(with_force(exc))
    except OSError as exc:
        return fail(f"cannot write {args.output}: {exc.strerror or exc}")
    print(out)
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


def add_parser(commands: Any) -> None:
    """The sub-command and its arguments, on the dispatcher's sub-parsers."""
    rend = commands.add_parser("render", help="render a view of a model to PNG (the diagram "
                               "also to SVG), or a run's time-lapse to GIF/MP4")
    views = rend.add_subparsers(dest="view", required=True, parser_class=Parser)
    d = views.add_parser("diagram", help="the model's diagram, as the builder lays it out")
    d.add_argument("model", help="a model file (.json) or a preset name")
    d.add_argument("--direction", choices=("down", "right"), default="right",
                   help="the flow: top to bottom or left to right (default)")
    d.add_argument("--weights", help="weights (.safetensors) or a run folder for the "
                   "thumbnails; omitted: random initial weights")
    d.add_argument("--image", help="draw in each block a thumbnail of its output for this "
                   "input: a sample photo (astronaut, coffee…), an image file or digits:N")
    d.add_argument("--force", action="store_true",
                   help="compute the thumbnails even when the estimate says they do not fit "
                   "in memory")
    d.add_argument("-o", "--output", required=True, help="the SVG or PNG to write")
    d.set_defaults(run=run)
    lapse = views.add_parser("timelapse", help="a run's filters forming, one frame per "
                             "snapshot (start and each epoch), as a GIF or MP4")
    lapse.add_argument("run_folder", metavar="RUN", help="a run folder")
    lapse.add_argument("--layer", required=True, help="a convolution the run snapshotted")
    lapse.add_argument("-o", "--output", required=True, help="the .gif or .mp4 to write (.mp4 "
                       "needs imageio-ffmpeg)")
    lapse.add_argument("--fps", type=float, default=2.0, help="frames per second (default 2)")
    lapse.set_defaults(run=run_timelapse)
    txt = views.add_parser("text", help="a text model on one text: a filter's strip under the "
                           "words, saliency per word, top-k and the filter's top n-grams")
    txt.add_argument("model", help="a model file (.json) or a preset name")
    txt.add_argument("--weights", help="a run folder (its vocabulary and dataset) or its "
                     "weights; omitted: random weights on the bundled phrases")
    which = txt.add_mutually_exclusive_group()
    which.add_argument("--text", help="the text to read (default: an example sentence)")
    which.add_argument("--sample", type=int, help="validation text N of the run's dataset")
    txt.add_argument("--layer", help="a layer along the words (default: the first Conv1d)")
    txt.add_argument("--channel", type=int, help="the filter (default: the strongest here)")
    txt.add_argument("--target", type=int, help="the class saliency explains (default: "
                     "predicted)")
    txt.add_argument("-o", "--output", required=True, help="the PNG to write")
    txt.add_argument("--size", type=_size, default=(1400, 800), help="WIDTHxHEIGHT pixels")
    txt.add_argument("--force", action="store_true",
                     help="render even when the estimate says it does not fit in memory")
    txt.set_defaults(run=run_text)
    from core.cli.render_dream import add_parsers

    add_parsers(views, _size)
    for view, text in (("filters", "a convolution's kernels, or a Linear's class templates"),
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
            v.add_argument("--frame", type=int, help="a Conv3d kernel's frame (default: the "
                           "middle one)")
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
                           "image (from 0) of the bundled digits' test split; for a video "
                           "model a clip (video file, GIF, folder of frames) or "
                           "moving-digits:N")
            v.add_argument("--layer", required=view == "activations",
                           help="the layer" + (" (default: the last with feature maps)"
                                               if view == "gradcam" else ""))
            if view != "activations":
                v.add_argument("--target", type=int, help="class index (default: predicted)")
            else:
                v.add_argument("--frame", type=int, help="a Conv3d layer's output frame "
                               "(default: the middle one)")
        v.set_defaults(run=run)
