"""tests/longest_first.py: the collection goes out longest unit first, units kept whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest

from tests.longest_first import UNKNOWN_SECONDS, longest_first, read_durations


class _Item:
    """What the ordering reads of a pytest item: its node id and its xdist_group marks."""

    def __init__(self, nodeid: str, group: str | None = None) -> None:
        self.nodeid = nodeid
        self.marks = [pytest.mark.xdist_group(group).mark] if group else []

    def iter_markers(self, name: str) -> list[Any]:
        return [mark for mark in self.marks if mark.name == name]

    def __repr__(self) -> str:
        return self.nodeid


def _order(items: list[_Item], durations: dict[str, float]) -> list[str]:
    return [item.nodeid for item in longest_first(cast(Any, items), durations)]


def test_the_longest_unit_goes_first_and_modules_and_groups_stay_whole() -> None:
    items = [_Item("a.py::one"), _Item("a.py::two"),
             _Item("b.py::slow@g", "g"), _Item("b.py::quick@g", "g"),
             _Item("c.py::only"), _Item("a.py::three")]
    durations = {"a.py::one": 1.0, "a.py::two": 1.0, "a.py::three": 1.0,
                 "b.py::slow": 20.0, "b.py::quick": 0.1, "c.py::only": 5.0}
    assert _order(items, durations) == ["b.py::slow@g", "b.py::quick@g", "c.py::only",
                                        "a.py::one", "a.py::two", "a.py::three"]


def test_untimed_tests_count_a_little_and_ties_keep_the_collection_order() -> None:
    items = [_Item("a.py::x"), _Item("b.py::y"), _Item("b.py::z"), _Item("c.py::w")]
    # b's two untimed tests outweigh a's one; a and c tie and keep their order
    assert _order(items, {}) == ["b.py::y", "b.py::z", "a.py::x", "c.py::w"]
    assert _order(items, {"c.py::w": 2 * UNKNOWN_SECONDS + 1}) == [
        "c.py::w", "b.py::y", "b.py::z", "a.py::x"]


def test_a_missing_or_broken_record_orders_nothing_and_raises_nothing(tmp_path: Path) -> None:
    assert read_durations(tmp_path / "absent.json") == {}
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    assert read_durations(broken) == {}
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps({"t::a": 2, "t::b": "slow", "t::c": -1, "t::d": 1e999}),
                   encoding="utf-8")
    assert read_durations(odd) == {"t::a": 2.0}


def test_the_recorded_durations_name_tests_that_exist() -> None:
    recorded = read_durations()
    assert recorded, "tests/durations.json is missing or empty: pytest --record-durations"
    root = Path(__file__).resolve().parent.parent
    files = {nodeid.split("::")[0] for nodeid in recorded}
    assert all((root / name).is_file() for name in files), sorted(
        name for name in files if not (root / name).is_file())
