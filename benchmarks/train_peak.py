"""One real ``convscope train`` process: its pre-flight estimate and its measured peak.

    python benchmarks/train_peak.py PRESET-OR-MODEL [train options...]

Prints one JSON line: the estimate the command made before training (``memory``: every term,
``total`` included) and the process's peak resident size above its baseline, read before the
training stack (torch, torchvision, scikit-learn, the dataset) was imported. Used by
bench_preflight.py and by tests/core/test_preflight.py (the ±25 % check).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {key} in /proc/self/status")


def main() -> int:
    base = _status("VmRSS")  # before core, torch or any dataset
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import core.train.preflight as pf
    from core.cli import main as convscope

    seen: list[Any] = []
    real = pf.preflight

    def recorded(*args: Any, **kwargs: Any) -> Any:
        verdict = real(*args, **kwargs)
        seen.append(verdict)
        return verdict

    pf.preflight = recorded  # type: ignore[assignment]  # the CLI imports it when it runs
    code = convscope(["train", *sys.argv[1:]])
    if code != 0 or not seen:
        print(json.dumps({"code": code}))
        return 1
    print(json.dumps({"code": code, "base": base, "peak": _status("VmHWM") - base,
                      "memory": seen[0].memory.to_dict()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
