from __future__ import annotations

import gc
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def collect_as_the_app(qapp: object) -> Iterator[None]:
    """Garbage is collected as app.main collects it: automatic collection off, a UI-thread
    timer collects (app.garbage). Collected on a worker thread instead, a collection holds the
    GIL for its whole length while the UI thread waits for it: in a test process, 250–400 ms
    collections on the thread rendering an export with matplotlib were the watchdog's "GIL
    waits" (benchmarks/bench_export_gil.py). The watchdog leaves out the UI thread's own
    collections. First of the autouse fixtures: set up first (no collection inside the deferred
    deletes below), torn down last (collection is automatic again only between tests)."""
    from app.garbage import UiThreadCollector

    collector = UiThreadCollector()
    collector.start()
    yield
    collector.stop()
    # collected here, from Python: switched back on with garbage pending, a collection ran
    # inside a Qt call holding a signal-slot mutex (QObject::disconnect in a fixture's
    # teardown) and deleted a QObject that needed it: the process hung in QObject::~QObject
    gc.collect()
    gc.enable()


@pytest.fixture(autouse=True)
def convscope_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every GUI test gets its own settings, recent files and autosave folder."""
    home = tmp_path / "home"
    monkeypatch.setenv("CONVSCOPE_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def collect_garbage_on_the_ui_thread() -> Iterator[None]:
    """Collect dead widgets on the UI thread before and after each test.

    Python's collector runs on whichever thread happens to allocate. When a worker thread (slide
    writing, an inspection) collects an earlier test's window wrappers, shiboken defers their
    deletion to the UI thread, and destroying them there deadlocked against the worker (seen:
    QObject::~QObject waiting on a Qt mutex while the worker waited for the GIL).

    What is alive before the first test (Qt, pyqtgraph, the app's modules) and again once torch
    is loaded is frozen out of later collections (gc.freeze, as the app does in
    app.workers.import_torch): otherwise each collection scans those ~200k and ~470k objects
    again, about a second twice per test on a loaded machine.
    """
    gc.collect()
    if gc.get_freeze_count() == 0:  # none yet, or a test unfroze them (test_workers)
        _FROZEN.clear()
    stage = "torch" if "torch" in sys.modules else "qt"
    if stage not in _FROZEN:
        gc.freeze()
        _FROZEN.update({"qt", stage})
    yield
    gc.collect()


_FROZEN: set[str] = set()


@pytest.fixture(autouse=True)
def delete_the_previous_tests_widgets(qapp: object) -> None:
    """Delete the widgets earlier tests closed (qtbot.addWidget calls deleteLater).

    Deferred deletes are delivered only by an event loop running at the level they were
    posted from, never by pytest-qt's processEvents() between tests: without this, 20 builder
    tests left 58,000 live widgets (7,700 windows) and a later font change re-polished them
    all for minutes on the UI thread."""
    from PySide6.QtCore import QCoreApplication, QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)


@pytest.fixture(autouse=True)
def no_window_left_behind(request: pytest.FixtureRequest, qapp: object,
                          monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test that leaves a MainWindow, or any top-level widget it made, alive after its
    teardown.

    Every live widget is re-polished when the application's font or palette changes (Projector
    Text, present mode, dark theme): 300+ widgets leaked by earlier tests made one such change
    take 370 ms on the UI thread (6 ms in a fresh process). Checked once the test's fixtures
    are torn down, its jobs have reported (a job asked to stop at close ends at its next
    check, and its slots may hold a view), and deferred deletes ran. A leftover window is
    closed and deleted here, so that later tests do not pay for it."""
    import shiboken6
    from PySide6.QtWidgets import QApplication

    def tops() -> dict[int, object]:
        return {shiboken6.getCppPointer(w)[0]: w for w in QApplication.topLevelWidgets()}

    before = set(tops())
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and (report.failed or hasattr(report, "wasxfail")):
        return  # the failure's traceback holds its window's widgets: the failure says enough
    from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QTimer

    from app.main_window import MainWindow
    from app.workers import running_workers

    # pytest drops the test's fixture values (a window fixture's window) only after teardown,
    # and undoes the monkeypatches (one on a window's part holds the window) after this check
    if getattr(request.node, "funcargs", None):
        request.node.funcargs.clear()
    monkeypatch.undo()
    if running_workers():
        loop, timer = QEventLoop(), QTimer()
        timer.timeout.connect(lambda: running_workers() or loop.quit())
        timer.start(10)
        QTimer.singleShot(JOBS_END_MS, loop.quit)
        loop.exec()
        timer.stop()
    for _ in range(2):
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        gc.collect()
    left = {key: w for key, w in tops().items() if key not in before}
    if not left:
        return
    kinds: dict[str, int] = {}
    for w in left.values():
        title = getattr(w, "title", None)
        name = type(w).__name__ + (f" {title()!r}" if callable(title) and title() else "")
        kinds[name] = kinds.get(name, 0) + 1
    shown = ", ".join(f"{n}× {name}" for name, n in sorted(kinds.items(), key=lambda k: -k[1]))
    windows = [w for w in left.values() if isinstance(w, MainWindow)]
    for window in windows:
        window.close()
        window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    if windows:
        pytest.fail(f"the test left {len(windows)} live MainWindow(s) behind ({len(left)} "
                    f"top-level widgets: {shown}): register each window with "
                    "qtbot.addWidget (it closes and deletes it), or close and deleteLater it; "
                    "no module global, lambda or long-lived object may keep it", pytrace=False)
    pytest.fail(f"the test's windows are gone but {len(left)} top-level widget(s) it made "
                f"live on: {shown}. Something outside the window holds them: a slot on a "
                "worker or another long-lived object that holds a view, a parentless widget "
                "kept in an attribute, a module global", pytrace=False)


JOBS_END_MS = 10_000
"""How long the check above waits for jobs still reporting after the test's windows closed."""


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    """Fail a test that leaves Python threads running (e.g. a training worker)."""
    before = set(threading.enumerate())
    yield
    leftover = [t for t in threading.enumerate() if t not in before and t.is_alive()
                and not t.daemon]
    assert not leftover, f"threads left running: {leftover}"


@pytest.fixture(autouse=True)
def no_modal_prompts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Modal questions would block offscreen; tests that care replace these on the instance."""
    from PySide6.QtWidgets import QMessageBox

    from app.window.autosave import UnsavedWork
    from app.window.model_files import ModelFiles

    monkeypatch.setattr(ModelFiles, "ask_save_changes",
                        lambda self: QMessageBox.StandardButton.Discard)
    monkeypatch.setattr(UnsavedWork, "ask_restore", lambda self, recovery: False)


RUN_DATA = {"digits_small": None, "fcn8s_digits": "digit-scenes:n=48",
            "grid_detector_digits": "digit-scenes:n=48"}
"""The presets the GUI tests train, on what: classification on the bundled digits; a
segmentation and a detection model on 48 synthetic digit scenes (about a second each)."""


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """A finished one-epoch run folder of a preset in RUN_DATA, trained once per session."""
    made: dict[str, Path] = {}

    def run(preset: str) -> Path:
        if preset not in made:
            from core.data.datasets import load_dataset, load_digits_dataset
            from core.presets import load_preset
            from core.train.engine import train
            from core.train.settings import Finished, TrainingSettings

            spec = load_preset(preset)
            name = RUN_DATA[preset]
            data = load_digits_dataset() if name is None else load_dataset(
                name, tuple(spec.input_shape))
            settings = TrainingSettings(epochs=1, batch_size=32, device="cpu",
                                        snapshots=False, live_filters_every=0)
            done = list(train(spec, data, settings, tmp_path_factory.mktemp(preset)))[-1]
            assert isinstance(done, Finished), done
            made[preset] = Path(done.run_dir)
        return made[preset]

    return run


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """The call's report on the item (``rep_call``): the leak check skips a failed test."""
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "allow_ui_stalls: the UI-thread watchdog does not watch "
                                       "this test (it measures or provokes stalls itself)")
    config.addinivalue_line("markers", "ui_stall_limit(ms, why): this test's watchdog gate is "
                                       "ms (load-scaled) instead of 250: a known stall, named "
                                       "with its reason, to be fixed")


@pytest.fixture(scope="session", autouse=True)
def heavy_modules_loaded() -> None:
    """Load torch and the modules on it once, before the GUI tests, as the app's warm-up does.

    In the app a worker imports them after the first paint while the UI shows a busy cursor
    (app.warm_up); a test process loads them up front, so the watchdog below sees what the
    window does once they are loaded. The cold start has its own test in a fresh process
    (test_ui_stalls.py). They are frozen out of full collections as app.workers.import_torch
    freezes them in the app (whose collector runs on a UI-thread timer: ``collect_as_the_app``
    below), once and here: frozen during a test, that test's window would never be collected.
    The GIL switch interval is the app's (app.main)."""
    from app.main import use_short_gil_switches
    from app.warm_up import _import_all
    from app.workers import import_torch

    use_short_gil_switches()
    _import_all()
    gc.disable()  # the app's first torch import, with its collector on: what is loaded freezes
    try:
        import_torch()
    finally:
        gc.enable()
    gc.freeze()


@pytest.fixture(autouse=True)
def ui_watchdog(request: pytest.FixtureRequest, qapp: object) -> Iterator[None]:
    """Fail a GUI test whose event loop did not answer for longer than the threshold (see
    tests/app/ui_watchdog.py for how stalls are told from test code and machine load)."""
    from app.warm_up import first_import_active
    from tests.app.ui_watchdog import SUITE_THRESHOLD_MS, UiWatchdog, threshold_ms

    limit = threshold_ms()
    known = request.node.get_closest_marker("ui_stall_limit")
    if known is not None and limit > 0 and "CONVSCOPE_UI_WATCHDOG_MS" not in os.environ:
        limit *= float(known.args[0]) / SUITE_THRESHOLD_MS
    if limit <= 0 or request.node.get_closest_marker("allow_ui_stalls"):
        yield
        return
    watchdog = UiWatchdog(limit / 1e3, excused=first_import_active)
    with watchdog.patched():
        watchdog.start()
        try:
            yield
        finally:
            watchdog.stop()
    if watchdog.stalls:
        pytest.fail(f"{len(watchdog.stalls)} UI-thread stall(s) (load average "
                    f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores); the first:\n"
                    + watchdog.stalls[0], pytrace=False)


FULL_HD = (1920, 1080)
"""The screen the layout tests place the window on."""


def window_on_screen(qtbot: object, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int],
                     spec: object = None) -> object:
    """A window (``spec``'s model, else the default) on a screen of ``size``, shown at that
    size with the view settings applied, as a user's window opens there."""
    from PySide6.QtCore import QRect

    from app.main_window import MainWindow

    monkeypatch.setattr(MainWindow, "available_screen", lambda self: QRect(0, 0, *size))
    w = MainWindow(spec) if spec is not None else MainWindow()  # type: ignore[arg-type]
    qtbot.addWidget(w)  # type: ignore[attr-defined]
    w.resize(*size)
    w.show()
    w.apply_view_settings()
    return w


@pytest.fixture
def full_hd_window(qtbot: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The default window on a 1920×1080 screen, shown at that size; text size reset after."""
    from app.style import BASE_POINT_SIZE

    w = window_on_screen(qtbot, monkeypatch, FULL_HD)
    yield w
    w.classroom.stop()  # type: ignore[attr-defined]
    w.set_font_size(0, BASE_POINT_SIZE)  # type: ignore[attr-defined]


@pytest.fixture(scope="session", autouse=True)
def every_worker_ends_before_the_session(qapp: object) -> Iterator[None]:
    """At the end of the session, let every started Worker report (a preview or an estimate
    of the last window), as the application does before it exits (app.main): one still
    running into the interpreter's exit emitted from a deleted object ("Signal source has been
    deleted"). The event loop runs meanwhile; the wait is capped (app.workers.Closing)."""
    yield
    from PySide6.QtCore import QEventLoop, QThreadPool

    from app.workers import Closing

    ending = Closing(lambda: [QThreadPool.globalInstance()], every_worker=True)
    if not ending.begin():
        loop = QEventLoop()
        ending.ended.connect(loop.quit)
        loop.exec()


@pytest.fixture
def projector_window(qtbot: object) -> Iterator[object]:
    """The digits_small window shown, then View → Projector Text (24 pt); the application's
    theme back at normal text after the test."""
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from app.style import BASE_POINT_SIZE, apply_theme
    from core.presets import load_preset
    from tests.app.window_driver import menu_action

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    window = MainWindow(load_preset("digits_small"))
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    window.show()
    menu_action(window, "View → Projector Text (24 pt)").trigger()
    yield window
    apply_theme(app, False, BASE_POINT_SIZE)
