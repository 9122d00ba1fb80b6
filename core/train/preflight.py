"""Pre-flight: how much memory a training step or an inspection needs, and time per epoch.

Peak memory of one training step = weights + gradients + optimizer state (by optimizer) +
activations saved for backward (at the batch size and precision) + the data batch + working
space for backward. The saved activations are counted exactly, without allocating anything: the
model runs once on torch's ``meta`` device under ``saved_tensors_hooks``, which sees every
tensor autograd keeps. Time per epoch comes from one measured step on the chosen device. The
command line, the Train tab and the Inspect tab all ask here; the sentence it builds is what a
user reads ("needs ~9.8 GB; this machine has 7.1 GB free: lower the batch to 32 or train on the
GPU").
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from core.analysis.model_analysis import ModelAnalysis, analyze_model
from core.model.errors import ModelError
from core.model.spec import ModelSpec
from core.process_memory import held_since_start, peak_rss, rss

FLOAT = 4
OPTIMIZER_COPIES = {"adam": 2, "adamw": 2, "sgd": 1}
"""Float tensors the optimizer keeps per trainable parameter (SGD: the momentum buffer)."""
STEP_TEMPORARIES = 1
"""Float copies of the parameters the optimizer's step makes for a moment (torch's foreach
implementations compute on whole lists of tensors: Adam's sqrt of its second moment)."""
DECAY_TEMPORARIES = {"adam": 1, "sgd": 1, "adamw": 0}
"""One more copy where weight decay is added to the gradients (torch's foreach Adam and SGD:
``grads = _foreach_add(grads, params, alpha=weight_decay)``); AdamW decays in place. VGG-16's
real process peaked 29 % above the estimate without it."""
RUNTIME = 40 << 20
"""Autograd's engine, the kernels' scratch space and the allocator's slack (measured)."""
WORKSPACE = 3
"""Forward and backward hold a layer's input, its output (or their gradients) and kernel
scratch space at once: about three times the largest layer output (fitted on the presets, see
benchmarks/bench_preflight.py)."""
HEADROOM = 0.9
"""Plan to use at most this share of the free memory."""


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes by what holds them; ``total`` is the peak."""

    weights: int
    gradients: int
    optimizer: int
    activations: int
    batch: int
    workspace: int
    dataset: int = 0
    runtime: int = RUNTIME
    held: int = 0
    """What the process holds already, measured: ConvScope and the libraries it loaded (torch,
    torchvision, scikit-learn, the data pipeline: ~0.8 GB with torch's CUDA wheels), less the
    dataset (counted in ``dataset``). In a fresh ``convscope train`` process this is most of a
    small model's peak; in the window it is what the window holds."""

    @property
    def total(self) -> int:
        """The process's peak above where it started (``held`` included)."""
        return self.to_allocate + self.held

    @property
    def to_allocate(self) -> int:
        """What the run still has to allocate: the peak less what is held already."""
        return (self.weights + self.gradients + self.optimizer + self.activations + self.batch
                + self.workspace + self.dataset + self.runtime)

    samples: int = 1
    """The batch size the estimate is for."""

    @property
    def per_sample(self) -> float:
        """What one more sample in the batch costs (activations, input, working space)."""
        return (self.activations + self.batch + self.workspace) / max(1, self.samples)

    def to_dict(self) -> dict[str, int]:
        data = asdict(self)
        data.pop("samples")
        data["to_allocate"] = self.to_allocate
        data["total"] = self.total
        return data


def format_size(value: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if value >= size:
            return f"{value / size:.1f} {unit}"
    return f"{int(value)} bytes"


def free_memory(device: str = "cpu", cgroup: Path = Path("/sys/fs/cgroup")) -> int | None:
    """Bytes free for a new allocation on ``device``, None if unknown. On the CPU: the host's
    MemAvailable, or less when the process runs under a cgroup memory limit (a container, a
    systemd slice): the limit minus what the group already holds, this process included."""
    if device.startswith("cuda"):
        import torch

        if torch.cuda.is_available():
            return int(torch.cuda.mem_get_info()[0])
        return None
    host = _host_available()
    group = cgroup_room(cgroup)
    if host is None or group is None:
        return group if host is None else host
    return min(host, group)


def _host_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _read_number(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # "max": no limit


def _reclaimable(stat: Path, key: str) -> int:
    """Page cache the kernel drops before it kills anything (memory.stat's inactive files)."""
    try:
        for line in stat.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key and value.strip().isdigit():
                return int(value)
    except OSError:
        pass
    return 0


def _own_cgroups(root: Path, proc: Path) -> list[tuple[Path, bool]]:
    """This process's memory cgroup folders, innermost first, each with its ancestors up to
    the mount (a limit set on a parent holds too), and whether each is cgroup v2."""
    try:
        lines = proc.read_text().splitlines()
    except OSError:
        lines = []
    found: list[tuple[Path, bool]] = []
    for line in lines:
        _, controllers, path = line.split(":", 2) if line.count(":") >= 2 else ("", "", "")
        if controllers == "" and path:
            base, v2 = root, True
        elif "memory" in controllers.split(","):
            base, v2 = root / "memory", False
        else:
            continue
        folder = base / path.lstrip("/")
        while True:
            found.append((folder, v2))
            if folder == base or base not in folder.parents:
                break
            folder = folder.parent
        if (base, v2) not in found:
            found.append((base, v2))
    return found or [(root, True), (root / "memory", False)]


def cgroup_room(root: Path = Path("/sys/fs/cgroup"),
                proc: Path = Path("/proc/self/cgroup")) -> int | None:
    """What this process's memory cgroups still allow (the tightest limit minus that group's
    usage, less its reclaimable page cache), None when no group sets a limit. cgroup v2
    (memory.max, memory.current) and v1 (memory.limit_in_bytes, memory.usage_in_bytes)."""
    rooms = []
    for folder, v2 in _own_cgroups(root, proc):
        names = (("memory.max", "memory.current", "inactive_file") if v2 else
                 ("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"))
        limit = _read_number(folder / names[0])
        if limit is None or limit >= 1 << 60:  # "max", or v1's "no limit" (a huge number)
            continue
        usage = _read_number(folder / names[1]) or 0
        usage -= min(usage, _reclaimable(folder / "memory.stat", names[2]))
        rooms.append(max(0, limit - usage))
    return min(rooms) if rooms else None


class MemoryRefused(ModelError):
    """A model too large for the memory this process may still use (one line, what to do)."""


def check_room(need: int, what: str, device: str = "cpu") -> None:
    """The one memory pre-flight of everything that builds a model (train, render, step,
    export, the window's Inspect and Classroom): MemoryRefused when ``need`` bytes do not fit
    in the share of free memory ConvScope plans to use."""
    free = free_memory(device)
    if free is None or need <= free * HEADROOM:
        return
    where = "this process's memory limit leaves" if cgroup_room() is not None else \
        "this machine has"
    raise MemoryRefused(f"{what} needs ~{format_size(need)}; {where} {format_size(free)} free: "
                        "use a smaller model or input")


def saved_activation_bytes(spec: ModelSpec, analysis: ModelAnalysis, batch_size: int
                           ) -> tuple[int, int]:
    """(bytes autograd saves for backward, bytes of the largest saved tensor) for one batch.

    Runs the model on the meta device: shapes only, no memory, no arithmetic.
    """
    import torch

    from core.build import build_model

    seen: dict[int, int] = {}
    params: set[int] = set()

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        base = tensor._base if tensor._base is not None else tensor
        if id(base) not in params and id(tensor) not in params:
            seen[id(base)] = max(seen.get(id(base), 0), base.numel() * base.element_size())
        return tensor

    x = torch.zeros((batch_size, *spec.input_shape), device="meta", requires_grad=False)
    try:
        with torch.device("meta"):
            model = build_model(spec, analysis)
        model.train()
        params.update(id(p) for p in model.parameters())
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            model(x)
    except (RuntimeError, NotImplementedError, TypeError, ValueError):
        # too large to build, or a layer without a meta kernel: every output counted twice
        outputs = [layer.activation_bytes * batch_size for layer in analysis.layers]
        return 2 * sum(outputs), max(outputs, default=0)
    return sum(seen.values()), max(seen.values(), default=0)


def training_memory(spec: ModelSpec, batch_size: int, optimizer: str = "adam",
                    momentum: float = 0.9, mixed_precision: bool = False,
                    dataset_bytes: int = 0, analysis: ModelAnalysis | None = None,
                    weight_decay: float = 1e-4) -> MemoryEstimate:
    """The peak memory of one training step (see the module doc); nothing is allocated."""
    analysis = analysis or analyze_model(spec)
    analysis.raise_error()
    trainable = analysis.trainable_params
    weights = analysis.total_params * FLOAT
    copies = OPTIMIZER_COPIES.get(optimizer, 2)
    if optimizer == "sgd" and momentum == 0:
        copies = 0
    copies += STEP_TEMPORARIES + (DECAY_TEMPORARIES.get(optimizer, 1) if weight_decay else 0)
    saved, largest = saved_activation_bytes(spec, analysis, batch_size)
    # a frozen layer's output is not saved, but it exists for a moment all the same
    largest = max(largest, batch_size * max(
        (layer.activation_bytes for layer in analysis.layers), default=0))
    if mixed_precision:  # autocast keeps most activations in float16, and float16 weights
        saved //= 2
        largest //= 2
        weights += weights // 2
    batch = batch_size * math.prod(spec.input_shape) * FLOAT * 2  # uint8 → float, normalised
    return MemoryEstimate(weights=weights, gradients=trainable * FLOAT,
                          optimizer=copies * trainable * FLOAT, activations=saved, batch=batch,
                          workspace=WORKSPACE * largest, dataset=dataset_bytes,
                          samples=batch_size)


def inspection_memory(spec: ModelSpec, attribution: bool = False,
                      analysis: ModelAnalysis | None = None) -> MemoryEstimate:
    """Memory to look inside on one image: weights and every layer's activations kept; an
    attribution (Grad-CAM, saliency, occlusion) adds a backward pass or a batch of copies."""
    analysis = analysis or analyze_model(spec)
    analysis.raise_error()
    kept = analysis.activation_bytes
    extra = 2 * kept if attribution else 0
    return MemoryEstimate(weights=analysis.total_params * FLOAT, gradients=0, optimizer=0,
                          activations=kept + extra, batch=math.prod(spec.input_shape) * FLOAT,
                          workspace=max((layer.activation_bytes for layer in analysis.layers),
                                        default=0), samples=1)


def _reset_peak() -> bool:
    """Reset this process's peak RSS (Linux: /proc/self/clear_refs), so it can be measured;
    freed heap pages are handed back first (glibc malloc_trim), or a step reusing them would
    not show."""
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    name = ctypes.util.find_library("c")
    if name:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(name).malloc_trim(0)
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class StepMeasure:
    """One measured training step: seconds, and the peak memory it added (None: unknown)."""

    seconds: float
    peak_bytes: int | None
    input_bytes: int


def measure_step(spec: ModelSpec, batch_size: int, device: str = "cpu", optimizer: str = "adam",
                 repeats: int = 2) -> StepMeasure:
    """Run real training steps (forward, backward, optimizer) on random data and time them.

    On Linux/CPU the peak memory the steps added above the built model and its input batch is
    measured too (peak RSS, reset before the steps), which is what ``training_memory`` predicts
    without the weights, the input batch and the dataset.
    """
    import torch

    from core.build import build_model

    model = build_model(spec).to(device)
    model.train()
    opt = (torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9) if optimizer == "sgd"
           else torch.optim.Adam(model.parameters(), lr=1e-3))
    x = torch.randn((batch_size, *spec.input_shape), device=device)

    def step() -> None:
        out = model(x)
        loss = out.float().square().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    with torch.no_grad():
        model(x[:1])  # first-call set-up of the kernels, outside the measurement
    cpu = not device.startswith("cuda")
    base = rss() if cpu and _reset_peak() else None
    if not cpu:
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    step()  # the first step also allocates gradients and optimizer state
    if not cpu:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    if not cpu:
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / repeats
    peak = peak_rss() if cpu else torch.cuda.max_memory_allocated()
    added = None if base is None or peak is None else max(0, peak - base)
    return StepMeasure(seconds, added, x.numel() * x.element_size())


@dataclass(frozen=True)
class Preflight:
    """The estimate before a run, and the sentence that says whether it fits."""

    device: str
    batch_size: int
    memory: MemoryEstimate
    free: int | None
    step_seconds: float | None = None
    batches_per_epoch: int | None = None

    @property
    def fits(self) -> bool:
        # the free memory is measured with ``held`` already in use
        return self.free is None or self.memory.to_allocate <= self.free * HEADROOM

    @property
    def epoch_seconds(self) -> float | None:
        if self.step_seconds is None or self.batches_per_epoch is None:
            return None
        return self.step_seconds * self.batches_per_epoch * 1.15  # + validation (forward only)

    def largest_batch(self) -> int:
        """The largest power-of-two batch that fits (0 when not even one sample does)."""
        if self.free is None:
            return self.batch_size
        fixed = self.memory.to_allocate - self.memory.per_sample * self.batch_size
        room = self.free * HEADROOM - fixed
        if room < self.memory.per_sample or self.memory.per_sample <= 0:
            return 0
        most = int(room // self.memory.per_sample)
        return 1 << (most.bit_length() - 1)

    def sentence(self, gpu_available: bool = False) -> str:
        need = f"needs ~{format_size(self.memory.total)}"
        if self.memory.held:
            need += (f" ({format_size(self.memory.held)} held now by ConvScope and its "
                     f"libraries, {format_size(self.memory.to_allocate)} more for this run)")
        where = "the GPU" if self.device.startswith("cuda") else "this machine"
        if self.free is None:
            return f"{need} (free memory unknown here)"
        if self.fits:
            text = f"{need} of {format_size(self.free)} free on {where}"
            if self.epoch_seconds is not None:
                text += f"; about {_duration(self.epoch_seconds)} per epoch"
            return text
        options = []
        batch = self.largest_batch()
        if 0 < batch < self.batch_size:
            options.append(f"lower the batch to {batch}")
        if gpu_available and not self.device.startswith("cuda"):
            options.append("train on the GPU")
        if not options:
            options.append("use a smaller model")
        return f"{need}; {where} has {format_size(self.free)} free: {' or '.join(options)}"

    def to_dict(self, gpu_available: bool = False) -> dict[str, Any]:
        return {"device": self.device, "batch_size": self.batch_size,
                "memory": self.memory.to_dict(), "free": self.free, "fits": self.fits,
                "step_seconds": self.step_seconds, "batches_per_epoch": self.batches_per_epoch,
                "epoch_seconds": self.epoch_seconds, "message": self.sentence(gpu_available)}


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.1f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def preflight(spec: ModelSpec, batch_size: int, device: str = "cpu", optimizer: str = "adam",
              momentum: float = 0.9, mixed_precision: bool = False, dataset_bytes: int = 0,
              train_samples: int | None = None, measure: bool = False,
              weight_decay: float = 1e-4) -> Preflight:
    """The estimate for training ``spec``; ``measure`` times one real step when it fits."""
    amp = mixed_precision and device.startswith("cuda")
    memory = training_memory(spec, batch_size, optimizer, momentum, amp, dataset_bytes,
                             weight_decay=weight_decay)
    if not device.startswith("cuda"):  # in this process's memory: what it holds already
        memory = replace(memory, held=max(0, held_since_start() - dataset_bytes))
    result = Preflight(device, batch_size, memory, free_memory(device),
                       batches_per_epoch=(math.ceil(train_samples / batch_size)
                                          if train_samples else None))
    if measure and result.fits:
        step = measure_step(spec, batch_size, device, optimizer)
        result = Preflight(device, batch_size, memory, result.free, step.seconds,
                           result.batches_per_epoch)
    return result
