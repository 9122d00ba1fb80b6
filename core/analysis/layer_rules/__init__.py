"""Shape, parameter and multiply-accumulate rules for every layer type in the catalog.

Pure Python arithmetic, so a model far too large to allocate (a megapixel photo into a dense
layer) is analysed instantly. A property test holds every rule equal to a real torch forward pass.
Each rule receives the layer's checked parameters (defaults filled in) and its input shapes
(batch excluded) and raises Invalid with a plain-words reason when torch would refuse. The rules
live in one module per family, like the catalog's entries; this module is the table over them.
"""

from __future__ import annotations

from core.analysis.layer_rules.base import Invalid, LayerOutcome, Rule, Shape, dims_text, expand
from core.analysis.layer_rules.convolution import (
    conv_rule,
    conv_transpose_rule,
    locally_connected_rule,
)
from core.analysis.layer_rules.elementwise import elementwise_rule, prelu_rule, softmax_rule
from core.analysis.layer_rules.merge import add_rule, concat_rule, mul_rule
from core.analysis.layer_rules.normalization import (
    batch_norm_rule,
    group_norm_rule,
    instance_norm_rule,
    layer_norm_2d_rule,
    layer_scale_rule,
)
from core.analysis.layer_rules.pooling import (
    adaptive_pool_nd,
    adaptive_pool_rule,
    avg_pool_nd,
    avg_pool_rule,
    lp_pool_rule,
    max_pool_nd,
    max_pool_rule,
)
from core.analysis.layer_rules.shape import (
    channel_shuffle_rule,
    chunk_rule,
    embedding_rule,
    flatten_rule,
    linear_rule,
    pad_rule,
    pixel_shuffle_rule,
    transpose_rule,
    upsample_rule,
)

__all__ = ["RULES", "Invalid", "LayerOutcome", "Rule", "Shape", "dims_text", "expand"]

_ANY = elementwise_rule()

RULES: dict[str, Rule] = {
    "Conv1d": conv_rule(1),
    "Conv2d": conv_rule(2),
    "Conv3d": conv_rule(3),
    "ConvTranspose2d": conv_transpose_rule,
    "LocallyConnected2d": locally_connected_rule,
    "MaxPool2d": max_pool_rule,
    "AvgPool2d": avg_pool_rule,
    "LPPool2d": lp_pool_rule,
    "AdaptiveAvgPool2d": adaptive_pool_rule,
    "AdaptiveMaxPool2d": adaptive_pool_rule,
    "BatchNorm1d": batch_norm_rule((1, 2), "a (features) or (channels, length) input"),
    "BatchNorm2d": batch_norm_rule((3,), "a (channels, height, width) input"),
    "LocalResponseNorm": elementwise_rule((2, 3, 4), "channels and at least one spatial "
                                          "dimension"),
    "ReLU": _ANY,
    "LeakyReLU": _ANY,
    "ReLU6": _ANY,
    "ELU": _ANY,
    "GELU": _ANY,
    "Sigmoid": _ANY,
    "Tanh": _ANY,
    "Softmax": softmax_rule,
    "Dropout": _ANY,
    "Dropout2d": elementwise_rule((3,), "a (channels, height, width) input"),
    "Flatten": flatten_rule,
    "Linear": linear_rule,
    "Upsample": upsample_rule,
    "ZeroPad2d": pad_rule(reflect=False),
    "ReflectionPad2d": pad_rule(reflect=True),
    "ReplicationPad2d": pad_rule(reflect=False),
    "Identity": _ANY,
    "Add": add_rule,
    "Concat": concat_rule,
    "SiLU": _ANY,
    "Hardswish": _ANY,
    "Hardsigmoid": _ANY,
    "ChannelShuffle": channel_shuffle_rule,
    "Chunk": chunk_rule,
    "Mul": mul_rule,
    "Embedding": embedding_rule,
    "Transpose": transpose_rule,
    "MaxPool1d": max_pool_nd(1),
    "AvgPool1d": avg_pool_nd(1),
    "AdaptiveMaxPool1d": adaptive_pool_nd(1),
    "AdaptiveAvgPool1d": adaptive_pool_nd(1),
    "MaxPool3d": max_pool_nd(3),
    "AvgPool3d": avg_pool_nd(3),
    "AdaptiveAvgPool3d": adaptive_pool_nd(3),
    # issue 18
    "BatchNorm3d": batch_norm_rule((4,), "a (channels, depth, height, width) input"),
    "GroupNorm": group_norm_rule,
    "InstanceNorm2d": instance_norm_rule,
    "LayerNorm2d": layer_norm_2d_rule,
    "LayerScale": layer_scale_rule,
    "PReLU": prelu_rule,
    "SELU": _ANY,
    "Softplus": _ANY,
    "LogSoftmax": softmax_rule,
    "PixelShuffle": pixel_shuffle_rule,
}
