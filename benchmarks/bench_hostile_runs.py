"""Hostile run folders and annotation files: each refused in one line, quickly, never a hang.

From one real one-epoch run (digits at 8×8, a tiny conv) the script makes one tampered copy per
case (training.json values that contradict each other or the model, files swapped, special
files, links out of the folder), resumes each through the command line in-process
(``convscope train --resume``) and from a worker thread that must answer within 60 s, and
checks the folder is byte-identical after. Then the same for hostile COCO JSON files, VOC
folders and mask folders through ``load_dataset``. It prints the outcome counts (one line and
exit 2 / accepted / traceback / hang) and the time to refuse against the time a valid open
takes. Run: python benchmarks/bench_hostile_runs.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import platform
import shutil
import statistics
import struct
import tempfile
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from core.cli import main as cli
from core.data.datasets import DataError, load_dataset, load_digits_dataset
from core.model.spec import FORMAT, model_from_dict
from core.train import checkpoint as ckpt
from core.train.engine import train
from core.train.settings import Finished, TrainingSettings

TINY = {"format": FORMAT, "name": "tiny", "input": {"shape": [1, 8, 8]},
        "layers": [{"type": "Conv2d", "out_channels": 4, "kernel_size": 3}, {"type": "ReLU"},
                   {"type": "Flatten"}, {"type": "Linear", "out_features": 10}]}
HANG_S = 60.0


def folder_hash(folder: Path) -> str:
    sha = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        sha.update(str(p.relative_to(folder)).encode())
        if p.is_file() and not p.is_symlink():
            sha.update(p.read_bytes())
    return sha.hexdigest()


def bounded(call: Callable[[], Any]) -> tuple[str, float, str]:
    """(outcome, seconds, text) of ``call`` run on a thread with HANG_S to answer."""
    result: list[tuple[str, str]] = []

    def work() -> None:
        try:
            result.append(("returned", repr(call())[:200]))
        except (DataError, ckpt.ModelError) as exc:
            text = str(exc)
            result.append(("one line" if text and "\n" not in text else "many lines", text))
        except BaseException as exc:  # what the benchmark counts as a traceback
            result.append(("traceback", f"{type(exc).__name__}: {exc}"[:200]))

    start = time.perf_counter()
    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(HANG_S)
    seconds = time.perf_counter() - start
    if not result:
        return "hang", seconds, ""
    return result[0][0], seconds, result[0][1]


def resume(run: Path) -> Any:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli(["train", "--resume", str(run), "--epochs", "2", "--device", "cpu",
                    "--out", str(run.parent)])
    text = err.getvalue()
    if code == 2 and text.count("\n") == 1 and "Traceback" not in text:
        raise ckpt.ModelError(text.strip())
    if code == 0:
        return "resumed"
    raise RuntimeError(f"exit {code}: {text[:200]}")


# -- run-folder cases ---------------------------------------------------------------------------

def edit(key_path: str, value: Any) -> Callable[[Path], None]:
    def change(run: Path) -> None:
        data = json.loads((run / ckpt.META).read_text())
        *parents, last = key_path.split("/")
        target = data
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
        (run / ckpt.META).write_text(json.dumps(data))
    return change


DELETE = object()


def replace_file(name: str, make: Callable[[Path], None]) -> Callable[[Path], None]:
    def change(run: Path) -> None:
        (run / name).unlink()
        make(run / name)
    return change


def relu_to_sigmoid(run: Path) -> None:
    model = json.loads((run / "model.json").read_text())
    model["layers"][1]["type"] = "Sigmoid"
    (run / "model.json").write_text(json.dumps(model))


def run_cases(other: Path, outside: Path) -> dict[str, Callable[[Path], None]]:
    return {
        "record deleted": edit("files", DELETE),
        "model.json ReLU -> Sigmoid": relu_to_sigmoid,
        "weights of another run": lambda run: shutil.copy(other / ckpt.LAST, run / ckpt.LAST),
        "training.json a FIFO": replace_file(ckpt.META, lambda p: os.mkfifo(p)),
        "training.json -> /dev/zero": replace_file(ckpt.META, lambda p: p.symlink_to(
            "/dev/zero")),
        "model.json -> /dev/zero": replace_file("model.json", lambda p: p.symlink_to(
            "/dev/zero")),
        "weights-last a link outside": replace_file(ckpt.LAST, lambda p: p.symlink_to(outside)),
        "optimizer a FIFO": replace_file(ckpt.OPTIMIZER, lambda p: os.mkfifo(p)),
        "classes longer": edit("classes", [str(i) for i in range(11)]),
        "classes shorter": edit("classes", [str(i) for i in range(9)]),
        "mean of 3 for 1 channel": edit("mean", [0.1, 0.2, 0.3]),
        "std 0": edit("std", [0]),
        "std negative": edit("std", [-1]),
        "Adam betas 2": edit("optimizer_layout/param_groups/0/betas", [2, 0.999]),
        "eps 0": edit("optimizer_layout/param_groups/0/eps", 0),
        "step 1e30": edit("optimizer_layout/scalars", {"0": {"step": 1e30}}),
        "seed 2^64": edit("settings/seed", 2**64),
        "best metric of another task": edit("best_metric", "val_miou"),
        "best value no epoch reached": edit("best_value", 0.999),
        "generation 1 after an epoch": edit("generation", 1),
        "generation deleted": edit("generation", DELETE),
        "epochs_done 0, history []": lambda run: [edit("epochs_done", 0)(run),
                                                  edit("history", [])(run)],
        "dataset ../../etc": edit("dataset", "../../etc"),
        "dataset relative": edit("dataset", "my-images"),
        "dataset through a link": lambda run: [os.symlink(outside.parent, run.parent / "lnk"),
                                               edit("dataset", str(run.parent / "lnk"))(run)],
        "unknown key": edit("surprise", 1),
        "batch_size 1.5": edit("settings/batch_size", 1.5),
        "garbage JSON": lambda run: (run / ckpt.META).write_text('{"settings": '),
        "optimizer truncated": lambda run: (run / ckpt.OPTIMIZER).write_bytes(
            (run / ckpt.OPTIMIZER).read_bytes()[:100]),
        "weights bit flipped": lambda run: (run / ckpt.LAST).write_bytes(
            (run / ckpt.LAST).read_bytes()[:-3] + bytes([(run / ckpt.LAST).read_bytes()[-3] ^ 1])
            + (run / ckpt.LAST).read_bytes()[-2:]),
    }


# -- dataset cases ------------------------------------------------------------------------------

def photo(path: Path, width: int = 40, height: int = 30) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((height, width, 3), 90, np.uint8)).save(path)


def png_claiming(path: Path, width: int, height: int) -> None:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def coco(root: Path) -> Path:
    images, annotations = [], []
    for i in range(12):
        photo(root / "images" / f"{i}.png")
        images.append({"id": i, "file_name": f"{i}.png", "width": 40, "height": 30})
        annotations.append({"id": 100 + i, "image_id": i, "category_id": 7,
                            "bbox": [10, 5, 20, 10],
                            "segmentation": [[10, 5, 30, 5, 30, 15, 10, 15]]})
        annotations.append({"id": 200 + i, "image_id": i, "category_id": 3,
                            "bbox": [35, 0, 5, 30],
                            "segmentation": {"size": [30, 40], "counts": [1050, 150]}})
    path = root / "instances.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": [
        {"id": 3, "name": "cat"}, {"id": 7, "name": "dog"}]}))
    return path


def coco_edit(change: Callable[[dict[str, Any]], Any]) -> Callable[[Path], Path]:
    def make(root: Path) -> Path:
        path = coco(root)
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data))
        return path
    return make


def voc(root: Path) -> Path:
    from PIL import Image

    for i in range(12):
        photo(root / "JPEGImages" / f"{i:04d}.jpg")
        mask = np.zeros((30, 40), np.uint8)
        mask[5:15, 10:30] = 12
        (root / "SegmentationClass").mkdir(parents=True, exist_ok=True)
        Image.fromarray(mask, mode="L").save(root / "SegmentationClass" / f"{i:04d}.png")
        (root / "Annotations").mkdir(exist_ok=True)
        (root / "Annotations" / f"{i:04d}.xml").write_text(
            "<annotation><object><name>dog</name><bndbox><xmin>11</xmin><ymin>6</ymin>"
            "<xmax>30</xmax><ymax>15</ymax></bndbox></object></annotation>")
    return root


def voc_edit(change: Callable[[Path], Any]) -> Callable[[Path], Path]:
    def make(root: Path) -> Path:
        folder = voc(root)
        change(folder)
        return folder
    return make


def fifo(path: Path) -> None:
    path.unlink(missing_ok=True)
    os.mkfifo(path)


def nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


def mask99(folder: Path) -> None:
    from PIL import Image

    values = np.zeros((30, 40), np.uint8)
    values[2:4, 2:4] = 99
    Image.fromarray(values, mode="L").save(folder / "SegmentationClass" / "0002.png")


def first_annotation(**values: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda d: d["annotations"][0].update(values)


def rle(**values: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda d: d["annotations"][1]["segmentation"].update(values)


DATA_CASES: dict[str, Callable[[Path], Path]] = {
    "COCO box of strings": coco_edit(first_annotation(bbox=["a", "b", "c", "d"])),
    "COCO box of two numbers": coco_edit(first_annotation(bbox=[1, 2])),
    "COCO box NaN": coco_edit(first_annotation(bbox=[1, 2, float("nan"), 3])),
    "COCO box of zero width": coco_edit(first_annotation(bbox=[1, 2, 0, 3])),
    "COCO box outside": coco_edit(first_annotation(bbox=[30, 2, 20, 3])),
    "COCO no image_id": coco_edit(lambda d: d["annotations"][0].pop("image_id")),
    "COCO unknown image_id": coco_edit(first_annotation(image_id=999)),
    "COCO no bbox": coco_edit(lambda d: d["annotations"][0].pop("bbox")),
    "COCO unknown category": coco_edit(first_annotation(category_id=99)),
    "COCO no file_name": coco_edit(lambda d: d["images"][0].pop("file_name")),
    "COCO file_name ../..": coco_edit(lambda d: d["images"][0].update(
        file_name="../../etc/passwd")),
    "COCO annotations not a list": coco_edit(lambda d: d.update(annotations={"a": 1})),
    "COCO height a string": coco_edit(lambda d: d["images"][0].update(height="30")),
    "COCO deep nesting (50)": coco_edit(lambda d: d.update(info=nested(50))),
    "COCO RLE of another size": coco_edit(rle(size=[31, 40])),
    "COCO RLE counts too few": coco_edit(rle(counts=[5, 5])),
    "COCO garbage RLE string": coco_edit(rle(counts="\x01garbage~~~")),
    "COCO polygon of strings": coco_edit(first_annotation(segmentation=[["a"] * 6])),
    "COCO top level a list": lambda root: [coco(root), (root / "instances.json").write_text(
        "[1]")][0],
    "COCO nested 200,000 deep": lambda root: [root.mkdir(parents=True), (
        root / "deep.json").write_text("[" * 200_000 + "]" * 200_000)] and root / "deep.json",
    "COCO file a FIFO": lambda root: [root.mkdir(parents=True), fifo(root / "x.json")] and (
        root / "x.json"),
    "COCO image a FIFO": lambda root: [coco(root), fifo(root / "images" / "3.png")][0],
    "COCO image 900 MP": lambda root: [coco(root), png_claiming(
        root / "images" / "3.png", 30_000, 30_000)][0],
    "VOC mask class 99": voc_edit(mask99),
    "VOC mask a FIFO": voc_edit(lambda f: fifo(f / "SegmentationClass" / "0002.png")),
    "VOC XML a FIFO": voc_edit(lambda f: fifo(f / "Annotations" / "0002.xml")),
    "VOC image 900 MP": voc_edit(lambda f: png_claiming(f / "JPEGImages" / "0002.jpg",
                                                        30_000, 30_000)),
    "VOC mask 900 MP": voc_edit(lambda f: png_claiming(f / "SegmentationClass" / "0002.png",
                                                       30_000, 30_000)),
    "VOC XML with entities": voc_edit(lambda f: (f / "Annotations" / "0002.xml").write_text(
        '<!DOCTYPE a [<!ENTITY x "xx">]><annotation>&x;</annotation>')),
    "VOC XML 100,000 deep": voc_edit(lambda f: (f / "Annotations" / "0002.xml").write_text(
        "<annotation>" + "<a>" * 100_000 + "</a>" * 100_000 + "</annotation>")),
    "VOC XML 2 MB": voc_edit(lambda f: (f / "Annotations" / "0002.xml").write_text(
        "<annotation>" + " " * (2 << 20) + "</annotation>")),
    "VOC box of words": voc_edit(lambda f: (f / "Annotations" / "0002.xml").write_text(
        "<annotation><object><name>dog</name><bndbox><xmin>a</xmin><ymin>6</ymin><xmax>30"
        "</xmax><ymax>15</ymax></bndbox></object></annotation>")),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timings per case (median)")
    args = parser.parse_args()
    outcomes: dict[str, Counter[str]] = {"run folders": Counter(), "datasets": Counter()}
    refuse_times: dict[str, list[float]] = {"run folders": [], "datasets": []}
    changed: list[str] = []
    odd: list[str] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        digits = load_digits_dataset()
        settings = TrainingSettings(epochs=1, batch_size=128, device="cpu", snapshots=False,
                                    live_filters_every=0)
        runs = []
        for seed, where in ((0, "good"), (1, "other")):
            events = list(train(model_from_dict(TINY), digits, TrainingSettings(
                **{**settings.to_dict(), "seed": seed, "augmentation": settings.augmentation}),
                tmp / where))
            assert isinstance(events[-1], Finished), events[-1]
            runs.append(Path(events[-1].run_dir))
        good, other = runs
        outside = tmp / "outside.safetensors"
        shutil.copy(good / ckpt.LAST, outside)
        valid_open = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            ckpt.open_for_resume(good)
            valid_open.append(time.perf_counter() - start)
        valid_cli = []
        for k in range(args.repeat):  # the whole command, one more epoch (data loading, training)
            copy = Path(shutil.copytree(good, tmp / f"valid{k}" / good.name))
            outcome, seconds, text = bounded(lambda copy=copy: resume(copy))
            assert outcome == "returned", text
            valid_cli.append(seconds)
        for index, (case, make) in enumerate(run_cases(other, outside).items()):
            times = []
            for k in range(args.repeat):
                case_dir = tmp / f"case{index}-{k}"
                run = Path(shutil.copytree(good, case_dir / good.name))
                make(run)
                before = folder_hash(case_dir)
                outcome, seconds, text = bounded(lambda run=run: resume(run))
                times.append(seconds)
                if folder_hash(case_dir) != before:
                    changed.append(case)
            outcomes["run folders"][outcome] += 1
            if outcome == "one line":
                refuse_times["run folders"].append(statistics.median(times))
            else:
                odd.append(f"{case}: {outcome} {text[:100]}")
            print(f"  run  {case:32s} {outcome:9s} {statistics.median(times) * 1000:8.1f} ms  "
                  f"{text[:90]}")
        valid_data = []
        for k in range(args.repeat):
            path = coco(tmp / f"valid-coco{k}")
            start = time.perf_counter()
            load_dataset(str(path), (3, 30, 40))
            valid_data.append(time.perf_counter() - start)
        valid_voc = []
        for k in range(args.repeat):
            folder = voc(tmp / f"valid-voc{k}")
            start = time.perf_counter()
            load_dataset(str(folder), (3, 30, 40))
            valid_voc.append(time.perf_counter() - start)
        for index, (case, build) in enumerate(DATA_CASES.items()):
            times = []
            for k in range(args.repeat):
                target = build(tmp / f"data{index}-{k}" / "set")
                outcome, seconds, text = bounded(
                    lambda target=target: load_dataset(str(target), (3, 30, 40)))
                times.append(seconds)
            outcomes["datasets"][outcome] += 1
            if outcome == "one line":
                refuse_times["datasets"].append(statistics.median(times))
            else:
                odd.append(f"{case}: {outcome} {text[:100]}")
            print(f"  data {case:32s} {outcome:9s} {statistics.median(times) * 1000:8.1f} ms  "
                  f"{text[:90]}")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}; load average at the end "
          f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    for kind, counts in outcomes.items():
        total = sum(counts.values())
        line = ", ".join(f"{counts[k]} {k}" for k in ("one line", "returned", "many lines",
                                                     "traceback", "hang"))
        times = refuse_times[kind]
        print(f"{kind}: {total} cases: {line}; time to refuse median "
              f"{statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms")
    print(f"valid run: open_for_resume {statistics.median(valid_open) * 1000:.1f} ms; the whole "
          f"resume command (one more epoch) {statistics.median(valid_cli) * 1000:.0f} ms")
    print(f"valid datasets: COCO (12 images, polygons + RLE) "
          f"{statistics.median(valid_data) * 1000:.1f} ms, VOC (12 images, masks + boxes) "
          f"{statistics.median(valid_voc) * 1000:.1f} ms")
    print(f"folders changed by a refusal: {len(changed)} {sorted(set(changed))}")
    for line in odd:
        print(f"  not refused in one line: {line}")


if __name__ == "__main__":
    main()
