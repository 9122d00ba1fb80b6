"""Longest work first, so that the xdist workers finish together.

Under ``--dist loadgroup --no-loadscope-reorder`` xdist hands out work units (a test, or every
test of one ``xdist_group``) in collection order. This plugin orders the collection by the
durations recorded in ``tests/durations.json``: an xdist group, or an ungrouped module (kept
whole, so that its module-scoped fixtures are made once per worker), comes before every unit
that took less time. Within a unit the order is pytest's own (parametrized module fixtures
stay together). A test with no recorded duration counts as ``UNKNOWN_SECONDS``.

``pytest --record-durations`` writes the figures of the run into the file (setup, call and
teardown of every test; entries of tests that did not run are kept), so that a full run
refreshes it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

DURATIONS = Path(__file__).with_name("durations.json")
UNKNOWN_SECONDS = 0.3


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--record-durations", action="store_true", default=False,
                     help=f"write each test's duration into {DURATIONS.name} at the end")


def _plain_id(nodeid: str) -> str:
    """The node id without the ``@group`` suffix that xdist's loadgroup adds."""
    if nodeid.rfind("@") > nodeid.rfind("]"):
        return nodeid.rsplit("@", 1)[0]
    return nodeid


def read_durations(path: Path = DURATIONS) -> dict[str, float]:
    """The recorded seconds by node id; a missing or unreadable file is an empty record (the
    order then stays pytest's), never an error."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(key): float(value) for key, value in data.items()
            if isinstance(value, int | float) and math.isfinite(value) and value >= 0}


def _unit(item: pytest.Item) -> str:
    groups = sorted(str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                    for mark in item.iter_markers("xdist_group"))
    return "group:" + "_".join(groups) if groups else "module:" + item.nodeid.split("::")[0]


def longest_first(items: list[pytest.Item], durations: dict[str, float]) -> list[pytest.Item]:
    """``items`` with whole units ordered by their recorded total seconds, longest first; ties
    (and units never timed) keep their collection order."""
    units: dict[str, list[pytest.Item]] = {}
    for item in items:
        units.setdefault(_unit(item), []).append(item)
    totals = {name: sum(durations.get(_plain_id(item.nodeid), UNKNOWN_SECONDS)
                        for item in members) for name, members in units.items()}
    ordered = sorted(units, key=lambda name: -totals[name])  # stable: ties keep their order
    return [item for name in ordered for item in units[name]]


@pytest.hookimpl(trylast=True)  # after xdist has added the group names
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items[:] = longest_first(items, read_durations())


class DurationRecorder:
    """Sums each test's setup, call and teardown seconds; writes them once, at the end."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        key = _plain_id(report.nodeid)
        self.seconds[key] = self.seconds.get(key, 0.0) + report.duration

    def pytest_sessionfinish(self) -> None:
        from core.regular_files import write_atomic

        merged = read_durations() | {key: round(value, 2) for key, value in self.seconds.items()}
        text = json.dumps(dict(sorted(merged.items())), indent=0) + "\n"
        write_atomic(DURATIONS, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def pytest_configure(config: pytest.Config) -> None:
    # the controller (or a run without xdist) records: it sees every worker's reports
    if config.getoption("--record-durations") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(DurationRecorder(), "convscope-duration-recorder")
