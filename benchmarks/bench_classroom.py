"""The step-through's speed: one position's arithmetic vs the layer's own forward, and a slide.

Stepping must keep up with the arrow keys and with play at 20 positions per second (50 ms per
position) on real layers. Each figure is printed beside its reference in the same run: the
layer's own torch forward (what a naive step-through would rerun per position), and the
session's one-off build (model built, one forward pass capturing every layer's input).
Run: python benchmarks/bench_classroom.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _median_ms(work: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    import torch

    from core.classroom.lessons import find_lesson
    from core.classroom.session import StepSession
    from core.classroom.slides import write_lesson_slides
    from core.inspect.inspector import Inspector
    from core.presets import find_preset

    torch.set_num_threads(1)
    print("| model · layer (input) | session build | step (one position) | the layer's forward |")
    print("|---|--:|--:|--:|")
    for preset, layers in (("vgg16", ("conv1_1", "conv3_1", "conv5_3", "pool5")),
                           ("resnet18", ("conv1", "layer3_0_conv1", "maxpool"))):
        start = time.perf_counter()
        session = StepSession(Inspector.from_paths(find_preset(preset).path, None))
        build = time.perf_counter() - start
        for layer in layers:
            if layer not in session.layers():
                continue
            module, x = session.module(layer), session.layer_input(layer)
            out = session.output(layer)
            middle = tuple(n // 2 for n in out.shape)
            step_ms = _median_ms(lambda: session.step(layer, middle), 20)  # noqa: B023
            with torch.no_grad():
                forward_ms = _median_ms(lambda: module(x[None]), 5)  # noqa: B023
            shape = "×".join(map(str, x.shape))
            built = f"{build:.2f} s" if build == build else ""
            print(f"| {preset} · {layer} ({shape}) | {built} | {step_ms:.2f} ms | "
                  f"{forward_ms:.1f} ms |")
            build = float("nan")
    lesson = find_lesson("rgb_minus_25")
    folder = Path(tempfile.mkdtemp())
    start = time.perf_counter()
    paths = write_lesson_slides(lesson, folder)
    per_slide = (time.perf_counter() - start) / len(paths)
    print(f"\nslides: {len(paths)} slides of 1920×1080 for {lesson.key}, "
          f"{per_slide * 1000:.0f} ms per slide")


if __name__ == "__main__":
    main()
