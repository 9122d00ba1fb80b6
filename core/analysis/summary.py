"""The model summary: a JSON-ready dict, a Keras-style text table and a Markdown table."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.analysis.model_analysis import ModelAnalysis, analyze_model
from core.model.spec import ModelSpec, load_model, model_from_dict

ModelSource = ModelSpec | Mapping[str, Any] | str | Path


def as_spec(source: ModelSource) -> ModelSpec:
    """A ModelSpec from a spec, a model-file dict or a path to a model file."""
    if isinstance(source, ModelSpec):
        return source
    if isinstance(source, str | Path):
        return load_model(source)
    return model_from_dict(source)


def summary(source: ModelSource) -> dict[str, Any]:
    """The summary that ``convscope summary --json`` prints.

    Raises a ValueError subclass naming the first invalid layer.
    """
    analysis = analyze_model(as_spec(source))
    analysis.raise_error()
    return summary_dict(analysis)


def summary_dict(analysis: ModelAnalysis) -> dict[str, Any]:
    return {
        "name": analysis.spec.name,
        "input_shape": list(analysis.spec.input_shape),
        "layers": [
            {
                "name": layer.name,
                "type": layer.type,
                "output_shape": list(layer.output_shape),
                "params": layer.params,
                "trainable_params": layer.trainable_params,
                "macs": layer.macs,
            }
            for layer in analysis.layers
        ],
        "total_params": analysis.total_params,
        "trainable_params": analysis.trainable_params,
        "non_trainable_params": analysis.non_trainable_params,
        "total_macs": analysis.total_macs,
    }


def format_count(value: int) -> str:
    return f"{value:,}"


def format_bytes(value: int) -> str:
    """Decimal units (1 kB = 1000 B), as disks and the presets' descriptions count."""
    size = float(value)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def format_macs(value: int) -> str:
    for unit, scale in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if value >= scale:
            return f"{value / scale:.2f} {unit}"
    return str(value)


def shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in shape)


_HEADERS = ("Layer (type)", "Output shape", "Param #", "MACs", "RF size / jump")


def _rows(analysis: ModelAnalysis) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for layer in analysis.layers:
        field = layer.receptive_field.label() if layer.receptive_field else ""
        params = format_count(layer.params)
        if layer.params and not layer.trainable_params:
            params += " (frozen)"
        rows.append((f"{layer.name} ({layer.type})", shape_text(layer.output_shape), params,
                     format_macs(layer.macs) if layer.macs else "0", field))
    return rows


def _totals(analysis: ModelAnalysis) -> list[str]:
    lines = [
        f"Total params: {format_count(analysis.total_params)}",
        f"Trainable params: {format_count(analysis.trainable_params)}",
        f"Non-trainable params: {format_count(analysis.non_trainable_params)}",
        f"Multiply-accumulates (MACs): {format_count(analysis.total_macs)}"
        f" ({format_macs(analysis.total_macs)})",
        f"Activation memory per sample: {format_bytes(analysis.activation_bytes)}",
        f"Parameter memory: {format_bytes(analysis.total_params * 4)}",
    ]
    if analysis.error is not None:
        lines.append(f"INVALID: {analysis.error}")
    return lines


def format_table(analysis: ModelAnalysis) -> str:
    """A Keras-style summary table (receptive field as size / jump in input pixels)."""
    rows = _rows(analysis)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(_HEADERS)]
    rule = "─" * (sum(widths) + 2 * (len(widths) - 1))

    def line(cells: tuple[str, ...]) -> str:
        out = [cells[0].ljust(widths[0]), cells[1].ljust(widths[1])]
        out += [c.rjust(w) for c, w in zip(cells[2:4], widths[2:4], strict=True)]
        out.append(cells[4].ljust(widths[4]))
        return "  ".join(out).rstrip()

    text = [f'Model: "{analysis.spec.name}"   input {shape_text(analysis.spec.input_shape)}',
            rule, line(_HEADERS), rule]
    text += [line(r) for r in rows]
    text += [rule, *_totals(analysis)]
    return "\n".join(text) + "\n"


def format_markdown(analysis: ModelAnalysis) -> str:
    """The summary as a Markdown table, for handouts."""
    text = [f"**{analysis.spec.name}** — input {shape_text(analysis.spec.input_shape)}", "",
            "| " + " | ".join(_HEADERS) + " |", "|---|---|--:|--:|---|"]
    text += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |"
             for row in _rows(analysis)]
    text.append("")
    text += [f"- {t}" for t in _totals(analysis)]
    return "\n".join(text) + "\n"
