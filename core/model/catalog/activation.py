"""Activations: element-wise functions (and softmax) that keep the shape."""

from __future__ import annotations

from core.model.catalog.entry import LayerType, ParamSpec


def _activation(name: str, summary: str, params: tuple[ParamSpec, ...] = ()) -> LayerType:
    return LayerType(
        name=name,
        group="activation",
        summary=summary + " Applied to every element; the shape does not change and there are "
        "no parameters.",
        formula="out shape = in shape",
        params=params,
    )


ENTRIES: tuple[LayerType, ...] = (
    _activation("ReLU", "Rectified linear unit: max(0, x). Negative values become 0."),
    _activation(
        "LeakyReLU",
        "Like ReLU but negative values are multiplied by a small slope instead of zeroed.",
        (ParamSpec("negative_slope", "float", 0.01, "Slope for negative inputs.",
                   minimum=0.0, maximum=1.0),),
    ),
    _activation("ReLU6", "ReLU capped at 6: min(max(0, x), 6)."),
    _activation(
        "ELU",
        "Exponential linear unit: x for x > 0, α·(eˣ − 1) otherwise.",
        (ParamSpec("alpha", "float", 1.0, "Value approached for very negative inputs.",
                   minimum=0.0, maximum=100.0),),
    ),
    _activation(
        "GELU",
        "Gaussian error linear unit: x·Φ(x), a smooth ReLU used by transformers.",
        (ParamSpec("approximate", "choice", "none", "Exact or tanh approximation.",
                   choices=("none", "tanh")),),
    ),
    _activation("Sigmoid", "Squashes any value into (0, 1): 1 / (1 + e⁻ˣ)."),
    _activation("Tanh", "Squashes any value into (−1, 1)."),
    LayerType(
        name="Softmax",
        group="activation",
        summary="Turns a vector of scores into probabilities that sum to 1 along dim. Usually "
        "the last layer of a classifier (leave it out when training with cross-entropy, which "
        "applies it itself). No parameters.",
        formula="out shape = in shape",
        params=(
            ParamSpec("dim", "int", 1, "Dimension that sums to 1, counting the batch as "
                      "dimension 0 (1 = channels or features).", minimum=-8, maximum=8),
        ),
    ),
    # added for importing torchvision models (EfficientNet, MobileNet v3)
    _activation(
        "SiLU",
        "Sigmoid-weighted linear unit (swish): x·σ(x) = x / (1 + e⁻ˣ). Smooth, lets small "
        "negative values through; EfficientNet's activation.",
    ),
    _activation(
        "Hardswish",
        "A cheap swish: x·ReLU6(x + 3) / 6. Pieces of straight lines instead of an exponential, "
        "so it is fast on phones; MobileNet v3's activation.",
    ),
    _activation(
        "Hardsigmoid",
        "A cheap sigmoid: ReLU6(x + 3) / 6, a straight ramp from 0 (x ≤ −3) to 1 (x ≥ 3). "
        "MobileNet v3 uses it for its squeeze-and-excitation gates.",
    ),
    # issue 18: what ONNX files and older CNNs use
    LayerType(
        name="PReLU",
        group="activation",
        summary="Parametric ReLU: x for x > 0, a·x otherwise, where the slope a is learned "
        "(one for all channels, or one per channel with num_parameters = channels). The shape "
        "does not change. Parameters: num_parameters.",
        formula="out shape = in shape",
        params=(
            ParamSpec("num_parameters", "int", 1, "Learned slopes: 1 (shared) or the number of "
                      "channels (one each).", minimum=1, maximum=1 << 24),
            ParamSpec("init", "float", 0.25, "The slopes' starting value.", minimum=-100.0,
                      maximum=100.0),
        ),
    ),
    _activation(
        "SELU",
        "Scaled exponential linear unit: λ·x for x > 0, λ·α·(eˣ − 1) otherwise, with fixed "
        "λ ≈ 1.0507 and α ≈ 1.6733 chosen so that activations keep zero mean and unit variance "
        "through many layers (self-normalizing networks).",
    ),
    _activation(
        "Softplus",
        "A smooth ReLU: log(1 + e^(β·x)) / β, always positive; above the threshold (β·x > "
        "threshold) it is x itself.",
        (ParamSpec("beta", "float", 1.0, "Sharpness β: larger is closer to ReLU.",
                   minimum=1e-3, maximum=1000.0),
         ParamSpec("threshold", "float", 20.0, "Above β·x = threshold the output is x (for "
                   "numerical stability).", minimum=0.0, maximum=1000.0)),
    ),
    LayerType(
        name="LogSoftmax",
        group="activation",
        summary="The logarithm of softmax along dim: log-probabilities, computed stably in one "
        "step. With NLLLoss it is cross-entropy; ONNX files and older torch models often end "
        "with it. No parameters.",
        formula="out shape = in shape",
        params=(
            ParamSpec("dim", "int", 1, "Dimension whose probabilities sum to 1, counting the "
                      "batch as dimension 0 (1 = channels or features).", minimum=-8,
                      maximum=8),
        ),
    ),
)
