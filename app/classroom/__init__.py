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
from app.classroom.session_loader import SessionLoader
from core.classroom.lessons import find_lesson, list_lessons


class Classroom:
    """What the classroom adds to a main window, and the actions it answers."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self._weights_dir: Any = None
        self.panel = ClassroomPanel(window.document)
        window.tabs.put_page(self.panel, "Classroom")  # in place of its placeholder
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
        export_steps = QAction("Export Step-Through &Row as Slides…", window)
        export_steps.setStatusTip("The model's summary, then one 1920×1080 slide per position "
                                  "of the current output row (backward: per term of the "
                                  "gradient; as a matrix: per output cell)")
        export_steps.triggered.connect(self.export_step_slides)
        lessons.addAction(export_steps)
        self.writer = SessionLoader(window)  # slides are written on a worker thread
        self.writer.loaded.connect(lambda paths: window.statusBar().showMessage(
            f"Wrote {len(paths)} slides to {paths[0].parent if paths else ''}", 10000))
        self.writer.failed.connect(lambda message: QMessageBox.warning(
            window, "Cannot write slides", message))
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
        # the document owns the weights: the Inspect tab shows the lesson's kernels too
        window.document.use_weights(self._lesson_weights(lesson), None)
        self.panel.set_lesson(lesson)
        window.tabs.setCurrentWidget(self.panel)
        return True

    def _lesson_weights(self, lesson: Any) -> Path | None:
        """The lesson's fixed kernels as a safetensors file the weight-based views can read."""
        if not lesson.weights:
            return None
        import tempfile

        from safetensors.torch import save_file

        if self._weights_dir is None:
            self._weights_dir = tempfile.TemporaryDirectory(prefix="convscope-lesson-")
        path = Path(self._weights_dir.name) / f"{lesson.key}.safetensors"
        save_file({k: v.contiguous() for k, v in lesson.weight_tensors().items()}, str(path))
        return path

    def _folder(self) -> Path | None:
        folder = QFileDialog.getExistingDirectory(self.window, "Folder for the slides")
        return Path(folder) if folder else None

    def export_slides(self) -> None:
        """The open lesson's slides: a model summary, then one per step (on a worker)."""
        lesson = self.panel.lesson
        if lesson is None:
            QMessageBox.information(self.window, "Slides", "Open a lesson first (Lessons menu).")
            return
        folder = self._folder()
        if folder is None:
            return
        from core.classroom.slides import write_lesson_slides

        self.window.statusBar().showMessage(f"Writing {len(lesson.steps) + 1} slides…")
        self.writer.load(lambda: write_lesson_slides(lesson, folder))

    def export_step_slides(self) -> None:
        """Every position of the current output row of the step-through, one slide each; in
        the backward view every term of the gradient, in the matrix view every output cell."""
        mode = self.panel.mode_choice.currentData()
        if mode != "forward":
            self._export_worked_slides(mode)
            return
        view = self.panel.step_view
        step, session = view.step_result, view.session
        if step is None or session is None:
            QMessageBox.information(self.window, "Slides", "Pick a layer to step through first.")
            return
        folder = self._folder()
        if folder is None:
            return
        from core.classroom.slides import write_step_slides

        layer = step.layer
        output = session.output(layer).numpy()
        analysis = session.inspector.analysis
        row = step.position[:-1]
        positions = [(*row, x) for x in range(output.shape[-1])][:64]

        def write() -> list[Path]:
            steps = [session.step(layer, p) for p in positions]
            return write_step_slides(steps, [output] * len(steps),
                                     f"{session.spec.name} · {layer}", folder, analysis)

        self.window.statusBar().showMessage(f"Writing {len(positions)} slides…")
        self.writer.load(write)

    def _export_worked_slides(self, mode: str) -> None:
        view = self.panel.current_view()
        if view.result is None or view.session is None:
            QMessageBox.information(self.window, "Slides", "Pick a layer first: nothing is "
                                    "shown to export.")
            return
        folder = self._folder()
        if folder is None:
            return
        from core.classroom import slides

        name = view.session.spec.name
        result = view.result
        if mode == "backward":
            title = f"{name} · {result.layer}"
            count = min(len(result.contributions), 64) + (len(result.contributions) > 64)

            def write() -> list[Path]:
                return slides.write_gradient_slides(result, title, folder)
        else:
            conv = result[0]
            count = min(conv.matrix.shape[0], 64)

            def write() -> list[Path]:
                return slides.write_matrix_slides(conv, f"{name} · {conv.layer}", folder)

        self.window.statusBar().showMessage(f"Writing {max(1, count)} slides…")
        self.writer.load(write)

    def stop(self) -> None:
        self.present.leave()
        self.panel.stop()
        self.writer.stop()  # slides being written finish; closing waits on a timer
        if self._weights_dir is not None:
            self._weights_dir.cleanup()


def install(window: Any) -> Classroom:
    return Classroom(window)
