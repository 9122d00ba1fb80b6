"""The one worker mechanism: a plain callable or generator run off the UI thread.

Modelled on superqt's ``create_worker`` / ``thread_worker`` (the thread engine under napari),
which is not a dependency of ConvScope: the few dozen lines below give the same contract on
Qt's own QThreadPool, so the app needs no extra package and every job runs on a pool we own.
Closing the window never waits for one: :class:`Closing` asks every job to stop and reports on
the UI thread's timer once all have ended (the window hides meanwhile).

- A :class:`Worker` wraps ``function(*args, task=Task)`` or a generator function. It emits
  ``started``, ``yielded(value)`` for each value a generator yields, ``progress(done, total)``,
  then exactly one of ``returned(value)``, ``errored(exception)`` or ``aborted()``, and always
  ``finished()`` last. Every public signal is emitted on the UI thread, so any slot (a lambda
  too) may touch widgets.
- Cancel is cooperative (as superqt's ``quit()``): :meth:`Worker.quit` sets a flag that the job
  sees at its next ``task.progress`` / ``task.check`` or generator step; a result that arrives
  after ``quit()`` is dropped, never shown.
- :class:`WorkerQueue` runs jobs one after another on one thread (inspection jobs share one
  torch model, and hooks on it must not interleave) and keeps *the latest request per key*: a
  new request under a key aborts the older one, queued or running.

Training uses the same Worker through :class:`TrainingJob`.
"""

from __future__ import annotations

import gc
import inspect
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QMetaMethod,
    QObject,
    QRunnable,
    QThread,
    QThreadPool,
    QTimer,
    Signal,
    Slot,
)

from core.model.spec import ModelSpec

if TYPE_CHECKING:  # imported by the Train tab (built after the window's first paint): the
    # window imports this module before its first paint, and core.train's dataclasses take 20 ms
    from core.train.fine_tune import Unfreeze
    from core.train.settings import TrainingControl, TrainingSettings

TRAINING_NICENESS = 5
PROGRESS_INTERVAL_S = 0.04
"""At most ~25 progress updates a second reach the UI, however fast a job reports."""


SHARED_THREADS = 8
"""Threads of the pool that one-off jobs share (the warm-up, imports, checks, previews,
estimates). Qt's default is one per core: on a 2-core machine a warm-up and one import then
held the whole pool, and a short job (the Import dialog's check of one timm model) queued
behind them with no end in sight. The jobs run at a lowered priority and mostly wait on
imports and files, so a few more threads than cores cost nothing."""


def shared_pool() -> QThreadPool:
    """The pool one-off jobs share: Qt's global pool, with at least SHARED_THREADS threads."""
    pool = QThreadPool.globalInstance()
    wanted = max(SHARED_THREADS, 2 * QThread.idealThreadCount())
    if pool.maxThreadCount() < wanted:
        pool.setMaxThreadCount(wanted)
    return pool


class Aborted(Exception):
    """Raised inside a job by ``task.check()`` once the worker was asked to quit."""


def _lower_priority() -> None:
    """Run heavy work (and the torch threads it starts) a little below the window's priority.

    On a 2-core machine torch's threads take every core; the window then paints late. A
    niceness of 5 on this thread, inherited by the threads it creates, lets the window's short
    bursts of work go first while the job still gets all the CPU the window leaves (Linux and
    macOS; elsewhere this does nothing).
    """
    import os
    import threading

    if hasattr(os, "setpriority"):
        try:
            tid = threading.get_native_id() if os.uname().sysname == "Linux" else 0
            os.setpriority(os.PRIO_PROCESS, tid, TRAINING_NICENESS)
        except OSError:
            pass


class Task:
    """What a running job sees: report progress, check for cancel. Thread-safe by design: the
    job only reads a flag the UI thread sets and emits a queued signal."""

    def __init__(self, worker: Worker) -> None:
        self._worker = worker
        self._last = 0.0

    @property
    def aborted(self) -> bool:
        return self._worker.abort_requested

    def check(self) -> None:
        if self._worker.abort_requested:
            raise Aborted

    def progress(self, done: int, total: int) -> bool:
        """Report ``done`` of ``total``; raise Aborted if cancelled. Returns True (so it can be
        passed to core functions whose progress callback returns False to stop)."""
        self.check()
        now = time.monotonic()
        if now - self._last >= PROGRESS_INTERVAL_S or done >= total:
            self._last = now
            self._worker._raw.emit("progress", (int(done), int(total)))
        return True


_TORCH_IMPORT = threading.Lock()


def import_torch() -> None:
    """Import torch and torchvision under one process-wide lock, before a thread uses them.

    The window starts without torch, so the first jobs (the Train tab's estimate, an
    inspection, a lesson) may import it at the same moment on different threads; torchvision's
    package imports are circular, and two threads importing it at once can each be handed the
    other's half-initialised module ("cannot import name 'InterpolationMode' from partially
    initialized module"). Once imported this is a lock and two dictionary lookups.
    """
    global _frozen
    with _TORCH_IMPORT:
        import torch  # noqa: F401
        import torchvision  # noqa: F401

        if not _frozen and not gc.isenabled():
            # The app collects garbage on a UI-thread timer (app.main); a full collection there
            # scans every object, ~290 ms once torch, torchvision and captum are loaded. Their
            # ~400k objects live as long as the process: freezing them (gc.freeze) keeps full
            # collections to what the app itself allocated since.
            _frozen = True
            gc.freeze()


_frozen = False


_started: set[Worker] = set()
"""Every started worker until its last signal was delivered on the UI thread. A worker its
owner dropped (a replaced preview, a cancelled dialog job) was otherwise freed on the pool
thread with its signals still queued to the UI thread, which then crashed delivering them."""


class _Runnable(QRunnable):
    def __init__(self, worker: Worker) -> None:
        super().__init__()
        self.worker: Worker | None = worker
        self.setAutoDelete(True)

    def run(self) -> None:
        # The pool deletes the C++ runnable after the run, but its Python wrapper can outlive
        # it (seen in the GUI tests: one per aborted Inspect job, held by shiboken, invisible to
        # the collector); holding the worker, it kept every slot connected to it alive, and
        # through them the views and their pyqtgraph menus of windows long closed.
        worker, self.worker = self.worker, None
        if worker is None:
            return
        if worker.needs_torch:
            import_torch()
        try:
            worker._work()
        except RuntimeError as exc:
            if "has been deleted" not in str(exc):
                raise
            # the application ended while this job ran: its Worker went with the window, and
            # there is no one left to tell (it printed a traceback at every such exit)


class Worker(QObject):
    """One job. Create on the UI thread, connect, then ``start()`` or give it to a queue."""

    started = Signal()
    yielded = Signal(object)
    progress = Signal(int, int)
    returned = Signal(object)
    errored = Signal(object)
    aborted = Signal()
    finished = Signal()
    _raw = Signal(str, object)  # emitted on the worker thread, delivered on the UI thread

    def __init__(self, function: Callable[..., Any], *args: Any, nice: bool = True,
                 needs_torch: bool = True, **kwargs: Any) -> None:
        super().__init__()
        self.function, self.args, self.kwargs = function, args, kwargs
        self.nice = nice
        self.needs_torch = needs_torch
        """torch and torchvision are imported before the job runs (:func:`import_torch`);
        False for a job that needs neither (the window's later pages: app.window.later_pages)."""
        self.abort_requested = False
        self.is_running = False
        self.is_done = False
        self.key: str = ""
        self.tag: object = None
        """What the job belongs to, for :meth:`WorkerQueue.cancel_except` (the Inspect tab:
        the model generation it was asked for)."""
        self.stop_for_exit: Callable[[], None] = self.quit
        """How closing the window asks this job to stop (a training run: its Stop)."""
        self._raw.connect(self._deliver)

    def quit(self) -> None:
        """Ask the job to stop; whatever it still returns is dropped."""
        self.abort_requested = True

    def start(self, pool: QThreadPool | None = None) -> None:
        _started.add(self)  # alive until finished reaches the UI thread (see _started)
        (pool or shared_pool()).start(_Runnable(self))

    # -- on the worker thread ------------------------------------------------------------------
    def _work(self) -> None:
        if self.abort_requested:
            self._raw.emit("aborted", None)
            return
        self._raw.emit("started", None)
        if self.nice:
            _lower_priority()
        task = Task(self)
        try:
            kwargs = dict(self.kwargs)
            if "task" in inspect.signature(self.function).parameters:
                kwargs["task"] = task
            result = self.function(*self.args, **kwargs)
            if isinstance(result, Iterator) and inspect.isgenerator(result):
                result = self._drain(result)
        except Aborted:
            self._raw.emit("aborted", None)
            return
        except Exception as exc:  # every failure reaches the UI as a signal, never a crash
            self._raw.emit("errored", exc)
            return
        self._raw.emit("aborted" if self.abort_requested else "returned", result)

    def _drain(self, generator: Iterator[Any]) -> Any:
        while True:
            if self.abort_requested:
                generator.close()  # type: ignore[attr-defined]
                raise Aborted
            try:
                value = next(generator)
            except StopIteration as stop:
                return stop.value
            self._raw.emit("yielded", value)

    # -- on the UI thread --------------------------------------------------------------------
    @Slot(str, object)
    def _deliver(self, kind: str, payload: Any) -> None:
        if kind == "started":
            self.is_running = True
            self.started.emit()
            return
        if kind in ("yielded", "progress") and self.abort_requested:
            return  # stale: the user no longer waits for this job
        if kind == "yielded":
            self.yielded.emit(payload)
        elif kind == "progress":
            self.progress.emit(*payload)
        else:
            self.is_running = False
            self.is_done = True
            if kind == "returned" and not self.abort_requested:
                self.returned.emit(payload)
            elif kind == "errored" and not self.abort_requested:
                self.errored.emit(payload)
            else:
                self.aborted.emit()
            self.finished.emit()
            self._let_go_of_slots()
            _started.discard(self)

    def _let_go_of_slots(self) -> None:
        """Disconnect every slot once the last signal went out. A slot holding whoever holds
        this worker (``self._worker = worker`` beside ``worker.returned.connect(lambda r:
        self.show(r))``) is a cycle through Qt's connection that Python's collector cannot see:
        the worker, the owner, its view and the pyqtgraph menus it reaches lived for ever (in
        the GUI tests, hundreds of closed windows' menus that each font change re-polished)."""
        meta = self.metaObject()
        for index in range(meta.methodOffset(), meta.methodCount()):
            method = meta.method(index)
            name = bytes(method.name().data()).decode()
            if method.methodType() == QMetaMethod.MethodType.Signal and name != "_raw" and \
                    self.isSignalConnected(method):
                getattr(self, name).disconnect()


class WorkerQueue(QObject):
    """Jobs run one at a time on a thread of their own; the latest request per key wins."""

    def __init__(self, parent: QObject | None = None, nice: bool = True) -> None:
        super().__init__(parent)
        self.nice = nice
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._latest: dict[str, Worker] = {}
        self._alive: set[Worker] = set()

    def submit(self, key: str, function: Callable[..., Any], *args: Any,
               **kwargs: Any) -> Worker:
        """Queue ``function``; an older job under ``key`` is aborted and its result dropped.
        Connect to the returned worker's signals before control returns to the event loop."""
        self.cancel(key)
        worker = Worker(function, *args, nice=self.nice, **kwargs)
        worker.key = key
        self._latest[key] = worker
        self._alive.add(worker)
        # by weak reference: a slot on the worker's own signal that held the worker would be a
        # cycle through Qt's connection, which Python's collector cannot see, and every
        # worker (with every view and plot its other slots reach) would live for ever
        alive = weakref.ref(worker)
        worker.finished.connect(lambda: self._done(alive()))
        worker.start(self.pool)
        return worker

    def _done(self, worker: Worker | None) -> None:
        if worker is None:
            return
        self._alive.discard(worker)
        if self._latest.get(worker.key) is worker:
            del self._latest[worker.key]

    def current(self, key: str) -> Worker | None:
        return self._latest.get(key)

    def busy(self, key: str | None = None) -> bool:
        if key is None:
            return bool(self._latest)
        return key in self._latest

    def cancel(self, key: str | None = None) -> None:
        """Abort the job under ``key`` (every job when None)."""
        keys = list(self._latest) if key is None else [key]
        for k in keys:
            worker = self._latest.pop(k, None)
            if worker is not None:
                worker.quit()

    def cancel_except(self, tag: object) -> None:
        """Abort every job not tagged ``tag`` (those of an older model); the others run on."""
        for k, worker in list(self._latest.items()):
            if worker.tag != tag:
                del self._latest[k]
                worker.quit()

    def stop(self) -> None:
        """Abort everything, queued or running, without waiting: each job ends at its next
        check and reports ``aborted`` then ``finished`` on the UI thread."""
        for worker in list(self._alive):
            worker.quit()
        self._latest.clear()

    def shutdown(self, wait_ms: int = 10_000) -> bool:
        """Abort everything and wait for the running job to notice. For tests and scripts
        only: the window never waits (it uses :meth:`stop` and :class:`Closing`)."""
        self.stop()
        return self.pool.waitForDone(wait_ms)


# -- training ---------------------------------------------------------------------------------
def _training_events(spec: ModelSpec, dataset: str, settings: TrainingSettings, out_dir: Path,
                     control: TrainingControl, init_weights: Path | None,
                     resume: Path | None = None, unfreeze: Unfreeze | None = None
                     ) -> Iterator[object]:
    """Load the data, then every engine event; BatchProgress thinned to what a person sees."""
    from core.train.memory import tune_malloc
    from core.train.settings import BatchProgress, Failed

    tune_malloc()
    try:
        from core.data.datasets import DataError, embedding_rows, load_dataset, load_vocabulary
        from core.train.engine import train

        try:  # texts: ids stay below the Embedding's rows; a resumed run keeps its own words
            data = load_dataset(dataset, spec.input_shape, vocabulary_size=embedding_rows(spec),
                                vocabulary=load_vocabulary(resume) if resume else None)
        except DataError as exc:
            yield Failed(str(exc))
            return
        if control.stop_requested:
            return
        last = 0.0
        for event in train(spec, data, settings, out_dir, control, init_weights, resume,
                           unfreeze):
            if isinstance(event, BatchProgress) and event.batch != event.batches:
                now = time.monotonic()
                if now - last < PROGRESS_INTERVAL_S:
                    continue  # small, throttled updates: the UI needs ~25 a second at most
                last = now
            yield event
    except Exception as exc:  # never let a worker die silently: tell the user
        yield Failed(f"training stopped unexpectedly: {type(exc).__name__}: {exc}")


class TrainingJob(QObject):
    """One run on a Worker of its own thread, and the control to pause, resume or stop it."""

    training_event = Signal(object)
    """Each engine event (not ``event``: that name is QObject.event(), which Qt calls)."""
    finished = Signal()

    def __init__(self, spec: ModelSpec, dataset: str, settings: TrainingSettings, out_dir: Path,
                 init_weights: Path | None = None, parent: QObject | None = None,
                 resume: Path | None = None, unfreeze: Unfreeze | None = None) -> None:
        from core.train.settings import TrainingControl

        super().__init__(parent)
        self.control = TrainingControl()
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.worker = Worker(_training_events, spec, dataset, settings, out_dir, self.control,
                             init_weights, resume, unfreeze)
        self.worker.yielded.connect(self.training_event)
        self.worker.finished.connect(self._finished)
        # closing the window stops the run as Stop does (the engine saves a checkpoint and
        # ends the run folder's generation); quitting the generator would cut it mid-write
        self.worker.stop_for_exit = self.control.stop
        self._running = False

    def start(self) -> None:
        self._running = True
        self.worker.start(self.pool)

    def _finished(self) -> None:
        self._running = False
        self.finished.emit()

    @property
    def running(self) -> bool:
        """True from start until the training thread has ended (also before the UI heard)."""
        return self._running and self.pool.activeThreadCount() > 0

    def stop(self) -> None:
        """Ask the run to stop (the engine saves a checkpoint); ``finished`` says when it has."""
        self.control.stop()


# -- closing ----------------------------------------------------------------------------------
def running_workers() -> int:
    """Workers started whose last signal has not reached the UI thread yet."""
    return len(_started)


def stop_every_worker() -> None:
    """Ask every started worker to stop, each its own way (a run: Stop; a job: quit)."""
    for worker in list(_started):
        worker.stop_for_exit()


class Closing(QObject):
    """The window's exit without a wait on the UI thread.

    :meth:`begin` asks every worker to stop (and keeps asking those started since: a run's
    last events may start one), then checks on a UI-thread timer until every pool given has
    no active thread and, with ``every_worker``, every started Worker has reported;
    ``ended(True)`` then. After ``cap_s`` it gives up on a job that does not end:
    ``ended(False)`` (the caller exits the process anyway). Never blocks: each check is a
    count. The window waits for its own pools (its run, its queues: what writes its files);
    the application, before it exits, for every worker (no thread may run into the
    interpreter's exit).
    """

    ended = Signal(bool)

    def __init__(self, pools: Callable[[], list[QThreadPool]], every_worker: bool = True,
                 cap_s: float = 60.0, interval_ms: int = 20,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pools = pools
        self.every_worker = every_worker
        self.cap_s = cap_s
        self.active = False
        self.clean: bool | None = None
        """None until ended; then whether every job ended before the cap."""
        self._since = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._check)

    def idle(self) -> bool:
        """No active thread in the pools given (and, with ``every_worker``, no started worker)."""
        if self.every_worker and _started:
            return False
        return all(pool.activeThreadCount() == 0 for pool in self.pools())

    def begin(self) -> bool:
        """Ask everything to stop and start checking (a second call while checking does
        nothing). True when nothing runs at all: then it has ended already (``clean`` is True)
        and ``ended`` is not emitted."""
        if self.active:
            return False
        self.clean = None
        stop_every_worker()
        if self.idle():
            self.clean = True
            return True
        self.active = True
        self._since = time.monotonic()
        self._timer.start()
        return False

    def _check(self) -> None:
        stop_every_worker()  # one started since (a run's last epoch loading its weights)
        if self.idle():
            self._end(True)
        elif time.monotonic() - self._since > self.cap_s:
            self._end(False)

    def _end(self, clean: bool) -> None:
        self._timer.stop()
        self.active = False
        self.clean = clean
        self.ended.emit(clean)
