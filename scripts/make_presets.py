"""Writes resources/presets/*.json. The presets are data; this script is how the larger ones
(VGG, ResNet) were written, kept so they can be regenerated. Tests pin every preset to an
independent source (torchvision's models, the lectures' Keras summaries)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "resources" / "presets"
L = dict[str, Any]


def model(name: str, description: str, shape: list[int], layers: list[L],
          task: str = "classification") -> dict[str, Any]:
    return {"format": "convscope.model/1", "name": name, "task": task,
            "description": description, "input": {"shape": shape}, "layers": layers}


def conv(name: str | None, out: int, k: int, **kw: Any) -> L:
    d: L = {"type": "Conv2d", "out_channels": out, "kernel_size": k, **kw}
    if name:
        d = {"name": name, **d}
    return d


def t(type_: str, name: str | None = None, **kw: Any) -> L:
    d: L = {"type": type_, **kw}
    if name:
        d = {"name": name, **d}
    return d


def keras_mnist() -> dict[str, Any]:
    return model(
        "keras-mnist",
        "The Keras MNIST convnet of the lecture: two 3×3 convolutions with max pooling, dropout "
        "and one dense layer; 34,826 parameters.",
        [1, 28, 28],
        [conv(None, 32, 3), t("ReLU"), t("MaxPool2d", kernel_size=2),
         conv(None, 64, 3), t("ReLU"), t("MaxPool2d", kernel_size=2),
         t("Flatten"), t("Dropout", p=0.5), t("Linear", out_features=10)])


def keras_mnist_fcn() -> dict[str, Any]:
    return model(
        "keras-mnist-fcn",
        "The fully convolutional variant: the dense layer becomes a 5×5 convolution to 1×1×10, "
        "then global average pooling; still 34,826 parameters and no flattening.",
        [1, 28, 28],
        [conv(None, 32, 3), t("ReLU"), t("MaxPool2d", kernel_size=2),
         conv(None, 64, 3), t("ReLU"), t("MaxPool2d", kernel_size=2),
         conv(None, 10, 5), t("AdaptiveAvgPool2d", output_size=1), t("Flatten")])


def random_features() -> dict[str, Any]:
    frozen = {"trainable": False}
    return model(
        "random-features",
        "The lecture's random-features CNN: three frozen, randomly initialised convolutions and "
        "one trainable dense layer; 21,706 parameters of which 2,890 train (about 91% on MNIST).",
        [1, 28, 28],
        [conv(None, 32, 3, **frozen), t("ReLU"), t("MaxPool2d", kernel_size=2),
         conv(None, 32, 3, **frozen), t("ReLU"), t("MaxPool2d", kernel_size=2),
         conv(None, 32, 3, **frozen), t("ReLU"), t("Flatten"), t("Linear", out_features=10)])


def convnet_150() -> dict[str, Any]:
    layers: list[L] = []
    for c in (32, 64, 128, 128):
        layers += [conv(None, c, 3), t("ReLU"), t("MaxPool2d", kernel_size=2)]
    layers += [t("Flatten"), t("Linear", out_features=512), t("ReLU"),
               t("Linear", out_features=1), t("Sigmoid")]
    return model(
        "convnet-150",
        "The lecture's 150×150 colour convnet for a two-class problem (cats vs dogs): four "
        "convolution and pooling stages, a 512-unit dense layer and one sigmoid output; "
        "3,453,121 parameters.",
        [3, 150, 150], layers)


def lenet5() -> dict[str, Any]:
    return model(
        "lenet-5",
        "LeNet-5 (LeCun et al. 1998): two 5×5 convolutions with average pooling and tanh, then "
        "dense layers of 120, 84 and 10 units on 32×32 digits; 61,706 parameters.",
        [1, 32, 32],
        [conv("c1", 6, 5), t("Tanh"), t("AvgPool2d", "s2", kernel_size=2),
         conv("c3", 16, 5), t("Tanh"), t("AvgPool2d", "s4", kernel_size=2),
         t("Flatten"), t("Linear", "f5", out_features=120), t("Tanh"),
         t("Linear", "f6", out_features=84), t("Tanh"), t("Linear", "output", out_features=10)])


def alexnet() -> dict[str, Any]:
    return model(
        "alexnet",
        "AlexNet as in torchvision (Krizhevsky et al. 2012, one-GPU version): five "
        "convolutions, three dense layers, 61,100,840 parameters for 224×224 ImageNet.",
        [3, 224, 224],
        [conv("conv1", 64, 11, stride=4, padding=2), t("ReLU"),
         t("MaxPool2d", kernel_size=3, stride=2),
         conv("conv2", 192, 5, padding=2), t("ReLU"), t("MaxPool2d", kernel_size=3, stride=2),
         conv("conv3", 384, 3, padding=1), t("ReLU"),
         conv("conv4", 256, 3, padding=1), t("ReLU"),
         conv("conv5", 256, 3, padding=1), t("ReLU"), t("MaxPool2d", kernel_size=3, stride=2),
         t("AdaptiveAvgPool2d", output_size=[6, 6]), t("Flatten"),
         t("Dropout", p=0.5), t("Linear", "fc6", out_features=4096), t("ReLU"),
         t("Dropout", p=0.5), t("Linear", "fc7", out_features=4096), t("ReLU"),
         t("Linear", "fc8", out_features=1000)])


def vgg16() -> dict[str, Any]:
    layers: list[L] = []
    stages = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]
    for s, (c, n) in enumerate(stages, 1):
        for i in range(1, n + 1):
            layers += [conv(f"conv{s}_{i}", c, 3, padding=1), t("ReLU", f"relu{s}_{i}")]
        layers.append(t("MaxPool2d", f"pool{s}", kernel_size=2, stride=2))
    layers += [t("AdaptiveAvgPool2d", "avgpool", output_size=[7, 7]), t("Flatten", "flatten"),
               t("Linear", "fc6", out_features=4096), t("ReLU", "relu6"),
               t("Dropout", "drop6", p=0.5),
               t("Linear", "fc7", out_features=4096), t("ReLU", "relu7"),
               t("Dropout", "drop7", p=0.5),
               t("Linear", "fc8", out_features=1000)]
    return model(
        "vgg-16",
        "VGG-16 as in torchvision (Simonyan & Zisserman 2014): thirteen 3×3 convolutions in "
        "five stages and three dense layers; 138,357,544 parameters.",
        [3, 224, 224], layers)


def resnet(depth: int) -> dict[str, Any]:
    """ResNet as torchvision builds it: basic blocks for 18/34, bottleneck blocks (1×1, 3×3
    with the stride, 1×1 to 4× the width) for 50/101/152."""
    blocks = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3],
              152: [3, 8, 36, 3]}[depth]
    bottleneck = depth >= 50
    layers: list[L] = [
        conv("conv1", 64, 7, stride=2, padding=3, bias=False), t("BatchNorm2d", "bn1"),
        t("ReLU", "relu"), t("MaxPool2d", "maxpool", kernel_size=3, stride=2, padding=1)]
    previous, channels = "maxpool", 64
    for stage, (n, width) in enumerate(zip(blocks, (64, 128, 256, 512), strict=True), 1):
        out = width * 4 if bottleneck else width
        for b in range(n):
            stride = 2 if stage > 1 and b == 0 else 1
            p = f"layer{stage}_{b}_"
            if bottleneck:
                layers += [
                    {**conv(p + "conv1", width, 1, bias=False), "inputs": [previous]},
                    t("BatchNorm2d", p + "bn1"), t("ReLU", p + "relu1"),
                    conv(p + "conv2", width, 3, stride=stride, padding=1, bias=False),
                    t("BatchNorm2d", p + "bn2"), t("ReLU", p + "relu2"),
                    conv(p + "conv3", out, 1, bias=False), t("BatchNorm2d", p + "bn3")]
                last = p + "bn3"
            else:
                layers += [
                    {**conv(p + "conv1", width, 3, stride=stride, padding=1, bias=False),
                     "inputs": [previous]},
                    t("BatchNorm2d", p + "bn1"), t("ReLU", p + "relu1"),
                    conv(p + "conv2", width, 3, padding=1, bias=False),
                    t("BatchNorm2d", p + "bn2")]
                last = p + "bn2"
            skip = previous
            if stride != 1 or channels != out:
                layers += [
                    {**conv(p + "downsample", out, 1, stride=stride, bias=False),
                     "inputs": [previous]},
                    t("BatchNorm2d", p + "downsample_bn")]
                skip = p + "downsample_bn"
            relu = p + ("relu3" if bottleneck else "relu2")
            layers += [t("Add", p + "add", inputs=[last, skip]), t("ReLU", relu)]
            previous, channels = relu, out
    layers += [t("AdaptiveAvgPool2d", "avgpool", output_size=1), t("Flatten", "flatten"),
               t("Linear", "fc", out_features=1000)]
    count = {18: "11,689,512", 34: "21,797,672", 50: "25,557,032", 101: "44,549,160",
             152: "60,192,808"}[depth]
    kind = "bottleneck" if bottleneck else "basic"
    return model(
        f"resnet-{depth}",
        f"ResNet-{depth} as in torchvision (He et al. 2015): {kind} residual blocks whose skip "
        f"connections add the block's input to its output; {count} parameters.",
        [3, 224, 224], layers)


def fcn_small() -> dict[str, Any]:
    return model(
        "fcn-small",
        "A small fully convolutional network for segmentation (FCN-style): three convolution "
        "stages downsample by 4, a 1×1 convolution scores 3 classes per position and a "
        "transposed convolution upsamples the scores back to 64×64.",
        [3, 64, 64],
        [conv("conv1", 16, 3, padding=1), t("ReLU"), t("MaxPool2d", "pool1", kernel_size=2),
         conv("conv2", 32, 3, padding=1), t("ReLU"), t("MaxPool2d", "pool2", kernel_size=2),
         conv("conv3", 64, 3, padding=1), t("ReLU"),
         conv("score", 3, 1),
         t("ConvTranspose2d", "upscore", out_channels=3, kernel_size=8, stride=4, padding=2)],
        task="segmentation")


def unet_small() -> dict[str, Any]:
    return model(
        "unet-small",
        "A small U-Net for segmentation (Ronneberger et al. 2015): an encoder, a decoder that "
        "upsamples with transposed convolutions, and skip connections that concatenate the "
        "encoder's feature maps; 2 classes per pixel at 64×64.",
        [1, 64, 64],
        [conv("enc1_conv1", 16, 3, padding=1), t("ReLU", "enc1_relu1"),
         conv("enc1_conv2", 16, 3, padding=1), t("ReLU", "enc1"),
         t("MaxPool2d", "pool1", kernel_size=2),
         conv("enc2_conv1", 32, 3, padding=1), t("ReLU", "enc2_relu1"),
         conv("enc2_conv2", 32, 3, padding=1), t("ReLU", "enc2"),
         t("MaxPool2d", "pool2", kernel_size=2),
         conv("bottleneck_conv", 64, 3, padding=1), t("ReLU", "bottleneck"),
         t("ConvTranspose2d", "up2", out_channels=32, kernel_size=2, stride=2),
         t("Concat", "cat2", inputs=["up2", "enc2"]),
         conv("dec2_conv", 32, 3, padding=1), t("ReLU", "dec2"),
         t("ConvTranspose2d", "up1", out_channels=16, kernel_size=2, stride=2),
         t("Concat", "cat1", inputs=["up1", "enc1"]),
         conv("dec1_conv", 16, 3, padding=1), t("ReLU", "dec1"),
         conv("head", 2, 1)],
        task="segmentation")


def digits_small() -> dict[str, Any]:
    return model(
        "digits-small",
        "A small CNN for the bundled 8×8 handwritten digits (scikit-learn): three 3×3 "
        "convolutions with batch normalisation, one pooling, global average pooling and a "
        "dense layer. Trains in seconds on a CPU; the default model.",
        [1, 8, 8],
        [conv("conv1", 16, 3, padding=1), t("BatchNorm2d", "bn1"), t("ReLU", "relu1"),
         conv("conv2", 32, 3, padding=1), t("BatchNorm2d", "bn2"), t("ReLU", "relu2"),
         t("MaxPool2d", "pool1", kernel_size=2),
         conv("conv3", 64, 3, padding=1), t("BatchNorm2d", "bn3"), t("ReLU", "relu3"),
         t("AdaptiveAvgPool2d", "gap", output_size=1), t("Flatten", "flatten"),
         t("Dropout", "dropout", p=0.2), t("Linear", "fc", out_features=10)])


def megapixel_dense() -> dict[str, Any]:
    return model(
        "megapixel-dense",
        "Why convolutions: a one-megapixel colour photo flattened into a dense layer of 1,000 "
        "units needs 3,000,001,000 parameters (12 GB) in one layer. Analysed, never built.",
        [3, 1000, 1000],
        [t("Flatten"), t("Linear", out_features=1000), t("ReLU"), t("Linear", out_features=10)])


# -- the lectures' remaining models (issue 12) -------------------------------------------------


def dense_mnist() -> dict[str, Any]:
    return model(
        "dense-mnist",
        "Why not dense layers (1/3): the fully connected MNIST network 784-512-10. The 28×28 "
        "image is flattened to 784 numbers, so every one of the 512 hidden units has its own "
        "weight for every pixel; 407,050 parameters.",
        [1, 28, 28],
        [t("Flatten", "flatten"), t("Linear", "hidden", out_features=512), t("ReLU", "relu"),
         t("Linear", "output", out_features=10)])


def linear_cifar10() -> dict[str, Any]:
    return model(
        "linear-cifar10",
        "Why not dense layers (2/3): the linear CIFAR-10 classifier. The 32×32×3 image is "
        "stretched to 3,072 numbers and each of the 10 classes is one weighted sum of them, a "
        "template the size of the image; 30,730 parameters.",
        [3, 32, 32],
        [t("Flatten", "flatten"), t("Linear", "scores", out_features=10)])


def alexnet_lrn() -> dict[str, Any]:
    lrn = {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 2.0}
    return model(
        "alexnet-lrn",
        "AlexNet as the lecture describes it (Krizhevsky et al. 2012, one tower): 96 11×11 "
        "filters with stride 4, ReLU, then Local Response Normalization (each value divided by "
        "the activity of its 5 neighbouring channels) after the first two convolutions, max "
        "pooling, three 3×3 convolutions and three dense layers; 62,378,344 parameters.",
        [3, 224, 224],
        [conv("conv1", 96, 11, stride=4, padding=2), t("ReLU", "relu1"),
         t("LocalResponseNorm", "lrn1", **lrn), t("MaxPool2d", "pool1", kernel_size=3, stride=2),
         conv("conv2", 256, 5, padding=2), t("ReLU", "relu2"),
         t("LocalResponseNorm", "lrn2", **lrn), t("MaxPool2d", "pool2", kernel_size=3, stride=2),
         conv("conv3", 384, 3, padding=1), t("ReLU", "relu3"),
         conv("conv4", 384, 3, padding=1), t("ReLU", "relu4"),
         conv("conv5", 256, 3, padding=1), t("ReLU", "relu5"),
         t("MaxPool2d", "pool5", kernel_size=3, stride=2), t("Flatten", "flatten"),
         t("Dropout", "drop6", p=0.5), t("Linear", "fc6", out_features=4096), t("ReLU", "relu6"),
         t("Dropout", "drop7", p=0.5), t("Linear", "fc7", out_features=4096), t("ReLU", "relu7"),
         t("Linear", "fc8", out_features=1000)])


def zfnet() -> dict[str, Any]:
    return model(
        "zfnet",
        "ZFNet (Zeiler & Fergus 2013), AlexNet with minor changes, as in the lecture's table: a "
        "7×7 stride-2 first convolution instead of 11×11 stride 4, a stride-2 second "
        "convolution, and 512, 1024, 512 filters in the 3×3 layers. Volumes 224×224×3 → "
        "55×55×96 → 13×13×256 → 13×13×512 → 13×13×1024 → 13×13×512 → 4096 → 4096 → 1000; "
        "107,627,624 parameters.",
        [3, 224, 224],
        [conv("conv1", 96, 7, stride=2, padding=1), t("ReLU", "relu1"),
         t("MaxPool2d", "pool1", kernel_size=3, stride=2, padding=1),
         conv("conv2", 256, 5, stride=2), t("ReLU", "relu2"),
         t("MaxPool2d", "pool2", kernel_size=3, stride=2, padding=1),
         conv("conv3", 512, 3, padding=1), t("ReLU", "relu3"),
         conv("conv4", 1024, 3, padding=1), t("ReLU", "relu4"),
         conv("conv5", 512, 3, padding=1), t("ReLU", "relu5"),
         t("MaxPool2d", "pool5", kernel_size=3, stride=2), t("Flatten", "flatten"),
         t("Linear", "fc6", out_features=4096), t("ReLU", "relu6"), t("Dropout", "drop6", p=0.5),
         t("Linear", "fc7", out_features=4096), t("ReLU", "relu7"), t("Dropout", "drop7", p=0.5),
         t("Linear", "fc8", out_features=1000)])


def cifar10_convnet() -> dict[str, Any]:
    return model(
        "cifar10-convnet",
        "A CIFAR-10 convnet (the Keras cifar10_cnn example): two pairs of 3×3 convolutions with "
        "max pooling and dropout, a 512-unit dense layer and 10 outputs for 32×32 colour "
        "images; 1,250,858 parameters. Trains on CIFAR-10 (Train tab: dataset cifar10) once its "
        "files are on the computer.",
        [3, 32, 32],
        [conv("conv1", 32, 3, padding="same"), t("ReLU", "relu1"),
         conv("conv2", 32, 3), t("ReLU", "relu2"), t("MaxPool2d", "pool1", kernel_size=2),
         t("Dropout", "drop1", p=0.25),
         conv("conv3", 64, 3, padding="same"), t("ReLU", "relu3"),
         conv("conv4", 64, 3), t("ReLU", "relu4"), t("MaxPool2d", "pool2", kernel_size=2),
         t("Dropout", "drop2", p=0.25), t("Flatten", "flatten"),
         t("Linear", "fc1", out_features=512), t("ReLU", "relu5"), t("Dropout", "drop3", p=0.5),
         t("Linear", "fc2", out_features=10)])


def text_cnn() -> dict[str, Any]:
    spec = model(
        "text-cnn",
        "The lecture's 1-D convolutional network for IMDB sentiment (after Yoon Kim 2014): "
        "each review is 400 integer word ids (the 5,000 most frequent words), an Embedding "
        "turns them into 400×50 word vectors, a Transpose makes that 50×400 (channels × "
        "length, as Conv1d reads it), then two 3-word convolutions with max pooling, a dense "
        "layer and one sigmoid output (positive or negative). Sizes as in the Keras imdb_cnn "
        "example; 6,601,001 parameters.",
        [400],
        [t("Embedding", "embedding", num_embeddings=5000, embedding_dim=50),
         t("Dropout", "dropout1", p=0.25), t("Transpose", "to_channels", dim0=1, dim1=2),
         t("Conv1d", "conv1", out_channels=250, kernel_size=3), t("ReLU", "relu1"),
         t("MaxPool1d", "pool1", kernel_size=2),
         t("Conv1d", "conv2", out_channels=250, kernel_size=3), t("ReLU", "relu2"),
         t("MaxPool1d", "pool2", kernel_size=2), t("Flatten", "flatten"),
         t("Linear", "hidden", out_features=250), t("Dropout", "dropout2", p=0.25),
         t("ReLU", "relu3"), t("Linear", "output", out_features=1), t("Sigmoid", "sigmoid")])
    spec["input"]["dtype"] = "int64"
    return spec


def video_cnn() -> dict[str, Any]:
    return model(
        "video-cnn",
        "A small 3-D convolutional network for video clips: 10 colour frames of 112×112 (the "
        "lecture's clip of 10 frames, at half size). Each 3×3×3 filter spans 3 frames as well "
        "as 3×3 pixels, so it can respond to motion; pooling shrinks space first, then time; "
        "71,178 parameters for 10 classes.",
        [3, 10, 112, 112],
        [t("Conv3d", "conv1", out_channels=16, kernel_size=3, padding=1), t("ReLU", "relu1"),
         t("MaxPool3d", "pool1", kernel_size=[1, 2, 2]),
         t("Conv3d", "conv2", out_channels=32, kernel_size=3, padding=1), t("ReLU", "relu2"),
         t("MaxPool3d", "pool2", kernel_size=2),
         t("Conv3d", "conv3", out_channels=64, kernel_size=3, padding=1), t("ReLU", "relu3"),
         t("AdaptiveAvgPool3d", "gap", output_size=1), t("Flatten", "flatten"),
         t("Linear", "fc", out_features=10)])


PRESETS = {
    "digits_small": digits_small, "keras_mnist": keras_mnist,
    "keras_mnist_fcn": keras_mnist_fcn, "random_features": random_features,
    "convnet_150": convnet_150, "lenet5": lenet5, "alexnet": alexnet, "vgg16": vgg16,
    "resnet18": lambda: resnet(18), "resnet34": lambda: resnet(34), "fcn_small": fcn_small,
    "unet_small": unet_small, "megapixel_dense": megapixel_dense,
    "dense_mnist": dense_mnist, "linear_cifar10": linear_cifar10, "alexnet_lrn": alexnet_lrn,
    "zfnet": zfnet, "cifar10_convnet": cifar10_convnet, "text_cnn": text_cnn,
    "video_cnn": video_cnn,
}


# -- digit scenes (issue 8): segmentation and detection presets for 1×64×64, 10 digits ----------

SCENE_CLASSES = 11
"""Segmentation classes on digit scenes: background + the ten digits."""


def _stage(name: str, width: int, pool: bool = True) -> list[L]:
    layers = [conv(f"{name}_conv", width, 3, padding=1), t("BatchNorm2d", f"{name}_bn"),
              t("ReLU", name)]
    return layers + ([t("MaxPool2d", f"pool{name[-1]}", kernel_size=2)] if pool else [])


def _block(name: str, width: int, convs: int) -> list[L]:
    """``convs`` conv + BN + ReLU at one resolution; the last ReLU is named ``name``."""
    layers: list[L] = []
    for i in range(convs):
        tail = "" if i == convs - 1 else chr(ord("a") + i)
        layers += [conv(f"{name}{tail}_conv", width, 3, padding=1),
                   t("BatchNorm2d", f"{name}{tail}_bn"), t("ReLU", f"{name}{tail}")]
    return layers


def _fcn_encoder() -> list[L]:
    return (_stage("stage1", 16) + _stage("stage2", 32) + _stage("stage3", 64)
            + _stage("stage4", 64) + _stage("stage5", 128))


def fcn(stride: int) -> dict[str, Any]:
    """FCN-32s / 16s / 8s in the lectures' sense (Long et al. 2015) for 64×64 digit scenes."""
    k = SCENE_CLASSES
    layers = [*_fcn_encoder(), conv("score5", k, 1)]
    skips = {32: [], 16: [("pool4", 16)], 8: [("pool4", 16), ("pool3", 8)]}[stride]
    previous = "score5"
    for pool, at in skips:  # upsample ×2, add the 1×1 scores of the finer pooling output
        layers += [t("ConvTranspose2d", f"up_to_{at}", out_channels=k, kernel_size=4, stride=2,
                     padding=1, inputs=[previous]),
                   conv(f"score_{pool}", k, 1, inputs=[pool]),
                   t("Add", f"fuse_{at}", inputs=[f"up_to_{at}", f"score_{pool}"])]
        previous = f"fuse_{at}"
    layers.append(t("ConvTranspose2d", "head", out_channels=k, kernel_size=2 * stride,
                    stride=stride, padding=stride // 2, inputs=[previous]))
    skip_text = {32: "no skips: the stride-32 scores are upsampled ×32 in one transposed "
                     "convolution, so masks come out coarse",
                 16: "one skip: the stride-32 scores are upsampled ×2 and added to 1×1 scores "
                     "of pool4 (stride 16), then upsampled ×16",
                 8: "two skips: scores of pool4 (stride 16) and pool3 (stride 8) are added in "
                    "turn, then upsampled ×8"}[stride]
    return model(
        f"fcn-{stride}s-digits",
        f"FCN-{stride}s (Long et al. 2015) for digit scenes: five conv + pool stages, a 1×1 "
        f"convolution scores 11 classes (background + 10 digits) per position, {skip_text}. "
        "Train with --dataset digit-scenes.",
        [1, 64, 64], layers, task="segmentation")


def unet_digits() -> dict[str, Any]:
    """Three levels down to 8×8 (a receptive field that covers a 32-px digit) and back up.

    One convolution at full resolution on the way down and up, two at the coarser levels: the
    64×64 convolutions cost the most and only need to find the stroke edges."""
    layers = [*_block("enc1", 16, 1), t("MaxPool2d", "pool1", kernel_size=2),
              *_block("enc2", 32, 2), t("MaxPool2d", "pool2", kernel_size=2),
              *_block("enc3", 64, 2), t("MaxPool2d", "pool3", kernel_size=2),
              *_block("bott", 128, 2)]
    below = "bott"
    for level, width in ((3, 64), (2, 32), (1, 16)):
        layers += [t("ConvTranspose2d", f"up{level}", out_channels=width, kernel_size=2,
                     stride=2, inputs=[below]),
                   t("Concat", f"cat{level}", inputs=[f"up{level}", f"enc{level}"]),
                   *_block(f"dec{level}", width, 1)]
        below = f"dec{level}"
    layers.append(conv("head", SCENE_CLASSES, 1))
    return model(
        "unet-digits",
        "A U-Net (Ronneberger et al. 2015) for digit scenes: three downsampling stages to an "
        "8×8 bottleneck that sees a whole digit, transposed-convolution upsampling and skips "
        "that concatenate the encoder's maps at each level; 11 scores per pixel (background + "
        "10 digits) at 64×64. Train with --dataset digit-scenes.",
        [1, 64, 64], layers, task="segmentation")


def fcn_skips() -> dict[str, Any]:
    """FCN-8s's skips carried to full resolution: the preset that learns masks fastest on a CPU."""
    k = SCENE_CLASSES
    layers = [*_block("stage1", 16, 1), t("MaxPool2d", "pool1", kernel_size=2),
              *_block("stage2", 32, 1), t("MaxPool2d", "pool2", kernel_size=2),
              *_block("stage3", 64, 1), t("MaxPool2d", "pool3", kernel_size=2),
              *_block("stage4", 64, 2), t("MaxPool2d", "pool4", kernel_size=2),
              *_block("stage5", 128, 2), conv("score5", k, 1),
              t("ConvTranspose2d", "up_to_8", out_channels=k, kernel_size=4, stride=2,
                padding=1, inputs=["score5"]),
              conv("score4", k, 1, inputs=["stage4"]),
              t("Add", "fuse_8", inputs=["up_to_8", "score4"]),
              t("ConvTranspose2d", "up_to_4", out_channels=k, kernel_size=4, stride=2,
                padding=1, inputs=["fuse_8"]),
              conv("score3", k, 1, inputs=["stage3"]),
              t("Add", "fuse_4", inputs=["up_to_4", "score3"]),
              t("ConvTranspose2d", "up_to_1", out_channels=k, kernel_size=8, stride=4,
                padding=2, inputs=["fuse_4"]),
              conv("score1", k, 1, inputs=["stage1"]),
              t("Add", "head", inputs=["up_to_1", "score1"])]
    return model(
        "fcn-skips-digits",
        "An FCN whose skips reach full resolution, for digit scenes: four conv + pool stages "
        "see a whole digit (which digit: coarse scores at 4×4), transposed convolutions "
        "upsample them ×2, ×2, ×4 and 1×1 scores of stage4 (8×8), stage3 (16×16) and stage1 "
        "(64×64, where the stroke edges are) are added on the way; 11 scores per pixel. The "
        "segmentation preset that learns fastest on a CPU (mIoU ≈ 0.9 after 2 minutes on 2 "
        "cores). Train with --dataset digit-scenes.",
        [1, 64, 64], layers, task="segmentation")


def grid_detector() -> dict[str, Any]:
    layers = (_stage("stage1", 16) + _stage("stage2", 32) + _stage("stage3", 64)
              + _stage("stage4", 96, pool=False) + _stage("stage5", 128, pool=False)
              + [conv("head", 15, 1)])
    return model(
        "grid-detector-digits",
        "A single-stage grid detector as lecture 004 describes YOLO: three conv + pool stages "
        "make an 8×8 grid; per cell the 1×1 head outputs 15 numbers: objectness, 4 box numbers "
        "and 10 class scores. Train with --dataset digit-scenes.",
        [1, 64, 64], layers, task="detection")


def localizer() -> dict[str, Any]:
    layers = [*_stage("stage1", 16), *_stage("stage2", 32), *_stage("stage3", 64),
              t("Flatten", "flatten"), t("Linear", "fc1", out_features=128),
              t("ReLU", "fc1_relu"), t("Linear", "head", out_features=14)]
    return model(
        "localizer-digits",
        "Classification + localization as in lecture 004: one digit per scene; a convnet and "
        "a dense head output 10 class scores and 4 box numbers (centre x, centre y, width, "
        "height as fractions of the image), trained with cross-entropy + MSE. Train with "
        "--dataset digit-scenes:max=1.",
        [1, 64, 64], layers, task="localization")


PRESETS.update({
    "localizer_digits": localizer,
    "fcn32s_digits": lambda: fcn(32), "fcn16s_digits": lambda: fcn(16),
    "fcn8s_digits": lambda: fcn(8), "unet_digits": unet_digits,
    "fcn_skips_digits": fcn_skips,
    "grid_detector_digits": grid_detector,
})

if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    wanted = set(sys.argv[1:])  # keys to write (default: all)
    for key, make in PRESETS.items():
        if wanted and key not in wanted:
            continue
        (OUT / f"{key}.json").write_text(json.dumps(make(), indent=1, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
        print("wrote", key)
