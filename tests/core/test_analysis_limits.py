"""The analysis refuses exactly what torch refuses, on each limit (issue 25).

The property tests draw random stacks; here every constraint torch checks at build or forward
time is tried on its edge: the input one smaller than the limit, at it, and one larger. On each
the analysis' verdict (and the layer it blames) must be torch's own, not only its shapes.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.analysis.model_analysis import analyze_model
from core.model.errors import LayerError
from core.model.spec import model_from_dict
from tests.core.torch_reference import run_reference


def _model(shape: list[int], layer: dict[str, Any]) -> dict[str, Any]:
    return {"format": "convscope.model/1", "name": "limit", "input": {"shape": shape},
            "layers": [{"name": "edge", **layer}]}


def _cases() -> list[tuple[str, dict[str, Any]]]:
    """(what, model) on both sides of each limit: n - 1, n, n + 1 of the input or parameter."""
    cases: list[tuple[str, dict[str, Any]]] = []

    def around(limit: int, low: int = 1) -> list[int]:
        return [n for n in (limit - 1, limit, limit + 1) if n >= low]

    for pad in (1, 2, 3):
        for size in around(pad):
            for kind in ("ReflectionPad2d", "ReplicationPad2d", "ZeroPad2d"):
                cases.append((f"{kind} {pad} on {size}×{size + 2}",
                              _model([1, size, size + 2], {"type": kind, "padding": pad})))
                cases.append((f"{kind} {pad} on {size + 2}×{size}",
                              _model([1, size + 2, size], {"type": kind, "padding": pad})))
            for mode in ("reflect", "circular", "replicate", "zeros"):
                for conv, shape in (("Conv1d", [1, size + 0]), ("Conv2d", [1, size, size]),
                                    ("Conv3d", [1, size, size, size])):
                    cases.append((f"{conv} {mode} padding {pad} on {size}",
                                  _model(shape, {"type": conv, "out_channels": 1,
                                                 "kernel_size": 1, "padding": pad,
                                                 "padding_mode": mode})))
    for kernel in (2, 3, 5):
        for size in around(kernel):
            cases.append((f"Conv2d kernel {kernel} on {size}",
                          _model([1, size, size], {"type": "Conv2d", "out_channels": 1,
                                                   "kernel_size": kernel})))
            cases.append((f"Conv2d kernel {kernel} dilation 2 on {2 * size - 1}",
                          _model([1, 2 * size - 1, 2 * size - 1],
                                 {"type": "Conv2d", "out_channels": 1, "kernel_size": kernel,
                                  "dilation": 2})))
            for pool in ("MaxPool2d", "AvgPool2d", "LPPool2d"):
                norm = {"norm_type": 2.0} if pool == "LPPool2d" else {}
                cases.append((f"{pool} kernel {kernel} on {size}",
                              _model([1, size, size], {"type": pool, "kernel_size": kernel,
                                                       **norm})))
        for padding in around(kernel // 2, 0):
            for pool in ("MaxPool2d", "AvgPool2d"):
                cases.append((f"{pool} kernel {kernel} padding {padding}",
                              _model([1, 6, 6], {"type": pool, "kernel_size": kernel,
                                                 "padding": padding})))
                cases.append((f"{pool} kernel {kernel} padding {padding} ceil",
                              _model([1, 5, 5], {"type": pool, "kernel_size": kernel,
                                                 "stride": 2, "padding": padding,
                                                 "ceil_mode": True})))
    for stride in (1, 2, 3):
        for extra in around(stride, 0):
            cases.append((f"ConvTranspose2d stride {stride} output_padding {extra}",
                          _model([1, 3, 3], {"type": "ConvTranspose2d", "out_channels": 1,
                                             "kernel_size": 3, "stride": stride,
                                             "output_padding": extra})))
        for padding in around(1 + stride, 0):
            cases.append((f"ConvTranspose2d stride {stride} padding {padding} on 1",
                          _model([1, 1, 1], {"type": "ConvTranspose2d", "out_channels": 1,
                                             "kernel_size": 3, "stride": stride,
                                             "padding": padding})))
    for groups in (2, 3):
        for channels in around(groups):
            cases.append((f"Conv2d groups {groups} on {channels} channels",
                          _model([channels, 4, 4], {"type": "Conv2d", "out_channels": groups,
                                                    "kernel_size": 1, "groups": groups})))
    for chunks in (2, 3):
        for channels in around(chunks):
            cases.append((f"Chunk {chunks} of {channels} channels",
                          _model([channels, 4, 4], {"type": "Chunk", "chunks": chunks,
                                                    "index": chunks - 1})))
    for output in (3, 4):
        for size in around(output):
            cases.append((f"AdaptiveAvgPool2d {output} on {size}",
                          _model([1, size, size], {"type": "AdaptiveAvgPool2d",
                                                   "output_size": output})))
    return cases


CASES = _cases()


@pytest.mark.parametrize("data", [model for _, model in CASES], ids=[what for what, _ in CASES])
def test_the_analysis_verdict_is_torchs_on_each_limit(data: dict[str, Any]) -> None:
    try:
        spec = model_from_dict(data)
    except ValueError:
        pytest.skip("outside the catalog's own ranges (refused before any analysis)")
    analysis = analyze_model(spec)
    reference = run_reference(spec)
    if reference.refused_at is None:
        assert analysis.error is None, f"torch accepts, the analysis says {analysis.error}"
        assert [a.output_shape for a in analysis.layers] == reference.shapes
        assert [a.params for a in analysis.layers] == reference.params
    else:
        assert isinstance(analysis.error, LayerError), (
            f"torch refuses ({reference.reason}); the analysis accepts it")
        assert analysis.error.layer == "edge"
