"""Importing timm's CNNs: how many of a sample convert, how many give timm's output exactly, and
the time per import.

For each sampled name from timm's convolutional families (core.io.timm_models.cnn_models, a
fixed random sample): timm builds it with seeded random weights (batch-norm statistics randomised
too), ConvScope converts it (unfuse, trace, map, check shapes and parameter count) with those
weights, and the built ConvScope model's output on a random batch is compared with timm's
(rtol and atol 1e-5). Side by side: timm building the same model (what a user waits for anyway).
Failures are grouped by their first words. Inputs are 96×96 (or the model's own size when it
requires one) to keep the sweep short.
Run: python benchmarks/bench_import_timm.py [COUNT] [--seed N]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import time
from collections import Counter

import torch

from core.build import build_model
from core.io.timm_models import build_timm, cnn_models, convert_timm, data_config
from core.model.errors import ModelError
from core.weights import apply_weights

SIZE = 96
TOLERANCE = 1e-5


def _randomise(model: torch.nn.Module) -> None:
    with torch.no_grad():
        for key, buffer in model.named_buffers():
            if key.endswith("running_mean"):
                buffer.normal_(0, 0.1)
            elif key.endswith("running_var"):
                buffer.uniform_(0.5, 1.5)


def _kind(message: str) -> str:
    """A failure's group: its message up to the first list or number."""
    message = re.sub(r"^cannot import \S+: ", "", message)
    message = re.sub(r"timm's \S+|torch\.fx cannot trace \S+", lambda m: m.group(0).split()[0]
                     + " …", message)
    return message[:110]


def one(name: str) -> tuple[str, float, float, str]:
    """(outcome, import seconds, timm build seconds, detail); outcome exact/differs/refused."""
    torch.manual_seed(0)
    start = time.perf_counter()
    try:
        model = build_timm(name)
    except ModelError as exc:
        return "refused", 0.0, 0.0, _kind(str(exc))
    built = time.perf_counter() - start
    _randomise(model)
    config = data_config(model)
    size = SIZE
    if getattr(model, "pretrained_cfg", {}).get("fixed_input_size"):
        size = int(config["input_size"][1])
    x = torch.randn(2, 3, size, size)
    try:
        with torch.no_grad():
            theirs = model(x)
    except Exception as exc:  # the model refuses this input size
        return "refused", 0.0, built, f"timm's model does not run at {size}×{size}: " \
            f"{type(exc).__name__}"
    start = time.perf_counter()
    try:
        imported = convert_timm(model, name, image_size=size, with_weights=True)
    except ModelError as exc:
        return "refused", time.perf_counter() - start, built, _kind(str(exc))
    seconds = time.perf_counter() - start
    net = build_model(imported.spec).eval()
    assert imported.weights is not None
    apply_weights(net, imported.weights)
    with torch.no_grad():
        ours = net(x)
    if ours.shape == theirs.shape and torch.allclose(ours, theirs, rtol=TOLERANCE,
                                                     atol=TOLERANCE):
        return "exact", seconds, built, ""
    diff = (ours - theirs).abs().max().item() if ours.shape == theirs.shape else float("nan")
    return "differs", seconds, built, f"max difference {diff:.2e}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", nargs="?", type=int, default=60)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    torch.set_num_threads(1)
    names = [m.name for m in cnn_models()]
    sample = sorted(random.Random(args.seed).sample(names, min(args.count, len(names))))
    outcomes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    times, builds = [], []
    for name in sample:
        outcome, seconds, built, detail = one(name)
        outcomes[outcome] += 1
        if outcome != "refused":
            times.append(seconds)
            builds.append(built)
        if detail:
            reasons[detail] += 1
        print(f"{name:40} {outcome:8} {seconds:6.2f} s  {detail}", flush=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch "
          f"{torch.__version__}, load {load:.2f}, seed {args.seed}")
    converted = outcomes["exact"] + outcomes["differs"]
    print(f"{len(sample)} sampled of {len(names)} CNN-family names: {converted} convert, "
          f"{outcomes['exact']} give timm's output (rtol/atol {TOLERANCE:g}), "
          f"{outcomes['differs']} differ, {outcomes['refused']} refused")
    if times:
        times.sort()
        print(f"import with weights (unfuse + trace + map + check): median "
              f"{times[len(times) // 2]:.2f} s, max {times[-1]:.2f} s; timm building the same "
              f"models: median {sorted(builds)[len(builds) // 2]:.2f} s")
    for reason, n in reasons.most_common(12):
        print(f"  {n:3} × {reason}")


if __name__ == "__main__":
    main()
