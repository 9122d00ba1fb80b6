"""Shape layers: flatten, dense, upsampling, padding, channel shuffles and cuts, text embeddings."""

from __future__ import annotations

from core.model.catalog.arguments import BIAS
from core.model.catalog.entry import LayerType, ParamSpec


def _pad(name: str, what: str) -> LayerType:
    return LayerType(
        name=name,
        group="shape",
        summary=f"Adds {what} around each feature map. One number pads all four sides; a list "
        "gives (left, right, top, bottom).",
        formula="out_h = in_h + top + bottom; out_w = in_w + left + right",
        params=(
            ParamSpec("padding", "ints", 1, "Padding: one number, or (left, right, top, bottom).",
                      minimum=0, maximum=512, length=4),
        ),
        spatial_dims=2,
        input_ranks=(3,),
    )


ENTRIES: tuple[LayerType, ...] = (
    LayerType(
        name="Flatten",
        group="shape",
        summary="Unrolls a feature-map volume into one long vector so dense (Linear) layers can "
        "follow. Positions are kept only implicitly. No parameters.",
        formula="out = product of the flattened dimensions (e.g. C·H·W)",
        params=(
            ParamSpec("start_dim", "int", 1, "First dimension to flatten, counting the batch as "
                      "dimension 0.", minimum=-8, maximum=8),
            ParamSpec("end_dim", "int", -1, "Last dimension to flatten (−1 = the last).",
                      minimum=-8, maximum=8),
        ),
    ),
    LayerType(
        name="Linear",
        group="shape",
        summary="A dense (fully connected) layer: every output is a weighted sum of all inputs "
        "plus a bias. Parameters: in_features × out_features + out_features, which is why dense "
        "layers on images are so large.",
        formula="out = out_features (applied to the last dimension)",
        params=(
            ParamSpec("in_features", "int", None, "Input size; inferred from the incoming shape "
                      "when left out.", minimum=1, maximum=1 << 40, optional=True),
            ParamSpec("out_features", "int", None, "Number of outputs (units).", minimum=1,
                      maximum=1 << 30),
            BIAS,
        ),
        input_ranks=(1, 2, 3, 4),
        inferred="in_features",
        starter=(("out_features", 10),),
    ),
    LayerType(
        name="Upsample",
        group="shape",
        summary="Enlarges feature maps by repeating (nearest) or interpolating (bilinear) values. "
        "Give either size or scale_factor. No parameters.",
        formula="out = ⌊in × scale_factor⌋, or size",
        params=(
            ParamSpec("size", "ints", None, "Output size (one number or one per dimension).",
                      minimum=1, maximum=65536, optional=True),
            ParamSpec("scale_factor", "floats", None, "Multiplier for the size.",
                      minimum=1e-3, maximum=1024.0, optional=True),
            ParamSpec("mode", "choice", "nearest", "How new values are computed.",
                      choices=("nearest", "linear", "bilinear", "bicubic", "trilinear")),
            ParamSpec("align_corners", "bool", None, "For linear modes: align the corner pixels "
                      "of input and output.", optional=True),
        ),
        input_ranks=(2, 3, 4),
        starter=(("scale_factor", 2),),
    ),
    _pad("ZeroPad2d", "rows and columns of zeros"),
    _pad("ReflectionPad2d", "a mirror image of the border (without repeating the edge)"),
    _pad("ReplicationPad2d", "copies of the edge pixels"),
    LayerType(
        name="Identity",
        group="shape",
        summary="Passes its input through unchanged; a placeholder.",
        formula="out shape = in shape",
        params=(),
    ),
    # added for importing torchvision models (ShuffleNet v2)
    LayerType(
        name="ChannelShuffle",
        group="shape",
        summary="Splits the channels into groups and interleaves them (channel c of group g "
        "moves next to channel c of the other groups), so that the next grouped convolution "
        "sees every group: ShuffleNet's trick. Only the order of the channels changes. No "
        "parameters.",
        formula="out shape = in shape (channels must divide into groups)",
        params=(
            ParamSpec("groups", "int", 2, "Number of groups to interleave; must divide the "
                      "channels.", minimum=1, maximum=65536),
        ),
        starter=(("groups", 2),),
    ),
    LayerType(
        name="Chunk",
        group="shape",
        summary="Cuts the channels into chunks equal parts and keeps part index (torch.chunk "
        "along the channels): ShuffleNet v2 sends one half of the channels through a branch and "
        "the other past it. The parts have ⌈channels / chunks⌉ channels, the last one fewer. No "
        "parameters.",
        formula="out channels = min(⌈C / chunks⌉, C − index·⌈C / chunks⌉); other dimensions "
        "unchanged",
        params=(
            ParamSpec("chunks", "int", 2, "Number of parts the channels are cut into.",
                      minimum=1, maximum=65536),
            ParamSpec("index", "int", 0, "Which part to keep, counting from 0.", minimum=0,
                      maximum=65535),
        ),
        own_module=True,
    ),
    # the lectures' text networks (issue 12)
    LayerType(
        name="Embedding",
        group="shape",
        summary="A lookup table for text: each integer token id (a word's rank in the "
        "vocabulary) picks one learned row of embedding_dim numbers, so a sequence of length L "
        "becomes an L × embedding_dim matrix, one vector per word (Keras: Embedding). It reads "
        "the model's input of token ids. Parameters: num_embeddings × embedding_dim.",
        formula="out = (length, embedding_dim); token ids must be below num_embeddings",
        params=(
            ParamSpec("num_embeddings", "int", None, "Vocabulary size: token ids run from 0 to "
                      "num_embeddings − 1.", minimum=1, maximum=1 << 24),
            ParamSpec("embedding_dim", "int", None, "Numbers per token (the vector's length).",
                      minimum=1, maximum=1 << 16),
            ParamSpec("padding_idx", "int", None, "A token id whose vector stays zero and does "
                      "not train (the padding of short sequences).", minimum=-(1 << 24),
                      maximum=(1 << 24) - 1, optional=True),
            ParamSpec("max_norm", "float", None, "Rescale any looked-up vector longer than "
                      "this.", minimum=1e-6, maximum=1e6, optional=True),
            ParamSpec("norm_type", "float", 2.0, "The p of the p-norm for max_norm.",
                      minimum=1e-3, maximum=64.0),
            ParamSpec("scale_grad_by_freq", "bool", False, "Scale gradients by the inverse "
                      "frequency of the words in the batch."),
        ),
        input_ranks=(1,),
        starter=(("num_embeddings", 5000), ("embedding_dim", 50)),
    ),
    LayerType(
        name="Transpose",
        group="shape",
        summary="Swaps two dimensions (torch's x.transpose(dim0, dim1)). An Embedding gives "
        "(length, dims) but Conv1d reads (channels, length): the transpose makes the embedding's "
        "dims the channels, so the filters slide along the words. No parameters.",
        formula="out = in with dimensions dim0 and dim1 swapped (batch = dimension 0)",
        params=(
            ParamSpec("dim0", "int", 1, "First dimension, counting the batch as dimension 0.",
                      minimum=-8, maximum=8),
            ParamSpec("dim1", "int", 2, "Second dimension, counting the batch as dimension 0.",
                      minimum=-8, maximum=8),
        ),
        input_ranks=(2, 3, 4),
        own_module=True,
    ),
    # issue 18: super-resolution and ONNX's DepthToSpace
    LayerType(
        name="PixelShuffle",
        group="shape",
        summary="Rearranges channels into space: every r² channels become one channel r times "
        "taller and wider (sub-pixel convolution, used to upsample in super-resolution "
        "networks; ONNX's DepthToSpace). Input (channels, height, width); the channels must "
        "divide by r². No parameters.",
        formula="out = (C / r², H·r, W·r) with r = upscale_factor",
        params=(
            ParamSpec("upscale_factor", "int", None, "r: how many times taller and wider the "
                      "output is.", minimum=1, maximum=256),
        ),
        spatial_dims=2,
        input_ranks=(3,),
        starter=(("upscale_factor", 2),),
    ),
)
