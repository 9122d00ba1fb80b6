"""``convscope export``: a model as PyTorch code, ONNX, TorchScript or a torchrun script."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.cli.common import fail, missing_folder, resolve_model
from core.model.errors import ModelError


def run(args: argparse.Namespace) -> int:
    from core.io.export import export_model
    from core.model.spec import load_model

    weights = Path(args.weights) if args.weights else None
    run = None
    if weights is not None:
        folder = weights if weights.is_dir() else weights.parent
        run = folder if (folder / "training.json").is_file() else None
        if not weights.exists():
            return fail(f"--weights {weights}: no such file or run folder")
    created = missing_folder(Path(args.output))
    try:
        spec = load_model(resolve_model(args.model))
        result = export_model(spec, args.format, Path(args.output), weights, args.dataset, run)
    except ModelError as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot write {args.output}: {exc.strerror or exc}")
    if created is not None:
        print(f"created the folder {created}")
    print(result.describe())
    return 0



def add_parser(commands: Any) -> None:
    """The sub-command and its arguments, on the dispatcher's sub-parsers."""
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
    exp.set_defaults(run=run)
