"""The Inspect tab's Text view on text_cnn: what one request costs on the worker.

Each request reads the text, draws a filter's strip along the words (one forward pass), the
saliency per word (captum's LayerGradientXActivation: one forward and backward) and the top-k,
and lists the filter's top n-grams over the validation split. The n-grams need a pass over every
validation text the first time a layer is asked; after that (another filter, another text) they
are read from the per-layer peaks, so only the first request is slow. Prints wall and CPU
seconds and the machine's load: on a shared machine CPU seconds / threads estimates an idle one.
Run: python benchmarks/bench_text_inspect.py [RUN_FOLDER]   (default: random weights, phrases)
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch

from core.inspect import text as inspect_text
from core.inspect.inspector import Inspector
from core.presets import load_preset


def timed(label: str, work: object, rows: list[tuple[str, float, float]]) -> object:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()  # type: ignore[operator]
    rows.append((label, time.perf_counter() - wall, time.process_time() - cpu))
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run", nargs="?", help="a text_cnn run folder (default: random weights)")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f}, torch threads "
          f"{torch.get_num_threads()}")
    if args.run:
        inspector = Inspector.from_paths(Path(args.run) / "model.json", Path(args.run))
    else:
        inspector = Inspector(load_preset("text_cnn"))
    run = Path(args.run) if args.run else None
    rows: list[tuple[str, float, float]] = []
    source = timed("vocabulary and validation split", lambda: inspect_text.text_source(
        inspector, run), rows)
    assert isinstance(source, inspect_text.TextSource)
    text = inspect_text.read_text(source.vocabulary, inspect_text.EXAMPLE)

    def request(channel: int | None) -> None:
        strip = inspect_text.word_strip(inspector, text, "conv1", channel)
        inspect_text.word_saliency(inspector, text)
        inspect_text.text_top_k(inspector, text)
        chosen = strip.strongest if channel is None else channel
        inspect_text.top_ngrams(inspector, source, "conv1", chosen)

    timed(f"first request (n-grams over {len(source.data.val)} texts)", lambda: request(None),
          rows)
    timed("next request (another filter)", lambda: request(7), rows)
    timed("next request (another filter)", lambda: request(11), rows)
    first = rows[1][1]
    print(f"{'step':<48} {'wall s':>8} {'CPU s':>8} {'vs first':>9}")
    for label, wall, cpu in rows:
        print(f"{label:<48} {wall:8.3f} {cpu:8.3f} {wall / first:9.2f}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
