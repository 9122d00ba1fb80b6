"""A tiny finished run folder for the run-folder tests (digits at 8×8, one small conv)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from core.data.datasets import Dataset
from core.model.spec import FORMAT, model_from_dict
from core.train.engine import train
from core.train.settings import Finished, TrainingSettings

TINY_MODEL: dict[str, Any] = {
    "format": FORMAT, "name": "tiny", "input": {"shape": [1, 8, 8]},
    "layers": [{"type": "Conv2d", "out_channels": 4, "kernel_size": 3},
               {"type": "ReLU"}, {"type": "Flatten"}, {"type": "Linear", "out_features": 10}],
}
TINY = TrainingSettings(epochs=1, batch_size=128, device="cpu", snapshots=False,
                        live_filters_every=0)


def train_tiny(data: Dataset, out: Path, settings: TrainingSettings = TINY) -> Path:
    events = list(train(model_from_dict(TINY_MODEL), data, settings, out))
    done = events[-1]
    assert isinstance(done, Finished), done
    return Path(done.run_dir)


def folder_bytes(run: Path) -> dict[str, str]:
    """Every file of a folder (recursively) by name, as a hash of its bytes."""
    return {str(p.relative_to(run)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(run.rglob("*")) if p.is_file()}


def edit_meta(run: Path, change: Any) -> None:
    path = run / "training.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
