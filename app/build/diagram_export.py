"""The diagram's scene written as SVG or PNG (Export in the diagram, File → Export Diagram)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QGraphicsScene


def export_scene(scene: QGraphicsScene, title: str, background: QColor, path: Path,
                 scale: float = 2.0) -> None:
    """Save the whole scene as PNG (at ``scale``) or SVG, by the file's extension."""
    rect = scene.sceneRect()
    if path.suffix.lower() == ".svg":
        from PySide6.QtSvg import QSvgGenerator  # a Qt library of its own: loaded when asked

        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(QSize(int(rect.width()), int(rect.height())))
        generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
        generator.setTitle(title)
        painter = QPainter(generator)
        scene.render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
        painter.end()
        return
    image = QImage(int(rect.width() * scale), int(rect.height() * scale),
                   QImage.Format.Format_ARGB32)
    image.fill(background)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    scene.render(painter, QRectF(0, 0, image.width(), image.height()), rect)
    painter.end()
    if not image.save(str(path)):
        raise OSError(f"could not write {path}")
