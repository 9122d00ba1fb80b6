"""A standalone training script: ``python train.py`` on one machine, ``torchrun`` on many.

ConvScope does not grow its own distributed engine: the script uses DistributedDataParallel
(gloo on CPU, nccl on GPU) and a DistributedSampler when torchrun starts it, and plain training
otherwise. Rank 0 logs and writes a run folder ConvScope opens (model.json, weights, training.json).
The script carries the model class (core.io.pytorch_code), the data loading for the dataset and
the optimiser and schedule of the run it was exported from, or ``convscope train``'s defaults.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from core.build import ConvScopeNet
from core.io.codegen import check_source, literal, safe_text, write_source
from core.io.export_result import ExportResult
from core.io.pytorch_code import GENERATED_NAMES, class_name, class_source
from core.model.errors import ModelError
from core.model.spec import ModelSpec
from core.train.settings import TrainingSettings

_TEMPLATE = r'''#!/usr/bin/env python
"""Train __TITLE__, exported from ConvScope. Needs torch (and safetensors, torchvision for
mnist / fashion-mnist / cifar10 / image folders, scikit-learn for digits).

    python train.py                                  # one process (GPU when there is one)
    torchrun --nproc_per_node=4 train.py             # 4 processes on this machine
    torchrun --nnodes=2 --node_rank=0 --master_addr=HOST --nproc_per_node=4 train.py
                                                     # ... and node_rank=1 on the second machine

Settings: see ORIGIN and SETTINGS below (__SETTINGS_TEXT__).
Change them with --epochs, --batch-size, --lr, --dataset, --out. Each run writes a folder under
--out (default ./runs) with model.json, weights-best.safetensors, weights-last.safetensors and
training.json: open it in ConvScope (File > Open Trained Run) or pass the weights to
`convscope train model.json --weights ...`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

MODEL_FILE = json.loads(__MODEL_JSON__)
SETTINGS = json.loads(__SETTINGS_JSON__)
ORIGIN = __ORIGIN__
"""Where the settings come from: a run folder's name, or convscope train's defaults."""
DATASET = __DATASET__
INPUT_SHAPE = __INPUT_SHAPE__
NORMALISATION = __NORMALISATION__
"""The run's channel mean and std; None: measured on the training images."""
SPLIT_SEED = 0


__CLASS_SOURCE__

def fit(images: torch.Tensor) -> torch.Tensor:
    """uint8 images (N, C, H, W) to the model's channels and size."""
    channels, height, width = INPUT_SHAPE
    if images.shape[1] == 3 and channels == 1:
        weights = torch.tensor([0.2989, 0.587, 0.114]).view(1, 3, 1, 1)
        images = (images.float() * weights).sum(1, keepdim=True).round().to(torch.uint8)
    elif images.shape[1] == 1 and channels == 3:
        images = images.expand(-1, 3, -1, -1)
    if tuple(images.shape[-2:]) != (height, width):
        out = nn.functional.interpolate(images.float(), size=(height, width), mode="bilinear",
                                        antialias=True, align_corners=False)
        images = out.round().clamp(0, 255).to(torch.uint8)
    return images.contiguous()


def split(images: torch.Tensor, labels: torch.Tensor, val: float = 0.15, test: float = 0.15):
    """ConvScope's split: shuffled with seed 0, then test, validation, train."""
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(SPLIT_SEED))
    n_test, n_val = round(len(labels) * test), round(len(labels) * val)
    train, valid = order[n_test + n_val:], order[n_test:n_test + n_val]
    return (images[train], labels[train]), (images[valid], labels[valid])


def load_data(name: str, root: Path):
    """(train, validation) as uint8 image and label tensors, and the class names."""
    if name == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = torch.from_numpy(digits.images * (255 / 16)).round().to(torch.uint8)[:, None]
        labels = torch.from_numpy(digits.target).long()
        return (*split(images, labels), [str(i) for i in range(10)])
    if name in ("mnist", "fashion-mnist", "cifar10"):
        import torchvision

        cls = {"mnist": torchvision.datasets.MNIST,
               "fashion-mnist": torchvision.datasets.FashionMNIST,
               "cifar10": torchvision.datasets.CIFAR10}[name]
        parts = []
        for train in (True, False):  # validation on the official test images
            data = cls(str(root), train=train, download=True)
            images = torch.as_tensor(data.data)
            images = images.permute(0, 3, 1, 2) if images.dim() == 4 else images[:, None]
            parts.append((images, torch.as_tensor(data.targets).long()))
        return (*parts, list(data.classes))
    import torchvision
    from torchvision.transforms import v2

    folder = torchvision.datasets.ImageFolder(
        name, transform=v2.Compose([v2.PILToTensor(), v2.Resize(INPUT_SHAPE[1:])]))
    images = torch.stack([fit(folder[i][0][None])[0] for i in range(len(folder))])
    labels = torch.tensor(folder.targets).long()
    return (*split(images, labels), list(folder.classes))


def make_optimizer(params, s):
    if s["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=s["lr"], momentum=s["momentum"],
                               weight_decay=s["weight_decay"])
    cls = torch.optim.Adam if s["optimizer"] == "adam" else torch.optim.AdamW
    return cls(params, lr=s["lr"], weight_decay=s["weight_decay"])


def make_schedule(optimizer, s):
    if s["schedule"] == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=s["epochs"])
    if s["schedule"] == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, s["epochs"] // 3),
                                               gamma=0.1)
    return None


def save_atomic(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    tmp.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default=DATASET)
    parser.add_argument("--data-root", default="data")
    parser.add_argument("--epochs", type=int, default=SETTINGS["epochs"])
    parser.add_argument("--batch-size", type=int, default=SETTINGS["batch_size"],
                        help="per process")
    parser.add_argument("--lr", type=float, default=SETTINGS["lr"])
    parser.add_argument("--out", default="runs")
    parser.add_argument("--weights", help="start from these weights (.safetensors)")
    parser.add_argument("--cpu", action="store_true", help="do not use a GPU")
    args = parser.parse_args()
    settings = dict(SETTINGS, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr)

    distributed = "RANK" in os.environ  # set by torchrun
    cuda = torch.cuda.is_available() and not args.cpu
    if distributed:
        dist.init_process_group("nccl" if cuda else "gloo")
        rank, world = dist.get_rank(), dist.get_world_size()
        local = int(os.environ.get("LOCAL_RANK", 0))
    else:
        rank, world, local = 0, 1, 0
    device = torch.device(f"cuda:{local}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    torch.manual_seed(settings["seed"])

    (train_x, train_y), (val_x, val_y), classes = load_data(args.dataset, Path(args.data_root))
    train_x, val_x = fit(train_x), fit(val_x)
    if NORMALISATION is not None:
        mean, std = (torch.tensor(v) for v in NORMALISATION)
    else:
        sample = train_x[:256].float() / 255
        mean, std = sample.mean(dim=(0, 2, 3)), sample.std(dim=(0, 2, 3)).clamp_min(1e-3)

    def prepare(images: torch.Tensor) -> torch.Tensor:
        out = images.to(device).float() / 255
        return (out - mean.to(device)[:, None, None]) / std.to(device)[:, None, None]

    net = __CLASS__().to(device)
    if args.weights:
        from safetensors.torch import load_file

        net.load_state_dict(load_file(args.weights))
    model = (DistributedDataParallel(net, device_ids=[local] if cuda else None)
             if distributed else net)
    train_set = TensorDataset(train_x, train_y)
    sampler = DistributedSampler(train_set, shuffle=True, seed=settings["seed"]) \
        if distributed else None
    loader = DataLoader(train_set, batch_size=settings["batch_size"], sampler=sampler,
                        shuffle=sampler is None, drop_last=False)
    optimizer = make_optimizer([p for p in net.parameters() if p.requires_grad], settings)
    schedule = make_schedule(optimizer, settings)
    loss_fn = nn.CrossEntropyLoss()

    run = None
    history, best = [], -1.0
    if rank == 0:
        safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in MODEL_FILE["name"])[:40]
        run = Path(args.out) / f"{safe}-{time.strftime('%Y%m%d-%H%M%S')}"
        n = 1
        while run.exists():
            n += 1
            run = Path(args.out) / f"{safe}-{time.strftime('%Y%m%d-%H%M%S')}-{n}"
        run.mkdir(parents=True)
        save_atomic(run / "model.json",
                    lambda p: p.write_text(json.dumps(MODEL_FILE, indent=1) + "\n"))
        print(f"training {MODEL_FILE['name']} on {args.dataset} ({len(train_set)} images), "
              f"{world} process(es) on {device.type}, run folder {run}", flush=True)

    for epoch in range(1, settings["epochs"] + 1):
        if sampler is not None:
            sampler.set_epoch(epoch)
        model.train()
        started, total, correct, loss_sum = time.perf_counter(), 0, 0, 0.0
        for images, labels in loader:
            x, y = prepare(images), labels.to(device)
            optimizer.zero_grad(set_to_none=True)
            out = model(x)
            loss = loss_fn(out, y)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
            total += len(y)
        if schedule is not None:
            schedule.step()
        counts = torch.tensor([loss_sum, correct, total], dtype=torch.float64, device=device)
        if distributed:
            dist.all_reduce(counts)
        if rank == 0:
            net.eval()
            with torch.no_grad():
                hits, val_loss = 0, 0.0
                for i in range(0, len(val_y), 512):
                    out = net(prepare(val_x[i:i + 512]))
                    y = val_y[i:i + 512].to(device)
                    val_loss += loss_fn(out, y).item() * len(y)
                    hits += (out.argmax(1) == y).sum().item()
            val_acc = hits / max(1, len(val_y))
            row = {"epoch": epoch, "train_loss": counts[0].item() / counts[2].item(),
                   "train_acc": counts[1].item() / counts[2].item(),
                   "val_loss": val_loss / max(1, len(val_y)), "val_acc": val_acc,
                   "lr": optimizer.param_groups[0]["lr"],
                   "seconds": time.perf_counter() - started}
            history.append(row)
            print(f"epoch {epoch}: loss {row['train_loss']:.4f} acc {row['train_acc']:.3f} "
                  f"val_acc {val_acc:.3f}", flush=True)
            state = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
            from safetensors.torch import save_file

            save_atomic(run / "weights-last.safetensors", lambda p: save_file(state, str(p)))
            if val_acc > best:
                best = val_acc
                save_atomic(run / "weights-best.safetensors", lambda p: save_file(state, str(p)))
            meta = {"settings": settings, "dataset": args.dataset, "classes": classes,
                    "mean": [float(v) for v in mean], "std": [float(v) for v in std],
                    "epochs_done": epoch, "best_val_acc": best, "history": history,
                    "notes": [f"trained by train.py ({world} process(es), {device.type})"],
                    "optimizer_layout": {}, "test_acc": None,
                    "finished": epoch == settings["epochs"]}
            save_atomic(run / "training.json",
                        lambda p: p.write_text(json.dumps(meta, indent=1) + "\n"))
    if rank == 0:
        print(f"done: best validation accuracy {best:.4f}; weights in {run}", flush=True)
    if distributed:
        dist.barrier()
        del model  # DDP's reducer goes before its process group
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
'''


def _settings_text(s: dict[str, Any]) -> str:
    return (f"{s['optimizer']}, lr {s['lr']:g}, batch {s['batch_size']} per process, "
            f"{s['epochs']} epochs, weight decay {s['weight_decay']:g}, {s['schedule']} schedule")


def script_source(spec: ModelSpec, dataset: str = "digits",
                  settings: TrainingSettings | None = None,
                  normalisation: tuple[list[float], list[float]] | None = None,
                  origin: str = "convscope train's defaults") -> str:
    """The whole train.py for ``spec``."""
    if spec.task != "classification":
        raise ModelError(f"the training script trains classifiers; {spec.name} is a "
                         f"{spec.task} model")
    if len(spec.input_shape) != 3:
        raise ModelError("the training script trains on images: the model's input must be "
                         "(channels, height, width)")
    chosen = (settings or TrainingSettings()).to_dict()
    keep = ("optimizer", "lr", "batch_size", "epochs", "weight_decay", "momentum", "schedule",
            "seed")
    values = {k: chosen[k] for k in keep}
    # every value from a file (the model's name, the run folder's name, the dataset) reaches
    # the code as a literal; the docstring only carries letters and digits of the name
    replacements = {
        "__TITLE__": safe_text(spec.name, 60) or "a model",
        "__SETTINGS_TEXT__": safe_text(_settings_text(values), 200),
        "__MODEL_JSON__": literal(spec.to_json()),
        "__SETTINGS_JSON__": literal(json.dumps(values)),
        "__ORIGIN__": literal(origin),
        "__DATASET__": literal(dataset),
        "__INPUT_SHAPE__": literal(tuple(spec.input_shape)),
        "__NORMALISATION__": literal(normalisation),
        "__CLASS_SOURCE__": class_source(spec),
        "__CLASS__": class_name(spec.name),
    }
    # one pass: a value that happens to contain a placeholder is never substituted again
    pattern = re.compile("|".join(re.escape(k) for k in replacements))
    text = pattern.sub(lambda match: replacements[match.group(0)], _TEMPLATE)
    cls = class_name(spec.name)
    check_source(text, GENERATED_NAMES | _SCRIPT_NAMES | {cls}, _SCRIPT_IMPORTS)
    return text


_SCRIPT_NAMES = {"MODEL_FILE", "SETTINGS", "ORIGIN", "DATASET", "INPUT_SHAPE", "NORMALISATION",
                 "SPLIT_SEED", "fit", "split", "load_data", "make_optimizer", "make_schedule",
                 "save_atomic", "main"}
_SCRIPT_IMPORTS = {"__future__", "argparse", "json", "math", "os", "time", "pathlib", "torch",
                   "torch.distributed", "torch.nn.parallel", "torch.utils.data"}


def export_script(spec: ModelSpec, net: ConvScopeNet | None, out: Path, dataset: str | None,
                  run: Path | None) -> ExportResult:
    """Write train.py (and, with weights, their .safetensors beside it to start from)."""
    from core.weights import save_weights

    settings, normalisation, origin = None, None, "convscope train's defaults"
    if run is not None and run.is_dir():
        from core.train.checkpoint import load_state

        state = load_state(run)
        settings = TrainingSettings.from_dict(state.settings)
        normalisation = (state.mean, state.std)
        dataset = dataset or state.dataset
        origin = f"the run {run.name}"
    source = script_source(spec, dataset or "digits", settings, normalisation, origin)
    files = [out]
    start = ""
    if net is not None:
        beside = out.with_suffix(".safetensors")
        save_weights(net, beside)
        files.append(beside)
        start = f" --weights {beside.name}"
    write_source(out, source)
    return ExportResult(tuple(files), f"run it with: python {out.name}{start}, or on N "
                        f"processes: torchrun --nproc_per_node=N {out.name}{start}")
