"""Explanations for learners: a layer's formulas filled in with its own numbers."""

from __future__ import annotations

from typing import Any

from core.analysis.layer_rules import expand
from core.analysis.model_analysis import LayerAnalysis
from core.model.catalog import CATALOG


def _conv_lines(layer: LayerAnalysis, transposed: bool = False) -> list[str]:
    s = layer.settings
    in_shape = layer.input_shapes[0]
    dims = len(in_shape) - 1
    k = expand(s["kernel_size"], dims, "kernel_size")
    st = expand(s.get("stride") if s.get("stride") is not None else s["kernel_size"], dims, "")
    d = expand(s.get("dilation", 1), dims, "dilation")
    lines = []
    axes = ("length",) if dims == 1 else ("height", "width") if dims == 2 else ("depth", "height",
                                                                               "width")
    for i, axis in enumerate(axes):
        n_in, n_out = in_shape[1 + i], layer.output_shape[1 + i]
        if transposed:
            pad = expand(s["padding"], dims, "")[i]
            op = expand(s["output_padding"], dims, "")[i]
            lines.append(f"{axis}: ({n_in} − 1)·{st[i]} − 2·{pad} + {d[i]}·({k[i]} − 1) + {op} "
                         f"+ 1 = {n_out}")
            continue
        padding = s.get("padding", 0)
        if padding == "same":
            lines.append(f"{axis}: padding \"same\" keeps {n_in} → {n_out}")
            continue
        pad = 0 if padding == "valid" else expand(padding, dims, "")[i]
        bracket = "⌈" if s.get("ceil_mode") else "⌊"
        close = "⌉" if s.get("ceil_mode") else "⌋"
        lines.append(f"{axis}: {bracket}({n_in} + 2·{pad} − {d[i]}·({k[i]} − 1) − 1) / {st[i]}"
                     f"{close} + 1 = {n_out}")
    return lines


def _param_line(layer: LayerAnalysis) -> str | None:
    s = layer.settings
    t = layer.type
    if not layer.params:
        return None
    if t.startswith("Conv"):
        dims = len(layer.input_shapes[0]) - 1
        k = expand(s["kernel_size"], dims, "kernel_size")
        c_in, c_out, g = layer.input_shapes[0][0], s["out_channels"], s["groups"]
        kernel = "×".join(str(v) for v in k)
        first, second = (c_in, f"{c_out} / {g}" if g > 1 else str(c_out)) if t.startswith(
            "ConvTranspose") else (c_out, f"{c_in} / {g}" if g > 1 else str(c_in))
        bias = f" + {c_out}" if s["bias"] else ""
        return f"params = {first} × {second} × {kernel}{bias} = {layer.params:,}"
    if t == "LocallyConnected2d":
        window = "×".join(str(v) for v in expand(s["kernel_size"], 2, "kernel_size"))
        out_h, out_w = layer.output_shape[1:]
        c_in, c_out = layer.input_shapes[0][0], s["out_channels"]
        bias = f" + {c_out}" if s["bias"] else ""
        return (f"params = {out_h}×{out_w} positions × ({c_out} × {c_in} × {window}{bias}) = "
                f"{layer.params:,} (no sharing: a kernel per position)")
    if t == "Linear":
        n_in = layer.input_shapes[0][-1]
        bias = f" + {s['out_features']}" if s["bias"] else ""
        return f"params = {n_in} × {s['out_features']}{bias} = {layer.params:,}"
    if t == "Embedding":
        return (f"params = {s['num_embeddings']} token ids × {s['embedding_dim']} numbers each "
                f"= {layer.params:,}")
    if t.startswith("BatchNorm") or t in ("GroupNorm", "InstanceNorm2d", "LayerNorm2d"):
        if not layer.params:
            return "params = 0 (no learned scale or shift)"
        per = layer.params // layer.input_shapes[0][0]
        what = "scale and shift" if per == 2 else "scale"
        return f"params = {per} × {layer.input_shapes[0][0]} ({what}) = {layer.params:,}"
    if t == "LayerScale":
        return f"params = {layer.params:,} learned scales (one per channel)"
    if t == "PReLU":
        return f"params = {layer.params:,} learned slope{'s' if layer.params > 1 else ''}"
    return f"params = {layer.params:,}"


def explain_layer(layer: LayerAnalysis) -> str:
    """The layer's explanation, its output-size formula and that formula with its numbers."""
    entry = CATALOG[layer.type]
    lines = [entry.summary, "", f"Output size: {entry.formula}"]
    if layer.type.startswith(("Conv", "MaxPool", "AvgPool")) or layer.type == "LPPool2d":
        if layer.type == "ConvTranspose2d":
            lines += _conv_lines(layer, transposed=True)
        else:
            lines += _conv_lines(layer)
    in_text = " + ".join("×".join(str(v) for v in s) for s in layer.input_shapes)
    lines.append(f"{in_text} → {'×'.join(str(v) for v in layer.output_shape)}")
    param_line = _param_line(layer)
    if param_line:
        lines.append(param_line)
    if layer.receptive_field is not None:
        lines.append(f"Receptive field: {layer.receptive_field.label()} (size / jump, in input "
                     "pixels)")
    return "\n".join(lines)


def key_settings(type_name: str, params: dict[str, Any]) -> str:
    """A short text of a layer's most telling settings for the layer list: '32, 3×3, s2'."""
    parts = []
    for key, prefix in (("out_channels", ""), ("out_features", ""), ("kernel_size", "k"),
                        ("stride", "s"), ("padding", "p"), ("dilation", "d"), ("groups", "g"),
                        ("output_size", "→"), ("scale_factor", "×"), ("p", "p="),
                        ("negative_slope", "α="), ("size", "size "), ("num_groups", "groups "),
                        ("upscale_factor", "×")):
        if key not in params or params[key] is None:
            continue
        value = params[key]
        if isinstance(value, list | tuple):
            text = "×".join("·" if v is None else str(v) for v in value)
        else:
            text = str(value)
        if key == "kernel_size" and not isinstance(value, list | tuple):
            text = f"{value}×{value}" if CATALOG[type_name].spatial_dims == 2 else str(value)
            parts.append(text)
            continue
        parts.append(f"{prefix}{text}")
    return ", ".join(parts)
