"""torch.fx patches every module's call for the whole process while it traces: an import on a
worker must not break a model that another thread runs at that moment (an import's shape check,
a training step, an inspection), and two imports at once must both trace right."""

from __future__ import annotations

import threading
from typing import Any

import torch
from torch import nn

from core.io.fx_import import trace_module


class _RunsOthersMidTrace(nn.Module):
    """While it is being traced, starts ``during`` on another thread (and waits for it unless
    ``wait`` is False): the other thread's work begins while fx's patches are in place."""

    def __init__(self, during: Any, wait: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.during, self.wait = during, wait
        self.other: threading.Thread | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.other = threading.Thread(target=self.during)
        self.other.start()
        if self.wait:
            self.other.join(120)
        return torch.relu(self.conv(x))


def test_a_model_run_on_another_thread_during_a_trace_runs_as_usual() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    x = torch.randn(2, 1, 8, 8)
    expected = model(x)
    seen: dict[str, Any] = {}

    def run_model() -> None:
        try:
            seen["out"] = model(x)
        except Exception as exc:  # before the fix: NameError from fx's path_of_module
            seen["error"] = exc

    traced = trace_module(_RunsOthersMidTrace(run_model))
    assert "error" not in seen, seen.get("error")
    assert torch.equal(seen["out"], expected)
    assert [n.op for n in traced.graph.nodes].count("call_module") == 1  # only the conv


def test_two_traces_at_once_both_record_their_own_graph() -> None:
    other: dict[str, Any] = {}

    def trace_another() -> None:
        try:
            other["graph"] = trace_module(nn.Sequential(nn.Conv2d(1, 1, 1), nn.Sigmoid(),
                                                        nn.Conv2d(1, 1, 1)))
        except Exception as exc:
            other["error"] = exc

    module = _RunsOthersMidTrace(trace_another, wait=False)
    mine = trace_module(module)  # the other trace starts meanwhile, and waits its turn
    assert module.other is not None
    module.other.join(120)
    assert "error" not in other, other.get("error")
    assert [n.target for n in other["graph"].graph.nodes if n.op == "call_module"] == [
        "0", "1", "2"]
    assert [n.target for n in mine.graph.nodes if n.op == "call_module"] == ["conv"]
