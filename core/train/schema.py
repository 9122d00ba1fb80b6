"""Rules for values read from a file or typed by a user: one check, one sentence per problem.

The training settings (command line, Train tab, a run's training.json) and the rest of
training.json are described as tables of Rules, so each value is checked the same way wherever
it comes from, and a failure reads "batch_size must be a whole number from 1 to 65536, found
1.5". Plain data, no torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from core.model.errors import quote

Kind = Literal["int", "number", "bool", "choice", "text"]


def _num(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class Rule:
    """What one value may be: its kind, its range (``above``/``below``: bounds excluded)."""

    kind: Kind
    low: float | None = None
    high: float | None = None
    above: bool = False
    below: bool = False
    choices: tuple[str, ...] = ()
    optional: bool = False
    """null is allowed."""

    def words(self) -> str:
        if self.kind == "bool":
            text = "true or false"
        elif self.kind == "choice":
            text = "one of " + ", ".join(self.choices)
        elif self.kind == "text":
            text = "a string"
        else:
            text = "a whole number" if self.kind == "int" else "a number"
            if self.low is not None and self.high is not None and not (self.above or self.below):
                text += f" from {_num(self.low)} to {_num(self.high)}"
            else:
                if self.low is not None:
                    text += f" above {_num(self.low)}" if self.above else f" ≥ {_num(self.low)}"
                if self.high is not None:
                    joint = " and" if self.low is not None else ""
                    text += (f"{joint} below {_num(self.high)}" if self.below
                             else f"{joint} at most {_num(self.high)}")
        return text + (", or null" if self.optional else "")

    def accepts(self, value: Any) -> bool:
        if value is None:
            return self.optional
        if self.kind == "bool":
            return isinstance(value, bool)
        if self.kind == "choice":
            return isinstance(value, str) and value in self.choices
        if self.kind == "text":
            return isinstance(value, str)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if self.kind == "int" and not isinstance(value, int):
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.above else value < self.low):
            return False
        return not (self.high is not None
                    and (value >= self.high if self.below else value > self.high))

    def problem(self, name: str, value: Any) -> str | None:
        """None when ``value`` is acceptable, else "name must be …, found …"."""
        if self.accepts(value):
            return None
        return f"{name} must be {self.words()}, found {quote(value)}"


def check_table(rules: dict[str, Rule], values: dict[str, Any], prefix: str = "") -> list[str]:
    """The problems of the ``values`` that ``rules`` names (missing keys are not checked)."""
    return [problem for name, rule in rules.items() if name in values
            for problem in [rule.problem(prefix + name, values[name])] if problem]
