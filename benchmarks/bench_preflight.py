"""The pre-flight memory estimate against the measured peak of real training steps.

For every preset that fits this machine, at a small batch: build the model, run Adam training
steps on random data and measure the peak memory they add (Linux peak RSS, reset before; CUDA:
max_memory_allocated), against core.train.preflight.training_memory's prediction for the same
(without the weights and the input batch, which exist before the steps). Target: within ±25%.
Each preset runs in a fresh process (the allocator's state would blur the next one).
Run: python benchmarks/bench_preflight.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = {"digits_small": 2048, "keras_mnist": 256, "keras_mnist_fcn": 256,
         "random_features": 512, "lenet5": 512, "fcn_small": 64, "unet_small": 32,
         "convnet_150": 8, "resnet18": 8, "resnet34": 4, "alexnet": 4, "vgg16": 1}
SCRIPT = """
import json, sys, torch
from core.presets import load_preset
from core.train.preflight import measure_step, training_memory
torch.set_num_threads(1)
key, batch = sys.argv[1], int(sys.argv[2])
spec = load_preset(key)
est = training_memory(spec, batch)
step = measure_step(spec, batch, repeats=1)
print(json.dumps([step.peak_bytes, est.total - est.weights - step.input_bytes, est.total,
                  step.seconds]))
"""


def main() -> None:
    print(f"{'preset':16} {'batch':>5} {'measured':>10} {'estimate':>10} {'ratio':>6} "
          f"{'whole run est.':>14} {'step s':>7}")
    ratios = []
    for key, batch in CASES.items():
        out = subprocess.run([sys.executable, "-c", SCRIPT, key, str(batch)], cwd=ROOT,
                             capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
        measured, estimated, total, seconds = json.loads(out.stdout)
        ratio = measured / estimated
        ratios.append(ratio)
        print(f"{key:16} {batch:5} {measured / 1e6:8.1f} MB {estimated / 1e6:8.1f} MB "
              f"{ratio:6.2f} {total / 1e6:11.1f} MB {seconds:7.2f}", flush=True)
    print(f"ratio measured/estimate: {min(ratios):.2f} to {max(ratios):.2f} (target 0.75–1.25)")


if __name__ == "__main__":
    main()
