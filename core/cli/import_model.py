"""``convscope import``: a model file (and its weights) from a torchvision or timm model or an
ONNX file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.cli.common import fail, missing_folder
from core.model.errors import ModelError


def run(args: argparse.Namespace) -> int:
    from core.io.fx_import import save_imported

    if args.list == "timm":
        return _list_timm()
    if args.list is not None and args.list != "torchvision":
        return fail(f'--list {args.list}: the sources are "torchvision" and "timm"')
    if args.list:
        from core.io.torchvision_models import (
            classification_models,
            is_vision_transformer,
            segmentation_models,
        )

        for entry in classification_models():
            if is_vision_transformer(entry.name):
                continue  # refused: ConvScope is for convolutional networks
            count = f"{entry.params:>13,}" if entry.params else f"{'?':>13}"
            print(f"torchvision:{entry.name:28} {count} parameters")
        for entry in segmentation_models():
            count = f"{entry.params:>13,}" if entry.params else f"{'?':>13}"
            print(f"torchvision:{entry.name:28} {count} parameters (segmentation, with the "
                  "auxiliary head)")
        print("timm's CNNs: convscope import --list timm")
        return 0
    if args.source is None or args.output is None:
        return fail("import needs a SOURCE (torchvision:NAME, timm:NAME or a .onnx file) and "
                    "-o MODEL.json")
    output = Path(args.output)
    if output.suffix != ".json" or output.is_dir():
        return fail(f"-o {output}: the model file is a .json file")
    try:
        if args.source.startswith("torchvision:"):
            from core.io.torchvision_models import import_torchvision

            imported = import_torchvision(args.source.removeprefix("torchvision:"), args.weights)
        elif args.source.startswith("timm:"):
            from core.io.timm_models import import_timm

            imported = import_timm(args.source.removeprefix("timm:"), args.weights)
        elif args.source.lower().endswith(".onnx"):
            if args.weights:
                return fail("--weights is for torchvision and timm models; an ONNX file brings "
                            "its own")
            from core.io.onnx_import import import_onnx

            imported = import_onnx(args.source)
        else:
            return fail(f'cannot import "{args.source}": give torchvision:NAME (e.g. '
                        "torchvision:resnet18; --list shows them), timm:NAME (e.g. "
                        "timm:resnet18; --list timm) or a .onnx file")
        created = missing_folder(output)
        written = save_imported(imported, output)
    except ModelError as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot write {output}: {exc.strerror or exc}")
    print(f"imported {imported.spec.name}: {len(imported.spec.layers)} layers")
    if created is not None:
        print(f"  created the folder {created}")
    for note in imported.notes:
        print(f"  note: {note}")
    for path in written:
        print(f"  wrote {path}")
    if len(written) > 1:
        print(f"open it with: convscope {written[0]}   (weights: --weights {written[1]})")
    else:
        print(f"open it with: convscope {written[0]}")
    return 0


def _list_timm() -> int:
    from core.io.timm_models import timm_models

    try:
        models = timm_models()
    except ModelError as exc:  # timm is not installed: how to get it
        return fail(str(exc))
    cnns = [m for m in models if m.refused is None]
    for entry in cnns:
        print(f"timm:{entry.name:40} {entry.family}")
    print(f"{len(cnns)} of timm's {len(models)} architectures are convolutional families; the "
          "rest (vision transformers, MLP mixers) are refused. A CNN that uses an operation "
          "ConvScope has no layer for is refused when imported, with the operation named.")
    return 0


def add_parser(commands: Any) -> None:
    """The sub-command and its arguments, on the dispatcher's sub-parsers."""
    imp = commands.add_parser("import", help="make a model file from a torchvision or timm model "
                              "or an ONNX file")
    imp.add_argument("source", nargs="?", help="torchvision:NAME (e.g. torchvision:resnet18), "
                     "timm:NAME (e.g. timm:efficientnet_b0) or a .onnx file")
    imp.add_argument("-o", "--output", help="the model file to write (.json); weights go "
                     "beside it (.safetensors)")
    imp.add_argument("--weights", help="torchvision's pretrained weights: DEFAULT, a weight "
                     "name such as IMAGENET1K_V2, or a state_dict file of that model; timm: a "
                     "local weights file of that model (.safetensors or a torch state_dict)")
    imp.add_argument("--list", nargs="?", const="torchvision", metavar="SOURCE",
                     help="list a source's models: torchvision (the default, with parameter "
                     "counts) or timm (its convolutional architectures)")
    imp.set_defaults(run=run)
