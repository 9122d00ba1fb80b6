"""Lesson slides: every value is drawn inside its own cell, whatever its width."""

from __future__ import annotations

import math

import pytest
from matplotlib.figure import Figure

from core.classroom.lessons import find_lesson, list_lessons
from core.classroom.slides import lesson_step_figure


def values_outside_their_cells(fig: Figure) -> list[str]:
    """The grid numbers whose drawn extent leaves their cell (neighbours would overlap)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    found = []
    for ax in fig.axes:
        for text in ax.texts:
            x, y = text.get_position()
            col, row = math.floor(x), math.floor(y)
            corners = ax.transData.transform([(col, row), (col + 1, row + 1)])
            left, right = sorted(corners[:, 0])
            bottom, top = sorted(corners[:, 1])
            box = text.get_window_extent(renderer)
            if box.x0 < left or box.x1 > right or box.y0 < bottom or box.y1 > top:
                found.append(f"{ax.get_title()!r} ({row}, {col}) {text.get_text()!r}: "
                             f"{box.width:.0f} px in a {right - left:.0f} px cell")
    return found


@pytest.mark.parametrize("key", [lesson.key for lesson in list_lessons()])
def test_slide_values_fit_their_cells(key: str) -> None:
    """"0156155" on the RGB example: three-digit values ran into each other (issue 17, 4)."""
    lesson = find_lesson(key)
    sessions: dict[int, object] = {}
    for index, step in enumerate(lesson.steps):
        if step.layer is None:
            continue
        fig = lesson_step_figure(lesson, index, sessions)
        assert values_outside_their_cells(fig) == [], f"step {index + 1}"
