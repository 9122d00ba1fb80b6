"""``convscope lesson``: the lectures' worked examples, listed, shown or written as slides."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.cli.common import fail
from core.model.errors import ModelError


def run(args: argparse.Namespace) -> int:
    from core.classroom.lessons import find_lesson, list_lessons

    if args.name is None:
        if args.slides is not None:
            return fail("--slides needs a lesson name: convscope lesson NAME --slides DIR")
        for lesson in list_lessons():
            print(f"{lesson.key:16} {lesson.title}")
        return 0
    try:
        lesson = find_lesson(args.name)
    except ModelError as exc:
        return fail(str(exc))
    if args.slides is None:
        print(f"{lesson.title}\n\n{lesson.explanation}\n")
        for number, step in enumerate(lesson.steps, 1):
            print(f"{number}. {step.title}: {step.text}")
        return 0
    folder = Path(args.slides)
    if folder.exists() and not folder.is_dir():
        return fail(f"--slides {folder} is a file; give a folder for the PNG slides")
    from core.classroom.slides import write_lesson_slides

    try:
        paths = write_lesson_slides(lesson, folder)
    except OSError as exc:
        return fail(f"cannot write slides in {folder}: {exc.strerror or exc}")
    for path in paths:
        print(path)
    return 0


def add_parser(commands: Any) -> None:
    """The sub-command and its arguments, on the dispatcher's sub-parsers."""
    les = commands.add_parser("lesson", help="list the lectures' worked examples, show one, "
                              "or write its slides")
    les.add_argument("name", nargs="?", help="a lesson (omitted: list them)")
    les.add_argument("--slides", metavar="DIR", help="write numbered 1920×1080 PNG slides here")
    les.set_defaults(run=run)
