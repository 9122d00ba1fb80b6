"""``convscope step``: the arithmetic of one output value of a convolution or pooling layer."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from core.cli.common import fail, resolve_model, with_force
from core.model.errors import ModelError


def _position(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not C,Y,X (whole numbers, e.g. 0,3,2; C,X for a Conv1d)") from None
    if not 2 <= len(values) <= 3 or min(values) < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not C,Y,X (2 or 3 numbers from 0)")
    return values


def run(args: argparse.Namespace) -> int:
    from core.classroom.step import StepError
    from core.data.errors import DataError

    try:
        session = _step_session(args)
        step = session.step(args.layer, args.at)
    except (ModelError, DataError, StepError) as exc:
        return fail(with_force(exc))
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
            resolve_model(args.model), Path(args.weights) if args.weights else None,
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


def add_parser(commands: Any) -> None:
    """The sub-command and its arguments, on the dispatcher's sub-parsers."""
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
    st.set_defaults(run=run)
