"""The analysis reproduces the lectures' worked numbers and explains invalid layers plainly."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from core import analyze_model, model_from_dict, summary
from core.analysis.summary import format_markdown, format_table
from core.build import build_model
from core.model.errors import LayerError
from core.model.spec import FORMAT
from core.presets import load_preset


def model(shape: list[int], *layers: dict[str, Any]) -> dict[str, Any]:
    named = [{"name": f"layer{i + 1}", **layer} if "name" not in layer else layer
             for i, layer in enumerate(layers)]
    return {"format": FORMAT, "name": "m", "input": {"shape": shape}, "layers": named}


def one(shape: list[int], layer: dict[str, Any]) -> tuple[tuple[int, ...], int]:
    result = summary(model(shape, layer))["layers"][0]
    return tuple(result["output_shape"]), result["params"]


# -- the lectures' worked numbers ------------------------------------------------------------

def test_dense_layer_on_mnist_has_78500_parameters() -> None:
    assert one([784], {"type": "Linear", "out_features": 100}) == ((100,), 78_500)


def test_5x5_fields_on_28x28_give_24x24() -> None:
    assert one([1, 28, 28], {"type": "Conv2d", "out_channels": 1, "kernel_size": 5})[0] == (
        1, 24, 24)


def test_six_5x5x3_filters_on_32x32x3() -> None:
    shape, params = one([3, 32, 32], {"type": "Conv2d", "out_channels": 6, "kernel_size": 5})
    assert shape == (6, 28, 28)
    assert params == 6 * 76  # 5×5×3 + 1 = 76 per filter
    assert one([3072], {"type": "Linear", "out_features": 1})[1] == 3_073


def test_padding_1_turns_32x32x3_into_34x34x3() -> None:
    assert one([3, 32, 32], {"type": "ZeroPad2d", "padding": 1}) == ((3, 34, 34), 0)


def test_one_by_one_convolution_reduces_192_channels_to_32() -> None:
    shape, params = one([192, 28, 28], {"type": "Conv2d", "out_channels": 32, "kernel_size": 1})
    assert shape == (32, 28, 28)
    assert params == 192 * 32 + 32


def test_2x2_max_pooling_with_stride_2_halves() -> None:
    assert one([64, 11, 11], {"type": "MaxPool2d", "kernel_size": 2, "stride": 2})[0] == (
        64, 5, 5)


# -- invalid models ---------------------------------------------------------------------------

def test_kernel_larger_than_input_names_layer_and_sizes() -> None:
    spec = model([1, 12, 12],
                 {"name": "conv1", "type": "Conv2d", "out_channels": 4, "kernel_size": 5},
                 {"name": "pool1", "type": "MaxPool2d", "kernel_size": 2},
                 {"name": "conv3", "type": "Conv2d", "out_channels": 4, "kernel_size": 5},
                 {"name": "fc", "type": "Linear", "out_features": 2})
    analysis = analyze_model(model_from_dict(spec))
    assert str(analysis.error).startswith(
        "layer conv3: its 5×5 kernel is larger than its 4×4 input")
    assert [layer.name for layer in analysis.layers] == ["conv1", "pool1"]
    with pytest.raises(LayerError, match="layer conv3"):
        summary(spec)
    with pytest.raises(ValueError, match="layer conv3"):
        summary(spec)


@pytest.mark.parametrize(
    ("shape", "layer", "words"),
    [
        ([1, 3, 3], {"type": "Conv2d", "out_channels": 2, "kernel_size": 3, "dilation": 2},
         "dilated to span 5×5"),
        ([1, 2, 2], {"type": "Conv2d", "out_channels": 2, "kernel_size": 5, "padding": 1},
         "even padded to 4×4"),
        ([3, 8, 8], {"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "groups": 2},
         "groups = 2 must divide both in_channels (3)"),
        ([3, 8, 8], {"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "stride": 2,
                     "padding": "same"}, 'padding "same" only works with stride 1'),
        ([3, 8, 8], {"type": "Conv2d", "in_channels": 1, "out_channels": 4, "kernel_size": 3},
         "in_channels is set to 1 but the incoming shape 3×8×8 has 3"),
        ([3, 8], {"type": "Conv2d", "out_channels": 4, "kernel_size": 3},
         "needs a (channels, height, width) input but receives shape 3×8"),
        ([3, 8, 8], {"type": "MaxPool2d", "kernel_size": 2, "padding": 2},
         "more than half of the 2×2 window"),
        ([3, 2, 2], {"type": "Conv2d", "out_channels": 1, "kernel_size": 3, "padding": 2,
                     "padding_mode": "reflect"}, "reflect padding of 2"),
        ([8], {"type": "Linear", "in_features": 9, "out_features": 2}, "in_features is set to 9"),
        ([3, 8, 8], {"type": "Upsample", "scale_factor": 2, "size": 4}, "exactly one of them"),
        ([3, 8, 8], {"type": "Flatten", "start_dim": 0}, "flatten the batch"),
        ([3, 8, 8], {"type": "Softmax", "dim": 5}, "dim must be from -4 to 3"),
        ([3, 8, 8], {"type": "BatchNorm1d"}, "needs a (features) or (channels, length) input"),
    ],
)
def test_invalid_layers_are_explained(shape: list[int], layer: dict[str, Any], words: str) -> None:
    analysis = analyze_model(model_from_dict(model(shape, {"name": "bad", **layer})))
    assert analysis.error is not None and analysis.error.layer == "bad"
    assert words in analysis.error.reason


def test_add_of_different_shapes_is_explained() -> None:
    spec = model([3, 8, 8],
                 {"name": "a", "type": "Conv2d", "out_channels": 4, "kernel_size": 3},
                 {"name": "sum", "type": "Add", "inputs": ["a", "input"]})
    error = analyze_model(model_from_dict(spec)).error
    assert error is not None and error.layer == "sum"
    assert "same shape, but they are 4×6×6, 3×8×8" in error.reason


def test_megapixel_photo_into_dense_layer_is_analysed_without_allocating() -> None:
    spec = model([3, 1000, 1000], {"type": "Flatten"}, {"type": "Linear", "out_features": 1000})
    result = summary(spec)
    assert result["total_params"] == 3_000_001_000
    assert result["total_macs"] == 3_000_000_000


# -- receptive fields, MACs, memory ------------------------------------------------------------

def test_receptive_fields_of_the_keras_convnet() -> None:
    analysis = analyze_model(load_preset("keras_mnist"))
    fields = {a.name: a.receptive_field for a in analysis.layers}
    assert [(fields[n].size[0], fields[n].jump[0]) for n in ("conv1", "pool1", "conv2", "pool2")
            ] == [(3, 1), (4, 2), (8, 2), (10, 4)]
    assert fields["fc1"] is None


def test_vgg16_receptive_field_is_the_published_212() -> None:
    analysis = analyze_model(load_preset("vgg16"))
    assert analysis.get("conv5_3").receptive_field.size == (196, 196)
    assert analysis.get("pool5").receptive_field.size == (212, 212)
    assert analysis.get("pool5").receptive_field.jump == (32, 32)


def test_receptive_field_maps_an_output_position_to_input_pixels() -> None:
    spec = model([1, 10, 10], {"type": "Conv2d", "out_channels": 1, "kernel_size": 3})
    field = analyze_model(model_from_dict(spec)).layers[0].receptive_field
    assert field.input_window((0, 0)) == ((0.0, 3.0), (0.0, 3.0))
    assert field.input_window((4, 2)) == ((4.0, 7.0), (2.0, 5.0))


@pytest.mark.parametrize("key", ["keras_mnist", "fcn_small", "unet_small", "resnet18", "lenet5"])
def test_macs_equal_torch_flop_counter(key: str) -> None:
    spec = load_preset(key)
    net = build_model(spec).eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        net(torch.randn(1, *spec.input_shape))
    assert counter.get_total_flops() == 2 * summary(spec)["total_macs"]


def test_activation_memory_counts_every_layer_output() -> None:
    analysis = analyze_model(load_preset("keras_mnist"))
    elements = sum(a.output_shape[0] * (a.output_shape[1] * a.output_shape[2]
                                        if len(a.output_shape) == 3 else 1)
                   for a in analysis.layers)
    assert analysis.activation_bytes == 4 * elements


def test_tables_show_totals_and_the_error() -> None:
    analysis = analyze_model(load_preset("random_features"))
    table = format_table(analysis)
    assert "Total params: 21,706" in table and "Trainable params: 2,890" in table
    assert "Non-trainable params: 18,816" in table and "(frozen)" in table
    markdown = format_markdown(analysis)
    assert markdown.count("\n|") == len(analysis.layers) + 2
    bad = model([1, 2, 2], {"name": "c", "type": "Conv2d", "out_channels": 1, "kernel_size": 3})
    assert "INVALID: layer c:" in format_table(analyze_model(model_from_dict(bad)))


def test_summary_json_has_exactly_the_documented_keys() -> None:
    result = summary(load_preset("keras_mnist"))
    assert set(result) == {"name", "input_shape", "layers", "total_params", "trainable_params",
                           "non_trainable_params", "total_macs"}
    assert set(result["layers"][0]) == {"name", "type", "output_shape", "params",
                                        "trainable_params", "macs"}
