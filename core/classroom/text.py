"""A step's arithmetic as words and numbers (the handout text, the slides' formula line)."""

from __future__ import annotations

import numpy as np

from core.classroom.backward import GradientStep
from core.classroom.matrix import ConvMatrix
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
    if len(step.position) == 4:
        c, t, y, x = step.position
        return f"channel {c}, frame {t}, row {y}, column {x}"
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
        name = step.channel_labels[index] if step.channel_labels else f"input channel {channel}"
        lines.append(f"{name}: patch (* = padding)")
        lines.append(grid_text(step.patch[index], step.padding[index]))
        if step.kernel is not None and step.products is not None:
            lines += ["kernel", grid_text(step.kernel[index]), "products",
                      grid_text(step.products[index])]
        if step.channel_sums is not None:
            lines.append(f"channel sum {number(float(step.channel_sums[index]))}")
    lines.append(formula(step))
    lines += [f"note: {note}" for note in step.notes]
    return "\n".join(lines)


def gradient_name(step: GradientStep) -> str:
    """"∂L/∂w[0,1,2,2]", "∂L/∂x[0,3,4]" or "∂L/∂b[1]"."""
    symbol = {"weight": "w", "input": "x", "bias": "b"}[step.kind]
    return f"∂L/∂{symbol}[{','.join(map(str, step.at))}]"


def gradient_term(step: GradientStep, index: int) -> str:
    """Term ``index`` in words: factor × upstream = contribution, and the running sum."""
    at = ",".join(map(str, step.positions[index]))
    factor = number(float(step.factors[index]))
    if step.kind == "input" and step.layer_type == "Linear":
        factor = f"W[{int(step.cells[index][0])},{step.at[-1]}] {factor}"
    elif step.kind == "input":
        weight = [int(step.positions[index][0]), *(int(v) for v in step.cells[index])]
        factor = f"w[{','.join(map(str, weight))}] {factor}"
    elif step.kind == "weight":
        factor = f"x {factor}" + (" (padding)" if step.padding[index] else "")
    return (f"term {index + 1} of {len(step.contributions)}: {factor} × ∂L/∂y[{at}] "
            f"{number(float(step.upstream[index]))} = {number(float(step.contributions[index]))}"
            f"; running sum {number(float(step.running_sum[index]))}")


def gradient_total(step: GradientStep) -> str:
    """The total and, when known, autograd's value beside it."""
    count = len(step.contributions)
    text = (f"{gradient_name(step)} = Σ of {count} term{'s' if count != 1 else ''} = "
            f"{number(step.value)}")
    if step.autograd is not None:
        text += f"   (autograd: {number(step.autograd)})"
    return text


def describe_gradient(step: GradientStep) -> str:
    lines = [f"{step.layer} ({step.layer_type}), {gradient_name(step)}"
             + (f", loss {number(step.loss)} to class {step.target}" if step.loss is not None
                else "")]
    lines += [gradient_term(step, i) for i in range(len(step.contributions))]
    lines.append(gradient_total(step))
    lines += [f"note: {note}" for note in step.notes]
    return "\n".join(lines)


def describe_matrix(conv: ConvMatrix) -> str:
    rows, columns = conv.matrix.shape
    lines = [f"{conv.layer} ({conv.layer_type}), output channel {conv.channel} as a "
             f"{rows} × {columns} matrix: {int(conv.structure.sum())} cells can hold a weight, "
             f"{conv.weights} distinct weights; matrix · vec(x) + bias = the channel's "
             f"{'×'.join(map(str, conv.output_shape))} output"]
    lines.append(grid_text(conv.matrix))
    lines.append("bias " + "  ".join(number(float(b)) for b in conv.bias))
    return "\n".join(lines)


def describe(result: Step | GradientStep | ConvMatrix) -> str:
    """A step, a gradient or a matrix as text (``convscope step`` without --json)."""
    if isinstance(result, GradientStep):
        return describe_gradient(result)
    if isinstance(result, ConvMatrix):
        return describe_matrix(result)
    return describe_step(result)
