"""A step's arithmetic as words and numbers (the handout text, the slides' formula line)."""

from __future__ import annotations

import numpy as np

from core.classroom.step import Step


def number(value: float) -> str:
    """A value as a teacher writes it: whole numbers without a decimal point, else 4 digits."""
    if not np.isfinite(value):
        return "NaN" if np.isnan(value) else ("∞" if value > 0 else "−∞")
    if float(value).is_integer() and abs(value) < 1e12:
        text = str(int(value))
    else:
        text = f"{value:.4g}"
    return text.replace("-", "−")


def where(step: Step) -> str:
    if len(step.position) == 2:
        return f"channel {step.position[0]}, position {step.position[1]}"
    c, y, x = step.position
    return f"channel {c}, row {y}, column {x}"


def formula(step: Step) -> str:
    """One line: how the value is made (sums per channel + bias, or the pooling)."""
    if step.operation == "max":
        return f"max of the window = {number(step.value)}"
    if step.operation == "avg":
        return f"sum / {number(step.divisor or 1)} = {number(step.value)}"
    if step.operation == "lp":
        return f"L{number(step.divisor or 2)} pooling = {number(step.value)}"
    assert step.channel_sums is not None
    if len(step.channel_sums) == 1 and step.bias is None:
        return f"sum of the products = {number(step.value)}"
    parts = [number(v) for v in step.channel_sums]
    text = " + ".join(parts) if len(parts) <= 8 else f"{' + '.join(parts[:4])} + … ({len(parts)})"
    if step.bias is not None:
        text += f" + bias {number(step.bias)}"
    return f"{text} = {number(step.value)}".replace("+ −", "− ")


def grid_text(values: np.ndarray, padding: np.ndarray | None = None) -> str:
    """A 2-D grid as aligned text; padding cells in brackets."""
    cells = [[number(float(v)) + ("*" if padding is not None and padding[i, j] else "")
              for j, v in enumerate(row)] for i, row in enumerate(values)]
    width = max(len(c) for row in cells for c in row)
    return "\n".join("  ".join(c.rjust(width) for c in row) for row in cells)


def describe_step(step: Step) -> str:
    """The whole step as text: per input channel the patch, kernel and products, then the sum."""
    lines = [f"{step.layer} ({step.layer_type}), output {where(step)} of "
             f"{'×'.join(map(str, step.output_shape))}"]
    for index, channel in enumerate(step.in_channels):
        lines.append(f"input channel {channel}: patch (* = padding)")
        lines.append(grid_text(step.patch[index], step.padding[index]))
        if step.kernel is not None and step.products is not None:
            lines += ["kernel", grid_text(step.kernel[index]), "products",
                      grid_text(step.products[index])]
        if step.channel_sums is not None:
            lines.append(f"channel sum {number(float(step.channel_sums[index]))}")
    lines.append(formula(step))
    lines += [f"note: {note}" for note in step.notes]
    return "\n".join(lines)
