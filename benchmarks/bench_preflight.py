"""The pre-flight memory estimate against the peak of real ``convscope train`` processes.

For each case: one fresh ``convscope train --epochs 1`` process (benchmarks/train_peak.py), its
own pre-flight estimate (what it said before training) against its measured peak resident size
above its size before torch, torchvision, scikit-learn and the data were imported. The estimate
counts what the process holds once those are loaded (``held``, measured by the process) and the
run's own allocations (weights, gradients, optimizer state, saved activations, batch, working
space, the dataset copy). Target (issue 24): within ±25 % for small and large models alike.
The data are small image folders made here (the measured peak does not depend on the number of
images beyond the dataset term), or the bundled digits / digit scenes.
Run: python benchmarks/bench_preflight.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CASES = [  # preset, dataset (a folder made here: "ten:SIZE" / "two:SIZE", or a name), batch
    ("digits_small", "digits", 64), ("keras_mnist", "ten:28", 64),
    ("cifar10_convnet", "ten:32", 64), ("lenet5", "ten:32", 64),
    ("convnet_150", "two:150", 16), ("fcn_small", "digit-scenes:n=48", 16),
    ("unet_small", "digit-scenes:n=48", 8), ("resnet18", "ten:224", 8),
    ("alexnet", "ten:224", 4), ("vgg16", "ten:224", 2),
]
"""The ImageNet models' last layer and the segmentation models' class maps are set to the
data's classes first (a copy of the preset: fc → 10 classes, 11 for the digit scenes)."""


def retargeted(root: Path, preset: str, classes: int) -> str:
    """The preset, or a copy whose output layer gives ``classes`` scores."""
    from core.model.editing import set_param
    from core.model.spec import save_model
    from core.presets import load_preset

    spec = load_preset(preset)
    last = next(layer for layer in reversed(spec.layers)
                if "out_features" in layer.params or "out_channels" in layer.params)
    key = "out_features" if "out_features" in last.params else "out_channels"
    if last.params[key] in (classes, 1):
        return preset
    path = root / f"{preset}-{classes}.json"
    save_model(set_param(spec, last.name, key, classes), path)
    return str(path)


def folder(root: Path, spec: str) -> str:
    """An image folder for ``ten:SIZE`` / ``two:SIZE`` (made once), else the dataset's name."""
    if ":" not in spec or spec.split(":")[0] not in ("ten", "two"):
        return spec
    import numpy as np
    from PIL import Image

    kind, size = spec.split(":")
    path = root / spec.replace(":", "-")
    if not path.exists():
        rng = np.random.default_rng(0)
        classes, per_class = (10, 8) if kind == "ten" else (2, 16)
        for c in range(classes):
            (path / f"class{c}").mkdir(parents=True)
            for i in range(per_class):
                pixels = rng.integers(0, 255, (int(size), int(size), 3), dtype=np.uint8)
                Image.fromarray(pixels).save(path / f"class{c}" / f"{i}.png")
    return str(path)


def main() -> None:
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"{'preset':16} {'batch':>5} {'measured':>10} {'estimate':>10} {'held':>9} "
          f"{'run':>9} {'ratio':>6}")
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for preset, data, batch in CASES:
            classes = 11 if data.startswith("digit-scenes") else 2 if data.startswith("two") \
                else 10
            args = [retargeted(root, preset, classes), "--dataset", folder(root, data),
                    "--epochs", "1", "--device", "cpu", "--batch-size", str(batch),
                    "--out", str(root / "runs")]
            out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "train_peak.py"),
                                  *args], cwd=root, capture_output=True, text=True)
            if out.returncode != 0:
                print(f"{preset:16} {batch:5} failed: {out.stderr.strip().splitlines()[-1:]}")
                continue
            result = json.loads(out.stdout.splitlines()[-1])
            memory, peak = result["memory"], result["peak"]
            ratio = peak / memory["total"]
            ratios.append(ratio)
            print(f"{preset:16} {batch:5} {peak / 1e6:7.0f} MB {memory['total'] / 1e6:7.0f} MB "
                  f"{memory['held'] / 1e6:6.0f} MB {memory['to_allocate'] / 1e6:6.0f} MB "
                  f"{ratio:6.2f}", flush=True)
    print(f"ratio measured/estimate: {min(ratios):.2f} to {max(ratios):.2f} (target 0.75–1.25)")


if __name__ == "__main__":
    main()
