"""Torch, torchvision, scikit-learn and SciPy load once, on a worker, never on the UI thread.

Importing torch and torchvision takes ~4 s on a 2-core laptop and the digits dataset's
scikit-learn and SciPy another second. The window paints without them (app.main) and starts
one shared warm-up right after its first paint, at low priority (:func:`start_after_first_paint`).
A view that needs them earlier shows what it can at once and lets :func:`when_ready` finish
the rest; the UI thread itself imports none of them.

While a worker imports torch the UI thread still waits for the GIL during the largest library
loads (loading a shared library holds it: up to ~0.3 s at a time, measured). The warm-up is
therefore a *first-import moment*: while it runs, the application shows a busy cursor and the
window a status line (:data:`STATUS`), and the GUI tests' watchdog allows UI gaps only then
(:func:`first_import_active`).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication

MODULES = (
    "torch", "torchvision", "sklearn.datasets", "scipy",
    "core.tasks.classification", "core.tasks.segmentation", "core.tasks.detection",
    "core.tasks.localization", "core.data.datasets", "core.inspect.augmentation_preview",
    "core.train.checkpoint", "core.train.engine", "core.train.preflight",
    "pyqtgraph", "app.image_pane", "app.plot_text", "igraph", "captum.attr",
    "skimage.io", "skimage.data",
)
"""What the warm-up imports: the heavy libraries and the core modules built on them that the
Train tab asks on the UI thread once they are loaded (a task's labels, the run history), and
pyqtgraph with the Inspect views' image panes (built when the Inspect tab is first shown), and
igraph for the diagram's layered layout (a provisional layout is drawn until it is loaded), and
Captum's attribution methods for Inspect (0.6 s with the matplotlib and IPython it pulls in:
imported by Inspect's worker on first use, it held the UI thread ~260 ms on opening Inspect on
VGG-16), and scikit-image's reader and sample photos (Inspect's sample photo: its first use
parsed type stubs on the worker, a 280 ms UI gap)."""
STATUS = "Loading PyTorch (the first time takes a few seconds)…"


class _Hub(QObject):
    status = Signal(str)
    """The status line while a first import runs; "" once it has ended."""
    ready = Signal()


_hub: _Hub | None = None
_moments = 0
_started = False
_ready = False
_pending: list[Callable[[], object]] = []
_worker: object = None


def hub() -> _Hub:
    """The signals: ``status`` (for the window's status bar) and ``ready``."""
    global _hub
    if _hub is None:
        _hub = _Hub()
    return _hub


def first_import_active() -> bool:
    """True while a marked first import runs (the busy cursor and status line are showing)."""
    return _moments > 0


def begin_first_import(what: str = STATUS) -> None:
    """Mark the start of a first import (UI thread): busy cursor, status line."""
    global _moments
    _moments += 1
    if _moments == 1:
        QGuiApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        hub().status.emit(what)


def end_first_import() -> None:
    global _moments
    if _moments == 0:
        return
    _moments -= 1
    if _moments == 0:
        QGuiApplication.restoreOverrideCursor()
        hub().status.emit("")


def missing(modules: tuple[str, ...]) -> bool:
    """Some of ``modules`` are not imported yet (or are being imported right now)."""
    for name in modules:
        module = sys.modules.get(name)
        if module is None or getattr(getattr(module, "__spec__", None), "_initializing", False):
            return True
    return False


def _loaded() -> bool:
    return not missing(MODULES)


def is_ready() -> bool:
    """Every module of :data:`MODULES` is imported (by the warm-up or otherwise)."""
    global _ready
    if not _ready and _loaded():
        _ready = True
    return _ready


def when_ready(callback: Callable[[], object], start_now: bool = False) -> bool:
    """Call ``callback`` now if the heavy modules are loaded (returns True), else once the
    warm-up has loaded them (returns False); a callback asked for twice runs once. The warm-up
    starts after the window's first paint, or now with ``start_now`` (a click that needs it)."""
    if is_ready():
        callback()
        return True
    if callback not in _pending:
        _pending.append(callback)
    if start_now:
        start()
    return False


_cuda: bool | None = None


def cuda_available() -> bool:
    """Whether torch sees a CUDA device (asked on the warm-up's worker: the first ask
    initialises the driver). Only once :func:`is_ready`."""
    global _cuda
    if _cuda is None:
        import torch

        _cuda = bool(torch.cuda.is_available())
    return _cuda


def _import_all() -> None:
    import importlib

    for name in MODULES:
        importlib.import_module(name)
    cuda_available()


def start() -> None:
    """Start the warm-up on a worker (once; low priority)."""
    global _started, _worker
    if _started or is_ready():
        return
    _started = True
    from app.workers import Worker

    begin_first_import()
    worker = Worker(_import_all, nice=True)
    worker.finished.connect(_finished)
    _worker = worker  # kept until it reports
    worker.start()


def _finished() -> None:
    global _ready, _worker
    _ready = True  # a failed import is reported by whoever needs the module, with its error
    _worker = None
    end_first_import()
    callbacks = list(_pending)
    _pending.clear()
    for callback in callbacks:
        with contextlib.suppress(RuntimeError):  # its widget was closed meanwhile
            callback()
    hub().ready.emit()


def forget_callbacks() -> None:
    """The window is closing: what views asked to do once the warm-up ends (start a run,
    adopt a task) is not wanted any more. The warm-up itself runs on to its end (an
    interpreter shutting down under an importing thread fails in it, "can't register atexit
    after shutdown"): closing the window waits for it on a timer (app.workers.Closing)."""
    _pending.clear()


class _FirstPaint(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, start)
        return False


_first_paint = _FirstPaint()


def start_after_first_paint(window: QObject) -> None:
    """Start the warm-up once ``window`` has painted for the first time."""
    if not is_ready():
        window.installEventFilter(_first_paint)
