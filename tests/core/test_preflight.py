"""The pre-flight estimate: what it counts, the sentence, the command line, and a measured peak
within ±25% of the estimate on the presets that are quick to run here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main
from core.presets import load_preset
from core.train import preflight as pf
from core.train.preflight import MemoryEstimate, Preflight, training_memory

ROOT = Path(__file__).resolve().parents[2]


def test_optimizer_state_is_counted_by_optimizer() -> None:
    spec = load_preset("keras_mnist")
    trainable = 34_826 * 4
    adam = training_memory(spec, 8, "adam", weight_decay=0)
    sgd = training_memory(spec, 8, "sgd", momentum=0.9, weight_decay=0)
    plain = training_memory(spec, 8, "sgd", momentum=0.0, weight_decay=0)
    temporaries = pf.STEP_TEMPORARIES * trainable
    assert adam.optimizer == 2 * trainable + temporaries
    assert sgd.optimizer == trainable + temporaries and plain.optimizer == temporaries
    assert adam.gradients == trainable and adam.weights == trainable
    # weight decay added to the gradients is one more copy, except AdamW's (in place)
    assert training_memory(spec, 8, "adam").optimizer == adam.optimizer + trainable
    assert training_memory(spec, 8, "adamw").optimizer == \
        training_memory(spec, 8, "adamw", weight_decay=0).optimizer


def test_activations_grow_with_the_batch_and_halve_in_mixed_precision() -> None:
    spec = load_preset("resnet18")
    one, eight = training_memory(spec, 1), training_memory(spec, 8)
    assert eight.activations == pytest.approx(8 * one.activations, rel=0.01)
    assert training_memory(spec, 8, mixed_precision=True).activations == eight.activations // 2
    assert one.activations > 20e6  # ~25 MB a sample at 224×224 (saved for backward)


def test_the_sentence_says_what_to_change() -> None:
    memory = MemoryEstimate(weights=int(1.8e9), gradients=0, optimizer=0,
                            activations=int(7.8e9), batch=0, workspace=0, runtime=int(0.2e9),
                            samples=64)
    verdict = Preflight("cpu", 64, memory, free=int(7.1e9))
    assert not verdict.fits
    assert verdict.sentence(gpu_available=True) == (
        "needs ~9.8 GB; this machine has 7.1 GB free: lower the batch to 32 or train on the GPU")
    assert verdict.sentence() == ("needs ~9.8 GB; this machine has 7.1 GB free: lower the batch "
                                  "to 32")
    roomy = Preflight("cpu", 64, memory, free=int(64e9), step_seconds=0.5, batches_per_epoch=100)
    assert roomy.fits and roomy.sentence() == ("needs ~9.8 GB of 64.0 GB free on this machine; "
                                               "about 57.5 s per epoch")


def test_dry_run_prints_the_estimate_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "digits_small", "--dry-run", "--json", "--device", "cpu",
                 "--batch-size", "32"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["fits"] and data["batch_size"] == 32 and data["batches_per_epoch"] == 40
    assert set(data["memory"]) >= {"weights", "gradients", "optimizer", "activations", "batch",
                                   "workspace", "dataset", "total"}
    assert data["step_seconds"] > 0 and data["epoch_seconds"] > 0
    assert data["message"].startswith("needs ~")


def test_a_run_that_cannot_fit_is_refused_unless_forced(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    monkeypatch.setattr(pf, "free_memory", lambda device="cpu": 80_000_000)
    args = ["train", "digits_small", "--device", "cpu", "--batch-size", "1024", "--out",
            str(tmp_path)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "needs ~" in err and "this machine has 80.0 MB free: lower the batch to" in err
    assert "--force" in err
    assert not list(tmp_path.iterdir())
    started = []
    import core.train.engine as engine

    monkeypatch.setattr(engine, "train", lambda *a, **k: started.append(a) or iter(()))
    assert main([*args, "--force"]) == 0 and started


def image_folder(root: Path, classes: int, per_class: int, size: int) -> Path:
    """A small labelled image folder (one sub-folder per class) of random RGB pictures."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for c in range(classes):
        folder = root / f"class{c}"
        folder.mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{i}.png")
    return root


def train_peak(args: list[str], cwd: Path) -> tuple[float, dict[str, int]]:
    """A real ``convscope train`` process (benchmarks/train_peak.py): measured peak / estimate."""
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "train_peak.py"), *args],
                            cwd=cwd, capture_output=True, text=True, check=True,
                            env={"PATH": "", "OMP_NUM_THREADS": "1"})
    out = json.loads(result.stdout.splitlines()[-1])
    return out["peak"] / out["memory"]["total"], out["memory"]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux peak RSS only")
def test_the_estimate_is_within_25_percent_of_a_real_training_process(tmp_path: Path) -> None:
    """Issue 24: the estimate against the peak resident size of a real ``convscope train
    --epochs 1`` process, from its size before torch and the data were imported. The estimate
    counts what the process holds once its libraries and dataset are loaded (``held``, about
    0.7–0.8 GB here, measured by the process itself), then the run's own allocations."""
    ten = image_folder(tmp_path / "ten", 10, 8, 32)
    two = image_folder(tmp_path / "two", 2, 16, 150)
    cases = {"keras_mnist": ten, "cifar10_convnet": ten, "convnet_150": two}
    for preset, data in cases.items():
        args = [preset, "--dataset", str(data), "--epochs", "1", "--device", "cpu",
                "--batch-size", "16", "--out", str(tmp_path / "runs")]
        ratio, memory = train_peak(args, tmp_path)
        if not 0.75 <= ratio <= 1.25:
            # a peak varies from process to process (glibc keeps or returns freed buffers):
            # outside the band once, the median of three runs decides
            ratios = sorted([ratio] + [train_peak(args, tmp_path)[0] for _ in range(2)])
            ratio = ratios[1]
        assert memory["held"] > 0 and memory["total"] == memory["held"] + memory["to_allocate"]
        assert 0.75 <= ratio <= 1.25, (preset, ratio, memory)


def test_a_huge_16_bit_image_is_decoded_near_the_models_size_in_float32(tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    from core.data.images import pil_array
    from core.inspect.inputs import read_image

    ramp = np.tile(np.linspace(0, 65535, 2400).astype(np.uint16), (2400, 1))
    Image.fromarray(ramp).save(tmp_path / "scan.png")
    image, text = read_image(tmp_path / "scan.png", (28, 28))
    assert tuple(image.shape) == (1, 57, 57)  # averaged 42×42 blocks, not 2400×2400 floats
    assert "2400 wide × 2400 high" in text
    assert int(image[0, 0, 0]) < 10 and int(image[0, 0, -1]) > 245  # full range kept
    with Image.open(tmp_path / "scan.png") as opened:
        assert pil_array(opened).dtype == np.float32


def test_render_refuses_an_inspection_that_cannot_fit(capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    monkeypatch.setattr(pf, "free_memory", lambda device="cpu": 1_000_000)
    out = tmp_path / "f.png"
    assert main(["render", "filters", "keras_mnist", "--layer", "conv1", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "this machine has 1.0 MB free" in err and not out.exists()


def _cgroup(tmp_path: Path, v2: bool, limit: str, usage: int, inactive: int = 0) -> Path:
    """A fake /sys/fs/cgroup and /proc/self/cgroup for a process in group /box/job."""
    root = tmp_path / "cgroup"
    folder = root / "box" / "job" if v2 else root / "memory" / "box" / "job"
    folder.mkdir(parents=True)
    names = (("memory.max", "memory.current", "inactive_file") if v2 else
             ("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"))
    (folder / names[0]).write_text(limit + "\n")
    (folder / names[1]).write_text(f"{usage}\n")
    (folder / "memory.stat").write_text(f"anon 5\n{names[2]} {inactive}\n")
    proc = tmp_path / "proc_cgroup"
    proc.write_text("0::/box/job\n" if v2 else "4:memory:/box/job\n1:cpu:/\n")
    return proc


def test_the_cgroup_memory_limit_bounds_the_free_memory(tmp_path: Path) -> None:
    gb = 1 << 30
    proc = _cgroup(tmp_path / "a", True, str(3 * gb), gb, inactive=gb // 4)
    assert pf.cgroup_room(tmp_path / "a" / "cgroup", proc) == 3 * gb - (gb - gb // 4)
    proc = _cgroup(tmp_path / "b", False, str(3 * gb), 2 * gb)
    assert pf.cgroup_room(tmp_path / "b" / "cgroup", proc) == gb
    proc = _cgroup(tmp_path / "c", True, "max", gb)
    assert pf.cgroup_room(tmp_path / "c" / "cgroup", proc) is None
    proc = _cgroup(tmp_path / "d", False, str(9223372036854771712), gb)  # v1's "no limit"
    assert pf.cgroup_room(tmp_path / "d" / "cgroup", proc) is None
    # a limit on a parent group holds for the process too
    proc = _cgroup(tmp_path / "e", True, "max", gb)
    (tmp_path / "e" / "cgroup" / "box" / "memory.max").write_text(str(2 * gb))
    (tmp_path / "e" / "cgroup" / "box" / "memory.current").write_text(str(gb // 2))
    assert pf.cgroup_room(tmp_path / "e" / "cgroup", proc) == 2 * gb - gb // 2
    gb3 = _cgroup(tmp_path / "f", True, str(3 * gb), gb)
    assert pf.free_memory("cpu", tmp_path / "f" / "cgroup") is not None
    assert gb3.exists()


def test_step_export_and_the_inspector_share_the_memory_preflight(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    from core.inspect.inspector import Inspector
    from core.model.spec import FORMAT, model_from_dict

    big = tmp_path / "big.json"
    big.write_text(json.dumps({"format": FORMAT, "name": "big", "input": {"shape": [1, 8192, 8192]},
                               "layers": [{"type": "Conv2d", "out_channels": 64,
                                           "kernel_size": 3, "padding": 1}]}))
    monkeypatch.setattr(pf, "free_memory", lambda device="cpu": 3 << 30)  # a 3 GB container
    for command in (["step", str(big), "--layer", "conv1", "--at", "0,0,0"],
                    ["render", "filters", str(big), "--layer", "conv1", "-o",
                     str(tmp_path / "f.png")],
                    ["export", str(big), "--format", "onnx", "-o", str(tmp_path / "b.onnx")]):
        assert main(command) == 2, command
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "needs ~" in err and "3.2 GB free" in err, err
    assert not list(tmp_path.glob("*.png")) and not list(tmp_path.glob("*.onnx"))
    with pytest.raises(pf.MemoryRefused):
        Inspector(model_from_dict(json.loads(big.read_text())))
