"""``convscope render dream`` and ``convscope render style``: DeepDream from an image and
Gatys style transfer, as PNG figures (the command line face of the Inspect tab's views)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.cli.common import fail, positive, resolve_model, with_force
from core.model.errors import ModelError

IMAGE_HELP = ("an image file, a sample photo name (astronaut, camera, coffee, chelsea, …) or "
              "digits:N, the N-th image (from 0) of the bundled digits' test split")


def _render(args: argparse.Namespace, draw: Callable[[Any], Any]) -> int:
    """Open the model (and weights), ``draw(inspector)`` the figure and write it as the PNG
    ``-o`` names, all-or-nothing; every failure is one line."""
    from core.data.errors import DataError
    from core.inspect import render
    from core.inspect.inspector import InspectError, Inspector

    output = Path(args.output)
    if output.is_dir() or output.suffix.lower() != ".png":
        return fail(f"-o {args.output}: give a file name ending in .png")
    try:
        weights = Path(args.weights) if args.weights else None
        inspector = Inspector.from_paths(resolve_model(args.model), weights, force=args.force)
        out = render.save_png(draw(inspector), output)
    except (ModelError, DataError, InspectError) as exc:
        return fail(with_force(exc))
    except OSError as exc:
        return fail(f"cannot write {args.output}: {exc.strerror or exc}")
    print(out)
    return 0


def run_dream(args: argparse.Namespace) -> int:
    """``render dream MODEL --image SRC [--layer L] [--channel C] [--octaves N] …``."""
    from core.inspect.dream import DreamSettings, deep_dream, default_layer
    from core.inspect.inspector import image_for
    from core.inspect.render_dream import dream_picture

    def draw(inspector: Any) -> Any:
        inp = image_for(inspector, args.image)
        layer = args.layer or default_layer(inspector)
        settings = DreamSettings(layer, args.channel, args.octaves, args.octave_scale,
                                 args.steps, args.step_size, args.jitter)
        dream = deep_dream(inspector, inp, settings, seed=args.seed)
        return dream_picture(inspector.spec.name, dream, settings, inp, args.size)

    return _render(args, draw)


def run_style(args: argparse.Namespace) -> int:
    """``render style MODEL --content SRC --style SRC [--content-layer L] …``."""
    from core.inspect.inspector import image_for
    from core.inspect.render_dream import style_picture
    from core.inspect.style import StyleSettings, default_layers, transfer_style

    def draw(inspector: Any) -> Any:
        content, style = image_for(inspector, args.content), image_for(inspector, args.style)
        content_layer, style_layers = default_layers(inspector)
        if args.content_layer:
            content_layer = args.content_layer
        if args.style_layers:
            style_layers = tuple(name.strip() for name in args.style_layers.split(",")
                                 if name.strip())
        settings = StyleSettings(content_layer, style_layers, args.content_weight,
                                 args.style_weight, args.steps, args.learning_rate)
        result = transfer_style(inspector, content, style, settings)
        return style_picture(inspector.spec.name, result, content, style, args.size)

    return _render(args, draw)


def add_parsers(views: Any, size: Any) -> None:
    """``dream`` and ``style`` on ``render``'s sub-parsers (``size`` parses WIDTHxHEIGHT)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("model", help="a model file (.json) or a preset name")
    common.add_argument("--weights", help="weights (.safetensors) or a run folder; omitted: "
                        "random initial weights, stated plainly in the image")
    common.add_argument("-o", "--output", required=True, help="the PNG to write")
    common.add_argument("--force", action="store_true",
                        help="run even when the estimate says it does not fit in memory")
    d = views.add_parser("dream", parents=[common], help="DeepDream: an image changed so a "
                         "layer (or one channel) responds more, over octaves")
    d.add_argument("--image", required=True, help="the image to start from: " + IMAGE_HELP)
    d.add_argument("--layer", help="the layer to excite (default: an activation two thirds "
                   "of the way in)")
    d.add_argument("--channel", type=int, help="one channel's mean (default: the layer's "
                   "norm, the mean square of all its units)")
    d.add_argument("--octaves", type=positive(int), default=3, help="scales, coarse to fine "
                   "(default 3)")
    d.add_argument("--octave-scale", type=float, default=1.4, help="size ratio between "
                   "octaves (default 1.4)")
    d.add_argument("--steps", type=positive(int), default=10, help="steps per octave "
                   "(default 10)")
    d.add_argument("--step-size", type=positive(float), default=0.02,
                   help="pixel change per step, 0–1 scale (default 0.02)")
    d.add_argument("--jitter", type=int, default=8, help="random shift per step in pixels "
                   "(default 8)")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--size", type=size, default=(1400, 600), help="WIDTHxHEIGHT pixels")
    d.set_defaults(run=run_dream)
    s = views.add_parser("style", parents=[common], help="neural style transfer (Gatys): the "
                         "content of one image in the style of another")
    s.add_argument("--content", required=True, help="the content image: " + IMAGE_HELP)
    s.add_argument("--style", required=True, help="the style image: " + IMAGE_HELP)
    s.add_argument("--content-layer", help="default: VGG's relu4_2, found by structure")
    s.add_argument("--style-layers", help="comma-separated; default: the first activation of "
                   "each resolution, up to five (VGG's relu1_1 … relu5_1)")
    s.add_argument("--content-weight", type=float, default=1.0)
    s.add_argument("--style-weight", type=float, default=1e4)
    s.add_argument("--steps", type=positive(int), default=100, help="Adam steps (default 100)")
    s.add_argument("--learning-rate", type=positive(float), default=0.02)
    s.add_argument("--size", type=size, default=(1600, 600), help="WIDTHxHEIGHT pixels")
    s.set_defaults(run=run_style)
