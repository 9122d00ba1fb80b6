"""The Help menu: keyboard shortcuts, the README's sections, where runs are stored, the version.

Everything shown is read from where it lives (the window's own actions, README.md, the training
panel's run folder, the installed package's metadata), so it cannot drift from the program.
"""

from __future__ import annotations

import platform
import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

README = Path(__file__).resolve().parent.parent / "README.md"
OTHER_KEYS = (
    ("Double-click or Enter on a palette type", "add the layer after the selected one"),
    ("Alt+↑ / Alt+↓ in the layer list", "move the selected layer"),
    ("Ctrl+wheel over the diagram", "zoom the diagram; drag to pan"),
    ("Shift+click / Shift+drag on the diagram", "select several blocks (a rubber band)"),
    ("Delete, Ctrl+C, Ctrl+V on the diagram", "delete, copy, paste the selected blocks"),
    ("Ctrl+G on the diagram", "group the selected blocks; double-click opens a group"),
    ("F2 or double-click on a group's name", "rename the group"),
    ("Right-click a diagram block", "freeze up to here, freeze a group, edit kernel values"),
    ("Ctrl+Z / Ctrl+Shift+Z in any field", "undo / redo the model (not just the field)"),
)


def readme_sections(text: str) -> list[tuple[str, str]]:
    """The README's "## " sections as (title, Markdown body), in order."""
    parts = re.split(r"^## +(.+)$", text, flags=re.MULTILINE)
    return [(parts[i].strip(), parts[i + 1].strip()) for i in range(1, len(parts) - 1, 2)]


def version_text() -> str:
    # 20 ms (email, zipfile): imported when Help → About asks, not at start-up
    from importlib import metadata

    def installed(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    # versions from the installed packages' metadata: asking torch itself would import it
    pyside = installed("PySide6")
    if pyside == "not installed":
        pyside = installed("PySide6-Essentials")
    return (f"ConvScope {installed('convscope')}\nPython {platform.python_version()} · "
            f"PySide6 {pyside} · torch {installed('torch')} · torchvision "
            f"{installed('torchvision')}")


def shortcut_rows(window: QMainWindow) -> list[tuple[str, str]]:
    """(keys, what) for every menu action with a shortcut, then the keys that are not menus."""
    rows = []
    for top in window.menuBar().actions():
        menu = top.menu()
        if not isinstance(menu, QMenu):
            continue
        for action in menu.actions():
            keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
            if keys and action.text():
                what = f"{top.text().replace('&', '')} → {action.text().replace('&', '')}"
                rows.append((" or ".join(keys), what))
    return rows + list(OTHER_KEYS)


def show_text(parent: QWidget, title: str, markdown: str) -> QDialog:
    dialog = QDialog(parent)
    dialog.setWindowTitle(title)
    layout = QVBoxLayout(dialog)
    browser = QTextBrowser()
    browser.setOpenExternalLinks(True)
    browser.setMarkdown(markdown)
    layout.addWidget(browser)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    dialog.resize(int(parent.width() * 0.55) or 900, int(parent.height() * 0.7) or 700)
    dialog.show()
    return dialog


def _shows(window: QMainWindow, title: str, body: str) -> Callable[[], object]:
    """The slot of one Guide entry: shows that README section."""
    return lambda: show_text(window, title, body)


def fill_help_menu(window: QMainWindow, menu: QMenu, runs_folder: Callable[[], Path],
                   data_folder: Path) -> None:
    """Add the Help menu's actions to ``menu`` (``runs_folder``: the Train tab's, asked when
    shown)."""

    def shortcuts() -> None:
        rows = "\n".join(f"| {keys} | {what} |" for keys, what in shortcut_rows(window))
        show_text(window, "Keyboard shortcuts", f"| Keys | Does |\n|---|---|\n{rows}")

    def runs() -> None:
        QMessageBox.information(
            window, "Where runs are stored",
            f"Runs trained in this window: {runs_folder()}\n\n"
            "Runs of `convscope train`: the folder given with --out, by default ./runs in the "
            "folder you run it from.\n\n"
            f"Downloaded datasets (MNIST, Fashion-MNIST, CIFAR-10): {data_folder}\n\n"
            "Each run folder holds the model file, the settings, the history and safetensors "
            "weights (best and last); File → Open Trained Run reopens one.")

    action = menu.addAction("&Keyboard Shortcuts", shortcuts)
    action.setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))
    guide = menu.addMenu("&Guide (README)")
    sections = readme_sections(README.read_text(encoding="utf-8")) if README.is_file() else []
    for title, body in sections:
        guide.addAction(title, _shows(window, title, body))
    guide.setEnabled(bool(sections))
    menu.addAction("Where &Runs Are Stored", runs)
    menu.addSeparator()
    menu.addAction("&About ConvScope", lambda: QMessageBox.about(
        window, "About ConvScope", version_text()))
