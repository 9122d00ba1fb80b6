"""ONNX operators about layout and space: convolutions, pooling, padding, resizing, and the
export patterns that spell one layer in several nodes (``Unsqueeze`` → 2-D pooling → ``Squeeze``
as a 1-D pooling, ``Reshape`` → ``Transpose`` → ``Reshape`` as a channel or pixel shuffle,
``Transpose`` → ``LayerNormalization`` → ``Transpose`` as LayerNorm2d, ``Reshape`` →
``InstanceNormalization`` → ``Reshape`` as GroupNorm)."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.io.onnx_base import ConverterBase, compact, int_list, text_of
from core.model.errors import ModelError


class LayoutOps(ConverterBase):
    """The handlers of layout and spatial operators (mixed into the converter)."""

    def _op_DepthToSpace(self, node: Any, attrs: dict[str, Any]) -> None:
        if text_of(attrs.get("mode", "DCR")) != "CRD" or self._rank(node.input[0]) != 4:
            self.unmapped["DepthToSpace in DCR mode"] += 1
            return
        self._add(node, "PixelShuffle", {"upscale_factor": int(attrs["blocksize"])},
                  [node.input[0]])

    def _op_Pad(self, node: Any, attrs: dict[str, Any]) -> None:
        if self.opset < 11:
            pads: Any = attrs.get("pads")
            value: Any = attrs.get("value", 0.0)
        else:
            pads, value = self._const(node, 1), self._const(node, 2)
            if pads is None or (len(node.input) > 2 and node.input[2] and value is None) \
                    or (len(node.input) > 3 and node.input[3]):
                self.unmapped["Pad with pads computed in the graph or by axes"] += 1
                return
            pads = [int(p) for p in pads.reshape(-1)]
            value = 0.0 if value is None else value
        mode = text_of(attrs.get("mode", "constant"))
        rank = self._rank(node.input[0])
        pads = int_list(list(pads) if pads is not None else None, "pads", "Pad")
        if rank is None or len(pads) != 2 * rank:
            raise ModelError(f"its Pad has {len(pads)} pads for a tensor of rank {rank}")
        kinds = {"constant": "ZeroPad2d", "reflect": "ReflectionPad2d", "edge": "ReplicationPad2d"}
        if rank != 4 or any(pads[i] or pads[i + rank] for i in (0, 1)) or mode not in kinds:
            self.unmapped[f"Pad in {mode} mode of other than the height and width"] += 1
            return
        if any(p < 0 for p in pads):
            self.unmapped["Pad with negative pads (a crop)"] += 1
            return
        if mode == "constant" and (np.ndim(value) or float(value) != 0):
            self.unmapped["Pad with another constant than 0"] += 1
            return
        top, left, bottom, right = pads[2], pads[3], pads[6], pads[7]
        self._add(node, kinds[mode], {"padding": compact([left, right, top, bottom])},
                  [node.input[0]])

    def _op_Reshape(self, node: Any, attrs: dict[str, Any]) -> None:
        target, src = self._const(node, 1), node.input[0]
        shape_in, shape_out = self.shapes.get(src), self.shapes.get(node.output[0])
        if target is None or shape_in is None or shape_out is None or \
                any(d <= 0 for d in (*shape_in, *shape_out)):
            self.unmapped["Reshape to a size computed in the graph"] += 1
            return
        if len(shape_out) == 2 and shape_out[0] == shape_in[0]:
            self._add(node, "Flatten", {}, [src])
            return
        if src in self.virtual and self.virtual[src][0] == "transposed":
            _, origin, (kind, factor), _ = self.virtual.pop(src)
            origin_shape = self.shapes.get(origin, ())
            if kind == "ChannelShuffle" and shape_out == origin_shape:
                self._add(node, "ChannelShuffle", {"groups": factor}, [origin])
                return
            n, c, h, w = origin_shape
            if kind == "PixelShuffle" and shape_out == (n, c // factor**2, h * factor,
                                                        w * factor):
                self._add(node, "PixelShuffle", {"upscale_factor": factor}, [origin],
                          label="Reshape → Transpose → Reshape (a pixel shuffle)")
                return
            self.unmapped["Transpose"] += 1
            return
        if src in self.virtual and self.virtual[src][0] == "group normed" and \
                shape_out == self.shapes.get(self.virtual[src][1]):
            _, origin, (norm_node, groups, eps), _ = self.virtual.pop(src)
            channels = shape_out[1]
            params = {"num_groups": groups} | ({"eps": eps} if eps != 1e-5 else {})
            self._add(norm_node, "GroupNorm", params, [origin],
                      {"weight": np.ones(channels), "bias": np.zeros(channels)},
                      output=node.output[0], label="Reshape → InstanceNormalization → Reshape "
                      "(a GroupNorm)")
            return
        if len(shape_in) == 4 and len(shape_out) == 3 and shape_out[0] == shape_in[0] \
                and src in self.names and shape_in[1] % shape_out[1] == 0:
            self.virtual[node.output[0]] = ("grouped", src, shape_out[1], "Reshape")
            return
        if len(shape_in) == 4 and len(shape_out) in (5, 6) and shape_out[0] == shape_in[0] \
                and src in self.names:
            self.virtual[node.output[0]] = ("split", src, shape_out, "Reshape")
            return
        self.unmapped["Reshape that is not a flatten"] += 1

    def _op_Transpose(self, node: Any, attrs: dict[str, Any]) -> None:
        src = node.input[0]
        perm = list(attrs.get("perm", []))
        if src in self.virtual and self.virtual[src][0] == "split":
            _, origin, shape, _ = self.virtual.pop(src)
            in_shape = self.shapes.get(origin, ())
            if len(shape) == 5 and perm == [0, 2, 1, 3, 4] and shape[3:] == in_shape[2:]:
                self.virtual[node.output[0]] = ("transposed", origin,
                                                ("ChannelShuffle", int(shape[1])), "Transpose")
                return
            if len(shape) == 6 and perm == [0, 1, 4, 2, 5, 3] and shape[2] == shape[3] \
                    and shape[4:] == in_shape[2:]:
                self.virtual[node.output[0]] = ("transposed", origin,
                                                ("PixelShuffle", int(shape[2])), "Transpose")
                return
            self.unmapped["Reshape"] += 1
            self.unmapped["Transpose"] += 1
            return
        if perm == [0, 2, 3, 1] and src in self.names and self._rank(src) == 4:
            self.virtual[node.output[0]] = ("channels last", src, None, "Transpose")
            return
        if perm == [0, 3, 1, 2] and src in self.virtual and self.virtual[src][0] == "normed":
            _, origin, (ln_node, params, tensors), _ = self.virtual.pop(src)
            self._add(ln_node, "LayerNorm2d", params, [origin], tensors, output=node.output[0],
                      label="Transpose → LayerNormalization → Transpose (a LayerNorm2d)")
            return
        rank = self._rank(src)
        moved = [i for i, p in enumerate(perm) if p != i]
        if rank is not None and len(perm) == rank and len(moved) == 2 and 0 not in moved:
            self._add(node, "Transpose", {"dim0": moved[0], "dim1": moved[1]}, [src])
        else:
            self.unmapped["Transpose"] += 1

    def _op_Slice(self, node: Any, attrs: dict[str, Any]) -> None:
        """A slice of the channels that is one of torch.chunk's parts becomes a Chunk layer."""
        if self.opset < 10:
            starts, ends = attrs.get("starts"), attrs.get("ends")
            axes, steps = attrs.get("axes"), None
        else:
            starts, ends, axes, steps = (self._const(node, i) for i in (1, 2, 3, 4))
        shape = self.shapes.get(node.input[0])
        values = [np.asarray(v).reshape(-1).tolist() if v is not None else None
                  for v in (starts, ends, axes, steps)]
        if shape is None or len(shape) < 2 or values[0] is None or values[1] is None or \
                len(values[0]) != 1 or (values[2] or [0])[0] % len(shape) != 1 or \
                (values[2] is None and len(shape) > 1) or (values[3] or [1])[0] != 1:
            self.unmapped["Slice other than a part of the channels"] += 1
            return
        channels = shape[1]
        start, end = (min(max(v + channels if v < 0 else v, 0), channels)
                      for v in (values[0][0], values[1][0]))
        for chunks in range(1, channels + 1):
            size = -(-channels // chunks)
            if start % size == 0 and end == min(start + size, channels):
                self._add(node, "Chunk", {"chunks": chunks, "index": start // size},
                          [node.input[0]])
                return
        self.unmapped["Slice other than a part of the channels"] += 1

    def _op_LayerNormalization(self, node: Any, attrs: dict[str, Any]) -> None:
        """Over the channels only, between the Transposes torchvision's LayerNorm2d exports."""
        src, scale, bias = node.input[0], self._const(node, 1), self._const(node, 2)
        axis = int(attrs.get("axis", -1))
        used_extra = any(out and self.uses[out] for out in node.output[1:])
        if src not in self.virtual or self.virtual[src][0] != "channels last" or axis not in \
                (-1, 3) or scale is None or scale.ndim != 1 or used_extra or \
                (len(node.input) > 2 and node.input[2] and bias is None):
            self.unmapped["LayerNormalization other than over the channels"] += 1
            return
        _, origin, _, _ = self.virtual.pop(src)
        params: dict[str, Any] = {}
        eps = round(float(attrs.get("epsilon", 1e-5)), 9)
        if eps != 1e-5:
            params["eps"] = eps
        tensors = {"weight": scale}
        if bias is None:
            params["bias"] = False
        else:
            tensors["bias"] = bias
        self.virtual[node.output[0]] = ("normed", origin, (node, params, tensors),
                                        "LayerNormalization")

    def _op_GroupNormalization(self, node: Any, attrs: dict[str, Any]) -> None:
        scale, bias = self._const(node, 1), self._const(node, 2)
        shape = self.shapes.get(node.input[0])
        groups = int(attrs.get("num_groups", 0))
        if scale is None or bias is None or shape is None or len(shape) != 4 or groups < 1 \
                or shape[1] % groups:
            self.unmapped["GroupNormalization other than 2-D with constant weights"] += 1
            return
        channels = shape[1]
        if scale.shape == (groups,) and groups != channels:  # opset 18: one scale per group
            scale, bias = np.repeat(scale, channels // groups), np.repeat(bias, channels // groups)
        params: dict[str, Any] = {"num_groups": groups}
        eps = round(float(attrs.get("epsilon", 1e-5)), 9)
        if eps != 1e-5:
            params["eps"] = eps
        self._add(node, "GroupNorm", params, [node.input[0]], {"weight": scale, "bias": bias})

    def _axes(self, node: Any, attrs: dict[str, Any]) -> list[int] | None:
        if self.opset < 13:
            return list(attrs.get("axes", [])) or None
        axes = self._const(node, 1)
        return [int(a) for a in axes.reshape(-1)] if axes is not None else None

    def _op_Unsqueeze(self, node: Any, attrs: dict[str, Any]) -> None:
        axes = self._axes(node, attrs)
        rank = self._rank(node.input[0])
        if axes is not None and rank == 3 and len(axes) == 1 and axes[0] % 4 in (2, 3) \
                and node.input[0] in self.names:
            self.virtual[node.output[0]] = ("unsqueezed", node.input[0], axes[0] % 4, "Unsqueeze")
        else:
            self.unmapped["Unsqueeze"] += 1

    def _op_Squeeze(self, node: Any, attrs: dict[str, Any]) -> None:
        src = node.input[0]
        axes = self._axes(node, attrs)
        if src in self.virtual and self.virtual[src][0] == "pooled" and axes is not None \
                and len(axes) == 1 and axes[0] % 4 == self.virtual[src][2][0]:
            _, origin, (_, pool_node, params, kind), _ = self.virtual.pop(src)
            self._add(pool_node, kind, params, [origin], output=node.output[0])
        else:
            self.unmapped["Squeeze"] += 1

    def _op_Resize(self, node: Any, attrs: dict[str, Any]) -> None:
        self._upsample(node, attrs, self._const(node, 2), self._const(node, 3))

    def _op_Upsample(self, node: Any, attrs: dict[str, Any]) -> None:
        scales = self._const(node, 1) if len(node.input) > 1 else attrs.get("scales")
        self._upsample(node, attrs, None if scales is None else np.asarray(scales), None)

    def _upsample(self, node: Any, attrs: dict[str, Any], scales: np.ndarray | None,
                  sizes: np.ndarray | None) -> None:
        shape_in, shape_out = self.shapes.get(node.input[0]), self.shapes.get(node.output[0])
        mode = text_of(attrs.get("mode", "nearest"))
        transform = text_of(attrs.get("coordinate_transformation_mode", "asymmetric"
                                    if node.op_type == "Upsample" else "half_pixel"))
        nearest = text_of(attrs.get("nearest_mode", "floor" if node.op_type == "Upsample"
                                  else "round_prefer_floor"))
        if shape_in is None or shape_out is None or len(shape_in) != 4 or \
                shape_in[:2] != shape_out[:2] or any(d <= 0 for d in shape_out):
            self.unmapped[f"{node.op_type} of other than the height and width"] += 1
            return
        factors = [shape_out[i] / shape_in[i] for i in (2, 3)]
        params: dict[str, Any]
        if mode == "nearest" and transform == "asymmetric" and nearest == "floor" and \
                all(f == int(f) for f in factors):
            params = {"scale_factor": compact([int(f) for f in factors])}
        elif mode in ("linear", "bilinear") and transform in ("half_pixel", "pytorch_half_pixel",
                                                               "align_corners"):
            params = {"size": [int(shape_out[2]), int(shape_out[3])], "mode": "bilinear"}
            if transform == "align_corners":
                params["align_corners"] = True
        else:
            self.unmapped[f"{node.op_type} in {mode} mode with {transform} coordinates"] += 1
            return
        self._add(node, "Upsample", params, [node.input[0]])

    def _conv(self, node: Any, attrs: dict[str, Any]) -> None:
        op = node.op_type
        weight = self._const(node, 1)
        if weight is None:
            self.unmapped[f"{op} with weights computed in the graph"] += 1
            return
        dims = weight.ndim - 2
        if dims not in (1, 2, 3) or (op == "ConvTranspose" and dims != 2):
            self.unmapped[f"{op} in {dims} dimensions"] += 1
            return
        kernel = list(weight.shape[2:])
        declared = attrs.get("kernel_shape")
        if declared is not None and int_list(declared, "kernel_shape", op) != kernel:
            raise ModelError(f"its {op}'s kernel_shape {list(attrs['kernel_shape'])} does not "
                             f"match its weight {list(weight.shape)}")
        strides = int_list(attrs.get("strides", [1] * dims), "strides", op)
        dilations = int_list(attrs.get("dilations", [1] * dims), "dilations", op)
        if len(strides) != dims or len(dilations) != dims or min(strides + dilations) < 1:
            raise ModelError(f"its {op} has strides {strides} / dilations {dilations} for "
                             f"{dims} dimensions")
        group = int(attrs.get("group", 1))
        out_channels = weight.shape[0] if op == "Conv" else weight.shape[1] * group
        bias = self._const(node, 2)
        if len(node.input) > 2 and node.input[2] and bias is None:
            self.unmapped[f"{op} with a bias computed in the graph"] += 1
            return
        if bias is not None and bias.shape != (out_channels,):
            raise ModelError(f"its {op}'s bias has shape {list(bias.shape)}, not "
                             f"[{out_channels}] (the output channels)")
        if op == "ConvTranspose" and ("output_shape" in attrs or text_of(
                attrs.get("auto_pad", "NOTSET")) not in ("NOTSET", "VALID")):
            self.unmapped["ConvTranspose with output_shape or auto_pad"] += 1
            return
        pads = self._pads(node, attrs, kernel, strides, dilations)
        source = node.input[0]
        if pads[:dims] != pads[dims:]:
            if op == "ConvTranspose":
                self.unmapped["ConvTranspose with uneven padding"] += 1
                return
            padded = self._explicit_pad(node, pads, "ZeroPad2d")
            if padded is None:
                return
            source, pads = padded, [0] * (2 * dims)
        params: dict[str, Any] = {"out_channels": int(out_channels),
                                  "kernel_size": compact(kernel)}
        for key, value in (("stride", strides), ("dilation", dilations)):
            if compact(value) != 1:
                params[key] = compact(value)
        if compact(pads[:dims]) != 0:
            params["padding"] = compact(pads[:dims])
        if op == "ConvTranspose":
            extra = int_list(attrs.get("output_padding", [0] * dims), "output_padding", op)
            if compact(extra) != 0:
                params["output_padding"] = compact(extra)
        if group != 1:
            params["groups"] = group
        tensors = {"weight": weight}
        if bias is None:
            params["bias"] = False
        else:
            tensors["bias"] = bias
        kind = f"Conv{dims}d" if op == "Conv" else "ConvTranspose2d"
        self._add(node, kind, params, [source], tensors)

    def _pool(self, node: Any, attrs: dict[str, Any]) -> None:
        op = node.op_type
        if len(node.output) > 1 and node.output[1] and self.uses[node.output[1]]:
            self.unmapped["MaxPool with indices"] += 1
            return
        kernel = int_list(attrs["kernel_shape"], "kernel_shape", op)
        dims = len(kernel)
        strides = int_list(attrs.get("strides", [1] * dims), "strides", op)
        dilations = int_list(attrs.get("dilations", [1] * dims), "dilations", op)
        if dims not in (1, 2, 3) or len(strides) != dims or len(dilations) != dims \
                or min(kernel + strides + dilations) < 1:
            raise ModelError(f"its {op} has kernel {kernel}, strides {strides} and dilations "
                             f"{dilations}")
        pads = self._pads(node, attrs, kernel, strides, dilations)
        if any(p >= k for p, k in zip(pads, kernel + kernel, strict=True)):
            self.unmapped[f"{op} with pads as large as its kernel"] += 1
            return
        source = node.input[0]
        include_pad = bool(attrs.get("count_include_pad", 0))
        shape_in, shape_out = self.shapes.get(source), self.shapes.get(node.output[0])
        if shape_in is not None and shape_out is not None and len(shape_in) == dims + 2 and \
                all(d == 1 for d in shape_out[2:]) and (op == "MaxPool" or not include_pad) and \
                compact(dilations) == 1 and \
                all(k >= size + p for k, size, p in zip(kernel, shape_in[2:], pads[:dims],
                                                        strict=True)):
            kind = "Max" if op == "MaxPool" else "Avg"  # one window over all of the input
            self._add(node, f"Adaptive{kind}Pool{dims}d", {} if dims == 2 else
                      {"output_size": 1}, [source])
            return
        if pads[:dims] != pads[dims:]:
            if op == "MaxPool" and compact(dilations) == 1:
                padded = self._explicit_pad(node, pads, "ReplicationPad2d")  # exact for a max
            elif op == "AveragePool" and include_pad:
                padded = self._explicit_pad(node, pads, "ZeroPad2d")
            else:
                self.unmapped[f"{op} with uneven padding"] += 1
                return
            if padded is None:
                return
            source, pads = padded, [0] * (2 * dims)
        params: dict[str, Any] = {"kernel_size": compact(kernel)}
        if compact(strides) != params["kernel_size"]:
            params["stride"] = compact(strides)
        if compact(pads[:dims]) != 0:
            params["padding"] = compact(pads[:dims])
        if attrs.get("ceil_mode", 0):
            params["ceil_mode"] = True
        if op == "MaxPool":
            if compact(dilations) != 1:
                params["dilation"] = compact(dilations)
            kind = "MaxPool"
        else:
            if compact(dilations) != 1:
                self.unmapped["AveragePool with dilations"] += 1
                return
            if compact(pads) != 0 and not include_pad:
                params["count_include_pad"] = False
            kind = "AvgPool"
        if source in self.virtual and self.virtual[source][0] == "unsqueezed" and dims == 2:
            _, origin, axis, _ = self.virtual.pop(source)
            other = 3 if axis == 2 else 2  # the length's axis among the 2-D pool's
            one = {key: value[other - 2] if isinstance(value, list) else value
                   for key, value in params.items()}
            alone = all(not isinstance(v, list) or v[axis - 2] in (1, 0) for v in params.values())
            if alone and kernel[axis - 2] == 1 and strides[axis - 2] == 1:
                self.virtual[node.output[0]] = ("pooled", origin,
                                                (axis, node, one, f"{kind}1d"), op)
                return
            self.unmapped["Unsqueeze"] += 1
            return
        self._add(node, f"{kind}{dims}d", params, [source])
