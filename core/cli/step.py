"""``convscope step``: the arithmetic of one output value of a convolution or pooling layer;
``--grad`` the terms of one gradient (backward), ``--matrix`` a channel as a matrix."""

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
            f"{text!r} is not C,Y,X (whole numbers, e.g. 0,3,2; C,X for a Conv1d; C,I,A,B for "
            "--grad weight)") from None
    if not 1 <= len(values) <= 4 or min(values) < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not C,Y,X (1 to 4 numbers from 0)")
    return values


def _what(args: argparse.Namespace, session: Any) -> Any:
    """The step, gradient or matrix the arguments ask for."""
    from core.classroom.step import StepError

    if args.grad is not None and args.matrix:
        raise StepError("--grad and --matrix show different things: give one of them")
    if args.grad is not None:
        from core.classroom.backward import session_gradient

        if args.target is None:
            raise StepError("--grad needs --target K: the class whose loss is backpropagated")
        return session_gradient(session, args.layer, args.grad, args.at, args.target)
    if args.target is not None:
        raise StepError("--target is for --grad (the class whose loss is backpropagated)")
    if args.matrix:
        from core.classroom.matrix import session_matrix

        if len(args.at) != 1:
            raise StepError(f"--matrix takes --at C (the output channel), got "
                            f"{','.join(map(str, args.at))}")
        return session_matrix(session, args.layer, args.at[0])
    if not 2 <= len(args.at) <= 4:
        raise StepError(f"--at is C,Y,X (C,X for a Conv1d, C,T,Y,X for a Conv3d), got "
                        f"{','.join(map(str, args.at))}")
    return session.step(args.layer, args.at)


def run(args: argparse.Namespace) -> int:
    from core.classroom.step import StepError
    from core.data.errors import DataError

    try:
        session = _step_session(args)
        step = _what(args, session)
    except (ModelError, DataError, StepError) as exc:
        return fail(with_force(exc))
    if args.json:
        data = step.to_json()
        data["input"] = session.source
        data["weights"] = session.weights_note
        print(json.dumps(data))
    else:
        from core.classroom.text import describe

        print(describe(step))
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
    st.add_argument("--layer", required=True, help="the layer (Conv1d/2d/3d, ConvTranspose2d, "
                    "MaxPool2d, AvgPool2d, LPPool2d, LocallyConnected2d)")
    st.add_argument("--at", required=True, type=_position, metavar="C,Y,X",
                    help="the output position: channel, row, column (C,X for a Conv1d, C,T,Y,X "
                    "for a Conv3d: T the output frame); with "
                    "--grad weight the weight C,I,A,B (C,I,B for a Conv1d, O,I for a Linear), "
                    "--grad input the input cell I,Y,X, --grad bias the channel C; with "
                    "--matrix the output channel C")
    st.add_argument("--grad", choices=("weight", "input", "bias"),
                    help="backward: every term of the loss's gradient with respect to one "
                    "weight, input cell or bias of a Conv1d/Conv2d/Linear layer, their running "
                    "sum, and autograd's value")
    st.add_argument("--target", type=int, metavar="K",
                    help="with --grad: the class the loss is computed for (cross-entropy to "
                    "class K; segmentation: every pixel of class K)")
    st.add_argument("--matrix", action="store_true",
                    help="output channel C of a convolution as a matrix: one row per output "
                    "cell, one column per input cell (row-major), and the bias")
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
