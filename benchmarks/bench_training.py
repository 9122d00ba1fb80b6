"""Training throughput: ConvScope's engine against a plain hand-written PyTorch loop.

Same model, same data (digits, adapted to the model's input), same batch size, same optimizer,
in one run. Target (training issue): engine samples/s at least 0.95 × the plain loop's.
Run: python benchmarks/bench_training.py [--device cpu|cuda] [--amp]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

from core.train.memory import tune_malloc

tune_malloc()  # before torch allocates: both loops get the same allocator settings

import torch  # noqa: E402
from torch import nn  # noqa: E402

from core.build import build_model  # noqa: E402
from core.data.adapt import BatchPreparer  # noqa: E402
from core.data.datasets import load_digits_dataset  # noqa: E402
from core.presets import load_preset  # noqa: E402
from core.train.engine import train  # noqa: E402
from core.train.settings import EpochEnd, TrainingSettings  # noqa: E402

EPOCHS = 6


def plain_loop(key: str, batch: int, device: torch.device, amp: bool) -> list[float]:
    """What a user would write by hand: tensors in memory, shuffle, forward, backward, step."""
    spec = load_preset(key)
    data = load_digits_dataset()
    prepare = BatchPreparer(data, spec.input_shape)
    x_all = prepare(data.train.images).to(device)
    y_all = data.train.labels.to(device)
    torch.manual_seed(0)
    model = build_model(spec).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    rates = []
    for _ in range(EPOCHS):
        model.train()
        order = torch.randperm(len(y_all), device=device)
        start = time.perf_counter()
        total = 0.0
        for i in range(0, len(y_all), batch):
            idx = order[i:i + batch]
            with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
                loss = loss_fn(model(x_all[idx]), y_all[idx])
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            total += loss.item()
        if device.type == "cuda":
            torch.cuda.synchronize()
        rates.append(len(y_all) / (time.perf_counter() - start))
    return rates


def engine(key: str, batch: int, device: torch.device, amp: bool,
           snapshots: bool = True, live_every: float = 2.0) -> list[float]:
    spec = load_preset(key)
    settings = TrainingSettings(epochs=EPOCHS, batch_size=batch, device=device.type,
                                schedule="none", mixed_precision=amp, snapshots=snapshots,
                                live_filters_every=live_every)
    with tempfile.TemporaryDirectory() as out:
        return [e.samples_per_s for e in train(spec, load_digits_dataset(), settings, Path(out))
                if isinstance(e, EpochEnd)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--amp", action="store_true")
    args = parser.parse_args()
    device = torch.device(args.device)
    print(f"machine: {platform.machine()} {platform.processor() or ''}, torch {torch.__version__},"
          f" {torch.get_num_threads()} threads, device {device}"
          + (f" ({torch.cuda.get_device_name()})" if device.type == "cuda" else "")
          + (", mixed precision" if args.amp else ""))
    print(f"{'model':14} {'batch':>5} {'plain loop':>12} {'engine':>12} {'ratio':>6}")
    for key, batch in (("digits_small", 64), ("keras_mnist", 64), ("lenet5", 128)):
        # alternate the two, twice, and keep each one's best median (less noise on a shared VM)
        plain, eng = [], []
        for _ in range(2):
            plain.append(statistics.median(plain_loop(key, batch, device, args.amp)[1:]))
            eng.append(statistics.median(engine(key, batch, device, args.amp)[1:]))
        p, e = max(plain), max(eng)
        print(f"{key:14} {batch:5} {p:10,.0f}/s {e:10,.0f}/s {e / p:6.3f}")
    print("\nlive filter updates (snapshot every 0.1 s, 20× the GUI's rate) vs none:")
    for key, batch in (("digits_small", 64), ("keras_mnist", 64)):
        off, on = [], []
        for _ in range(2):
            off.append(statistics.median(engine(key, batch, device, args.amp, False, 0)[1:]))
            on.append(statistics.median(engine(key, batch, device, args.amp, True, 0.1)[1:]))
        print(f"{key:14} without {max(off):,.0f}/s, with {max(on):,.0f}/s, cost "
              f"{(1 - max(on) / max(off)) * 100:.1f}%")


if __name__ == "__main__":
    main()
