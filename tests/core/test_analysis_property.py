"""Property tests: on random layer stacks the analysis agrees with real torch, always.

Hypothesis draws hundreds of stacks (many of them invalid). For each, the pure-Python analysis
must give exactly the shapes and parameter counts of a real torch forward pass for every layer
torch accepts, and must stop with a LayerError naming exactly the layer torch refuses.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from core.analysis.model_analysis import analyze_model
from core.model.errors import LayerError
from core.model.spec import model_from_dict
from tests.core.torch_reference import run_reference

# CONVSCOPE_THOROUGH=1 multiplies the examples by 25, for a long run by hand.
SCALE = 25 if os.environ.get("CONVSCOPE_THOROUGH") else 1
small = st.integers(1, 4)
sizes = st.one_of(small, st.lists(small, min_size=2, max_size=2))


def _conv2d(draw: Any) -> dict[str, Any]:
    groups = draw(st.sampled_from([1, 1, 1, 2]))
    layer: dict[str, Any] = {
        "type": "Conv2d",
        "out_channels": groups * draw(st.integers(1, 3)),
        "kernel_size": draw(sizes),
    }
    if draw(st.booleans()):
        layer["stride"] = draw(st.one_of(st.integers(1, 3), st.lists(st.integers(1, 3),
                                                                        min_size=2, max_size=2)))
    if draw(st.booleans()):
        layer["padding"] = draw(st.one_of(st.integers(0, 3), st.sampled_from(["same", "valid"])))
    if draw(st.booleans()):
        layer["dilation"] = draw(st.integers(1, 2))
    if groups > 1:
        layer["groups"] = groups
    if draw(st.booleans()):
        layer["padding_mode"] = draw(st.sampled_from(["zeros", "reflect", "replicate",
                                                      "circular"]))
    if draw(st.booleans()):
        layer["bias"] = False
    return layer


def _pool(draw: Any) -> dict[str, Any]:
    kind = draw(st.sampled_from(["MaxPool2d", "AvgPool2d", "LPPool2d"]))
    layer: dict[str, Any] = {"type": kind, "kernel_size": draw(sizes)}
    if kind == "LPPool2d":
        layer["norm_type"] = draw(st.sampled_from([1.0, 2.0, 3.0]))
    if draw(st.booleans()):
        layer["stride"] = draw(st.integers(1, 3))
    if kind != "LPPool2d" and draw(st.booleans()):
        layer["padding"] = draw(st.integers(0, 2))
    if kind == "MaxPool2d" and draw(st.booleans()):
        layer["dilation"] = draw(st.integers(1, 2))
    if draw(st.booleans()):
        layer["ceil_mode"] = True
    return layer


def _spatial_layer(draw: Any) -> dict[str, Any]:
    choice = draw(st.sampled_from([
        "conv", "conv", "conv", "pool", "pool", "transpose", "adaptive", "bn", "act", "act",
        "lrn", "dropout2d", "upsample", "pad", "identity", "shuffle", "chunk",
    ]))
    if choice == "conv":
        return _conv2d(draw)
    if choice == "pool":
        return _pool(draw)
    if choice == "transpose":
        layer = {"type": "ConvTranspose2d", "out_channels": draw(small),
                 "kernel_size": draw(sizes), "stride": draw(st.integers(1, 3))}
        if draw(st.booleans()):
            layer["padding"] = draw(st.integers(0, 3))
        if draw(st.booleans()):
            layer["output_padding"] = draw(st.integers(0, 2))
        return layer
    if choice == "adaptive":
        out = draw(st.one_of(small, st.lists(st.one_of(small, st.none()), min_size=2,
                                             max_size=2)))
        kind = draw(st.sampled_from(["AdaptiveAvgPool2d", "AdaptiveMaxPool2d"]))
        return {"type": kind, "output_size": out}
    if choice == "bn":
        return {"type": "BatchNorm2d", "affine": draw(st.booleans())}
    if choice == "act":
        return {"type": draw(st.sampled_from(["ReLU", "LeakyReLU", "ReLU6", "ELU", "GELU",
                                               "Sigmoid", "Tanh", "SiLU", "Hardswish",
                                               "Hardsigmoid"]))}
    if choice == "shuffle":
        return {"type": "ChannelShuffle", "groups": draw(st.integers(1, 3))}
    if choice == "chunk":
        return {"type": "Chunk", "chunks": draw(st.integers(1, 4)),
                "index": draw(st.integers(0, 3))}
    if choice == "lrn":
        return {"type": "LocalResponseNorm", "size": draw(st.integers(1, 4))}
    if choice == "dropout2d":
        return {"type": "Dropout2d", "p": 0.3}
    if choice == "upsample":
        mode = draw(st.sampled_from(["nearest", "bilinear"]))
        layer = {"type": "Upsample", "mode": mode}
        if draw(st.booleans()):
            layer["scale_factor"] = draw(st.sampled_from([0.5, 1.5, 2, 2.0, 3]))
        else:
            layer["size"] = draw(sizes)
        if mode == "bilinear" and draw(st.booleans()):
            layer["align_corners"] = draw(st.booleans())
        return layer
    if choice == "pad":
        kind = draw(st.sampled_from(["ZeroPad2d", "ReflectionPad2d", "ReplicationPad2d"]))
        padding = draw(st.one_of(st.integers(0, 3),
                                 st.lists(st.integers(0, 3), min_size=4, max_size=4)))
        return {"type": kind, "padding": padding}
    return {"type": "Identity"}


def _gate(draw: Any) -> dict[str, Any]:
    """A squeeze-and-excitation gate: global pooling whose C×1×1 output scales the map."""
    return {"type": "AdaptiveAvgPool2d", "output_size": draw(st.sampled_from([1, [1, None]]))}


def _flat_layer(draw: Any) -> dict[str, Any]:
    choice = draw(st.sampled_from(["linear", "linear", "bn", "act", "dropout", "softmax"]))
    if choice == "linear":
        return {"type": "Linear", "out_features": draw(st.integers(1, 16)),
                "bias": draw(st.booleans())}
    if choice == "bn":
        return {"type": "BatchNorm1d"}
    if choice == "act":
        return {"type": draw(st.sampled_from(["ReLU", "Tanh", "Sigmoid", "GELU"]))}
    if choice == "dropout":
        return {"type": "Dropout", "p": 0.5}
    return {"type": "Softmax", "dim": draw(st.sampled_from([-3, -1, 1, 2]))}  # never the batch


@st.composite
def stacks_2d(draw: Any) -> dict[str, Any]:
    shape = [draw(st.integers(1, 4)), draw(st.integers(1, 12)), draw(st.integers(1, 12))]
    layers: list[dict[str, Any]] = []
    flat = False
    for i in range(draw(st.integers(1, 8))):
        name = f"l{i}"
        if not flat and i >= 1 and draw(st.integers(0, 9)) == 0:
            layers.append({"name": name, **_gate(draw)})
            layers.append({"name": f"{name}m", "type": "Mul", "inputs": [f"l{i - 1}", name]})
            continue
        if not flat and i >= 2 and draw(st.integers(0, 5)) == 0:
            partner = f"l{draw(st.integers(0, i - 2))}"
            kind = draw(st.sampled_from(["Add", "Concat", "Mul"]))
            layers.append({"name": name, "type": kind, "inputs": [f"l{i - 1}", partner]})
            continue
        if not flat and draw(st.integers(0, 7)) == 0:
            layer = {"type": "Flatten"}
            flat = True
        else:
            layer = _flat_layer(draw) if flat else _spatial_layer(draw)
        layers.append({"name": name, **layer})
    return {"format": "convscope.model/1", "name": "random", "input": {"shape": shape},
            "layers": layers}


@st.composite
def stacks_nd(draw: Any) -> dict[str, Any]:
    dims = draw(st.sampled_from([1, 3]))
    shape = [draw(small)] + [draw(st.integers(1, 7)) for _ in range(dims)]
    layers = []
    for i in range(draw(st.integers(1, 4))):
        layer: dict[str, Any] = {"name": f"l{i}", "type": f"Conv{dims}d",
                                 "out_channels": draw(small),
                                 "kernel_size": draw(st.integers(1, 4))}
        if draw(st.booleans()):
            layer["padding"] = draw(st.one_of(st.integers(0, 2), st.just("same")))
        if draw(st.booleans()):
            layer["stride"] = draw(st.integers(1, 2))
        if draw(st.booleans()):
            layer["padding_mode"] = draw(st.sampled_from(["zeros", "reflect", "circular"]))
        layers.append(layer)
        if draw(st.booleans()):
            layers.append({"name": f"a{i}", "type": "ReLU"})
    if draw(st.booleans()):
        layers += [{"name": "flat", "type": "Flatten"},
                   {"name": "head", "type": "Linear", "out_features": 3}]
    return {"format": "convscope.model/1", "name": "random", "input": {"shape": shape},
            "layers": layers}


def _agree(data: dict[str, Any]) -> None:
    spec = model_from_dict(data)
    analysis = analyze_model(spec)  # must never raise
    reference = run_reference(spec)
    ours = [(a.output_shape, a.params) for a in analysis.layers]
    theirs = list(zip(reference.shapes, reference.params, strict=True))
    event("torch accepts" if reference.refused_at is None else "torch refuses")
    if reference.refused_at is None:
        assert analysis.error is None, f"torch accepts, analysis says {analysis.error}"
        assert ours == theirs
        return
    refused = spec.layers[reference.refused_at].name
    assert isinstance(analysis.error, LayerError), (
        f"torch refuses {refused} ({reference.reason}); the analysis accepts it")
    assert analysis.error.layer == refused, (
        f"torch refuses {refused} ({reference.reason}), analysis blames {analysis.error}")
    assert isinstance(analysis.error, ValueError)
    assert ours == theirs


@settings(max_examples=400 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stacks_2d())
def test_random_2d_stacks_agree_with_torch(data: dict[str, Any]) -> None:
    _agree(data)


@settings(max_examples=150 * SCALE, deadline=None)
@given(stacks_nd())
def test_random_1d_and_3d_stacks_agree_with_torch(data: dict[str, Any]) -> None:
    _agree(data)


@st.composite
def single_layers(draw: Any) -> dict[str, Any]:
    """One spatial layer on a tiny input: reaches each rule's edge cases far more often."""
    shape = [draw(st.integers(1, 3)), draw(st.integers(1, 6)), draw(st.integers(1, 6))]
    layer = draw(st.sampled_from([_conv2d, _pool, _spatial_layer]))(draw)
    return {"format": "convscope.model/1", "name": "one", "input": {"shape": shape},
            "layers": [{"name": "only", **layer}]}


@settings(max_examples=600 * SCALE, deadline=None)
@given(single_layers())
def test_single_layers_agree_with_torch(data: dict[str, Any]) -> None:
    _agree(data)
