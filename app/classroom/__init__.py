"""The classroom: step-through view, lessons, presentation mode and slides in the window.

``install(window)`` adds the Classroom tab, the Lessons menu and View → Present to the main
window, so the window's own code only calls it once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox

from app.classroom.panel import ClassroomPanel
from app.classroom.present import PresentMode
from core.classroom.lessons import find_lesson, list_lessons


class Classroom:
    """What the classroom adds to a main window, and the actions it answers."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.panel = ClassroomPanel(window.document, getattr(window, "weights", None))
        window.tabs.addTab(self.panel, "Classroom")
        self.present = PresentMode(window, window.tabs, self.panel)
        bar = window.menuBar()
        lessons = bar.addMenu("&Lessons")
        for lesson in list_lessons():
            action = QAction(lesson.title, window)
            action.setStatusTip(lesson.explanation[:120])
            action.triggered.connect(lambda _c=False, k=lesson.key: self.open_lesson(k))
            lessons.addAction(action)
        lessons.addSeparator()
        export = QAction("Export Lesson &Slides…", window)
        export.triggered.connect(self.export_slides)
        lessons.addAction(export)
        view = next((a.menu() for a in bar.actions() if a.text() == "&View"), None)
        self.present_action = QAction("&Present", window)
        self.present_action.setShortcut(QKeySequence("F5"))
        self.present_action.setStatusTip("Full screen for a projector: large type, high "
                                         "contrast, keyboard stepping; Esc leaves")
        self.present_action.triggered.connect(self.present.toggle)
        window.addAction(self.present_action)  # F5 works while the menu bar is hidden
        if view is not None:
            view.addSeparator()
            view.addAction(self.present_action)

    def open_lesson(self, key: str) -> bool:
        """Open a lesson: its model in the builder (editable), the Classroom tab on its steps."""
        window = self.window
        if (hasattr(window, "_locked") and window._locked()) or not window.maybe_save():
            return False
        lesson = find_lesson(key)
        window.document.load(lesson.spec, None)
        self.panel.set_lesson(lesson)
        window.tabs.setCurrentWidget(self.panel)
        return True

    def export_slides(self) -> None:
        lesson = self.panel.lesson
        if lesson is None:
            QMessageBox.information(self.window, "Slides", "Open a lesson first (Lessons menu).")
            return
        folder = QFileDialog.getExistingDirectory(self.window, "Folder for the slides")
        if not folder:
            return
        from core.classroom.slides import write_lesson_slides

        try:
            paths = write_lesson_slides(lesson, Path(folder))
        except OSError as exc:
            QMessageBox.warning(self.window, "Cannot write slides", str(exc))
            return
        self.window.statusBar().showMessage(f"Wrote {len(paths)} slides to {folder}", 8000)

    def stop(self) -> None:
        self.present.leave()
        self.panel.stop()


def install(window: Any) -> Classroom:
    return Classroom(window)
