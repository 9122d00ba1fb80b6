"""How responsive the window stays while training runs at full speed on the worker thread.

A 5 ms QTimer on the GUI thread records when it actually fires; the lateness of each tick is an
event-loop stall. During the run the script also switches tabs, resizes the window and pans the
curves, as a user would. Same run, for reference: the engine's samples/s without any GUI.
Targets (training issue): stalls p99 under 20 ms, none over 100 ms.
Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui_training.py
"""

from __future__ import annotations

import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from core.train.memory import tune_malloc

tune_malloc()

ROOT = Path(__file__).resolve().parent.parent
TICK_MS = 5
MODEL, EPOCHS, BATCH = "keras_mnist", 6, 64


def headless_rate() -> float:
    from core.data.datasets import load_digits_dataset
    from core.presets import load_preset
    from core.train.engine import train
    from core.train.settings import EpochEnd, TrainingSettings

    settings = TrainingSettings(epochs=EPOCHS, batch_size=BATCH, schedule="none")
    with tempfile.TemporaryDirectory() as out:
        rates = [e.samples_per_s for e in train(load_preset(MODEL), load_digits_dataset(),
                                                settings, Path(out)) if isinstance(e, EpochEnd)]
    return statistics.median(rates[1:])


def gui_run(user_actions: bool) -> tuple[list[float], float]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["CONVSCOPE_HOME"] = tempfile.mkdtemp()
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from core.presets import load_preset
    from core.train.settings import EpochEnd

    app = QApplication.instance() or QApplication([])
    window = MainWindow(load_preset(MODEL))
    window.resize(1400, 900)
    window.show()
    panel = window.training
    window.tabs.setCurrentWidget(panel)
    panel.form.epochs.setValue(EPOCHS)
    panel.form.batch.setValue(BATCH)
    panel.form.schedule.setCurrentText("none")
    for _ in range(10):
        app.processEvents()
    ticks: list[float] = []
    rates: list[float] = []
    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    step = [0]

    def act_like_a_user() -> None:
        step[0] += 1
        if step[0] % 3 == 0:
            window.tabs.setCurrentIndex(step[0] % 2)
        window.resize(1400 - (step[0] % 5) * 20, 900)
        panel.curves.loss_plot.getViewBox().translateBy(x=0.01)

    user = QTimer()
    user.setInterval(250)
    user.timeout.connect(act_like_a_user)
    panel.start()
    panel.job.training_event.connect(  # type: ignore[union-attr]
        lambda e: rates.append(e.samples_per_s) if isinstance(e, EpochEnd) else None)
    timer.start()
    if user_actions:
        user.start()
    loop = QEventLoop()  # the real event loop, idle between events (as app.exec() is)
    panel.run_finished.connect(loop.quit)
    loop.exec()
    timer.stop()
    user.stop()
    window.close()
    lateness = [max(0.0, (b - a) * 1000 - TICK_MS) for a, b in itertools.pairwise(ticks)]
    return lateness, statistics.median(rates[1:])


def main() -> None:
    sys.path.insert(0, str(ROOT))
    alone = headless_rate()
    print(f"{MODEL} on digits, batch {BATCH}, {EPOCHS} epochs, {os.cpu_count()} CPUs; "
          f"headless engine {alone:,.0f} samples/s")
    for user_actions in (False, True):
        stalls, rate = gui_run(user_actions)
        stalls.sort()
        p = lambda q, s=stalls: s[min(len(s) - 1, int(q * len(s)))]  # noqa: E731
        what = ("with resizes, tab switches and panning every 250 ms" if user_actions
                else "Train tab shown, no user input")
        print(f"{what}: stalls over {len(stalls)} ticks of {TICK_MS} ms: p50 {p(0.5):.1f} ms, "
              f"p99 {p(0.99):.1f} ms, max {stalls[-1]:.1f} ms, over 100 ms: "
              f"{sum(s > 100 for s in stalls)}; training {rate:,.0f} samples/s "
              f"({rate / alone:.2f} of headless)")


if __name__ == "__main__":
    main()
