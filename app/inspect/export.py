"""Exporting a view to PNG at a chosen size, on the worker, with core.inspect.render (the same
figures as ``convscope render``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.inspect.attributions import compute_attribution
from app.inspect.filters import chosen_channel

if TYPE_CHECKING:
    from app.inspect.base import Context
    from app.workers import Task


def render_view(context: Context, parameters: Any, task: Task) -> Path:
    from core.inspect import render

    view, path, size, name, view_parameters = parameters
    inspector = context.inspector
    notes = [inspector.weights_note]
    if view == "filters":
        layer, colour, channel, frame = view_parameters
        grid = inspector.filters(layer)
        pick = chosen_channel(grid.in_channels, colour, channel)
        frame = frame if frame is not None and frame < grid.depth else None
        if pick is not None or frame is not None:
            grid = inspector.filters(layer, pick, frame)
        shown = "" if grid.frame is None else f" (kernel frame {grid.frame} of {grid.depth})"
        kind = "templates" if layer in inspector.template_layers() else "filters"
        fig = render.filters_figure(grid, f"{name} · {grid.layer} {kind}{shown}", notes, size)
    elif view == "activations":
        from core.inspect.inputs import frame_of

        layer, frame = view_parameters
        inp = context.input()
        notes.append(f"input: {inp.source}")
        values, shown = context.activation(layer), ""
        if values.ndim == 4:  # a Conv3d layer: the frame the view shows
            values, chosen = frame_of(values, frame, layer)
            shown = f" (frame {chosen})"
        fig = render.activations_figure(values, f"{name} · {layer} activations{shown}", notes,
                                        size, inspector.classes)
    else:
        result = compute_attribution(context, view_parameters, task)
        notes.append(f"input: {context.input().source}")
        fig = render.overlay_figure(result["display"], result["heat"],
                                    f"{name} · {result['note']} for class {result['class']}",
                                    notes, size)
    return render.save_png(fig, path)
