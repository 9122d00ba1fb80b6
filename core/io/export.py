"""Exporting a model (and its trained weights) to where users go next.

``pytorch``: a readable .py (core.io.pytorch_code) with the weights beside it as safetensors;
``onnx``: opset 17, named input/output, dynamic batch; ``torchscript``: a traced module for
``torch.jit.load``; ``script``: a standalone train.py for ``python`` or ``torchrun``
(core.io.train_script). Every file is written to a temporary name and renamed.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from core.analysis.model_analysis import analyze_model
from core.build import ConvScopeNet, build_model
from core.io.codegen import module_name, write_source
from core.io.export_result import ExportResult
from core.io.pytorch_code import pytorch_source
from core.model.errors import ModelError
from core.model.spec import ModelSpec
from core.regular_files import write_atomic
from core.weights import apply_weights, read_weights, save_weights, state_by_layer

FORMATS = ("pytorch", "onnx", "torchscript", "script")
SUFFIXES = {"pytorch": ".py", "onnx": ".onnx", "torchscript": ".pt", "script": ".py"}
ONNX_OPSET = 17


def load_fitting_weights(spec: ModelSpec, weights: Path | None) -> ConvScopeNet:
    """The built model, with ``weights`` (a file or a run folder) when given; ModelError when
    the weights do not fit every layer (another model's weights)."""
    from core.train.preflight import check_room, inspection_memory

    check_room(inspection_memory(spec).total * 2, f"exporting {spec.name}")  # a batch of 2
    net = build_model(spec).eval()
    if weights is None:
        return net
    if weights.is_dir():
        from core.train.checkpoint import open_run

        weights = open_run(weights).weights
    report = apply_weights(net, read_weights(weights))
    if report.shape_mismatch or report.not_in_file:
        problems = report.shape_mismatch[:2] + [f"{k} missing" for k in report.not_in_file[:2]]
        raise ModelError(f"{weights} does not fit {spec.name}: {'; '.join(problems)}; give the "
                         "weights of this model (its run folder or .safetensors)")
    return net


def make_parent(out: Path) -> None:
    """Create the folder ``out`` goes into (and its parents), as ``render`` and ``lesson
    --slides`` do; ModelError in one line when it cannot be made."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"-o {out}: cannot create the folder {out.parent} "
                         f"({exc.strerror or exc})") from None


def export_model(spec: ModelSpec, fmt: str, out: Path, weights: Path | None = None,
                 dataset: str | None = None, run: Path | None = None) -> ExportResult:
    """Export ``spec`` in ``fmt``; raises ModelError with a one-line reason."""
    if fmt not in FORMATS:
        raise ModelError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    analysis = analyze_model(spec)
    analysis.raise_error()
    if out.is_dir():
        raise ModelError(f"-o {out} is a folder; give a file name ending in {SUFFIXES[fmt]}")
    if out.suffix != SUFFIXES[fmt]:
        raise ModelError(f"-o {out}: a {fmt} export is a {SUFFIXES[fmt]} file")
    if out.parent.exists() and not out.parent.is_dir():
        raise ModelError(f"-o {out}: {out.parent} is a file, not a folder")
    if weights is None and run is not None:
        weights = run
    if run is None and weights is not None and weights.is_dir():
        run = weights  # a run folder: its weights, and for the script its settings and data
    net = load_fitting_weights(spec, weights)
    make_parent(out)  # once nothing can refuse any more: a refusal leaves no empty folder
    if fmt == "pytorch":
        return _export_pytorch(spec, net, out, weights is not None)
    if fmt == "onnx":
        return _export_onnx(spec, net, out)
    if fmt == "torchscript":
        return _export_torchscript(spec, net, out)
    from core.io.train_script import export_script

    return export_script(spec, net if weights is not None else None, out, dataset, run)


def _export_pytorch(spec: ModelSpec, net: ConvScopeNet, out: Path,
                    with_weights: bool) -> ExportResult:
    source = pytorch_source(spec)
    files = [out]
    beside = out.with_suffix(".safetensors")
    if with_weights:
        save_weights(net, beside)
        files.append(beside)
    elif beside.exists():
        beside.unlink()  # stale weights of an earlier export would be loaded by model()
    write_source(out, source)
    needs = "(needs only torch" + (" and safetensors)" if with_weights else ")")
    module = module_name(out.stem)
    if module is not None:
        return ExportResult(tuple(files), f"use it with: from {module} import model; "
                            f"net = model()  {needs}")
    return ExportResult(tuple(files), f"{out.name} is not an importable module name: rename it "
                        "(letters, digits and _, e.g. my_model.py), then: from my_model import "
                        f"model; net = model(); or run it: python {out.name}  {needs}")


def _example(spec: ModelSpec) -> torch.Tensor:
    return torch.zeros(2, *spec.input_shape)


class _ShuffleByReshape(torch.nn.Module):
    """nn.ChannelShuffle as reshape and transpose, which ONNX has (it has no channel shuffle)."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c = x.shape[:2]
        rest = x.shape[2:]
        x = x.reshape(n, self.groups, c // self.groups, *rest).transpose(1, 2)
        return x.reshape(n, c, *rest)


def _export_onnx(spec: ModelSpec, net: ConvScopeNet, out: Path) -> ExportResult:
    for name, module in list(net.layers.items()):
        if isinstance(module, torch.nn.ChannelShuffle):
            net.layers[name] = _ShuffleByReshape(module.groups)

    def write(path: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notes
            torch.onnx.export(
                net, (_example(spec),), str(path), opset_version=ONNX_OPSET,
                input_names=["input"], output_names=["output"],
                dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, dynamo=False)

    write_atomic(out, write)
    return ExportResult((out,), f"open it in Netron, or run it with onnxruntime: "
                        f"InferenceSession('{out.name}').run(None, {{'input': x}}) with x of "
                        f"shape (batch, {', '.join(map(str, spec.input_shape))}), float32")


def _export_torchscript(spec: ModelSpec, net: ConvScopeNet, out: Path) -> ExportResult:
    def write(path: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit's deprecation notes
            traced = torch.jit.trace(  # type: ignore[no-untyped-call]
                net, _example(spec), check_trace=False)
            torch.jit.save(traced, str(path))

    write_atomic(out, write)
    return ExportResult((out,), f"load it with: net = torch.jit.load('{out.name}')")


def layer_state(net: ConvScopeNet) -> dict[str, torch.Tensor]:
    """The weights keyed as the exported module's state_dict (``layer.tensor``)."""
    return state_by_layer(net)
