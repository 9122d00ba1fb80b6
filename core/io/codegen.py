"""The one writer of generated Python: user values only as literals, the result checked.

Model names, descriptions, run-folder names and dataset strings come from files people share.
Generated code must never run them: every such value reaches the code through ``literal``
(a Python literal that ``ast.literal_eval`` reads back to the same value), never raw into a
docstring, a comment or a name. Before a generated file is written, ``check_source`` compiles
it and checks its top level holds only the statements the generator writes, so a slip in a
template cannot turn into code that runs on ``import``. ``write_source`` then writes it
all-or-nothing.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path
from typing import Any

from core.model.errors import ModelError
from core.regular_files import write_atomic

_PLAIN = (str, int, bool, type(None))


def literal(value: Any) -> str:
    """``value`` (str, int, float, bool, None, and lists, tuples, dicts of them) as a Python
    literal; TypeError for anything else (an object has no safe spelling)."""
    if isinstance(value, _PLAIN):
        return repr(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return repr(value)
        return f"float({str(value)!r})"  # nan / inf / -inf
    if isinstance(value, list | tuple):
        items = ", ".join(literal(v) for v in value)
        if isinstance(value, tuple):
            return f"({items},)" if len(value) == 1 else f"({items})"
        return f"[{items}]"
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str | int):
                raise TypeError(f"a generated dict key must be a str or int, not {type(key)}")
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no Python literal for a {type(value).__name__}")


def safe_text(text: str, limit: int = 200) -> str:
    """``text`` reduced to what may sit inside a docstring or comment of generated code: letters,
    digits, spaces and ``-_.,:()+×`` only (no quote, backslash, newline or ``#``), cut to
    ``limit`` characters. For reading only; the value itself goes through ``literal``."""
    kept = "".join(c if (c.isalnum() and c.isprintable()) or c in " -_.,:()+×" else " "
                   for c in text)
    return " ".join(kept.split())[:limit]


def module_name(stem: str) -> str | None:
    """``stem`` when ``import stem`` works (an identifier, not a keyword), else None."""
    import keyword

    return stem if stem.isidentifier() and not keyword.iskeyword(stem) else None


_TOP_LEVEL = (ast.Import, ast.ImportFrom, ast.ClassDef, ast.FunctionDef, ast.Assign,
              ast.AnnAssign)


def check_source(source: str, names: set[str], imports: set[str]) -> None:
    """Compile ``source`` and check its top level: docstrings, imports of ``imports`` only,
    classes, functions and assignments of ``names`` only (assigned values: literals or a call
    of ``json.loads`` on one), and an ``if __name__ == "__main__":`` block. ModelError if not:
    the generator produced something it never writes, so nothing is written."""
    try:
        tree = ast.parse(source)
        compile(tree, "<generated>", "exec")
    except (SyntaxError, ValueError) as exc:
        raise ModelError(f"the generated code does not compile ({exc}); nothing was "
                         "written. Please report this with the model file") from None

    def refuse(node: ast.stmt, what: str) -> None:
        raise ModelError(f"the generated code has an unexpected {what} at line {node.lineno}; "
                         "nothing was written. Please report this with the model file")

    for node in tree.body:
        if isinstance(node, ast.Expr):
            if not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
                refuse(node, "expression")
        elif isinstance(node, ast.If):
            test = node.test
            if not (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
                    and test.left.id == "__name__" and len(test.comparators) == 1
                    and isinstance(test.comparators[0], ast.Constant)
                    and test.comparators[0].value == "__main__" and not node.orelse):
                refuse(node, "if statement")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""])
            if any(m not in imports for m in modules):
                refuse(node, f"import of {modules}")
        elif isinstance(node, ast.ClassDef | ast.FunctionDef):
            if node.name not in names:
                refuse(node, f"definition of {node.name!r}")
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if not all(isinstance(t, ast.Name) and t.id in names for t in targets):
                refuse(node, "assignment")
            value = node.value
            if isinstance(value, ast.Call) and ast.unparse(value.func) == "json.loads":
                if len(value.args) != 1 or value.keywords:
                    refuse(node, "call")
                value = value.args[0]
            if value is not None:
                try:
                    ast.literal_eval(value)
                except ValueError:
                    if not _is_float_call(value):
                        refuse(node, "computed value")
        else:
            refuse(node, type(node).__name__)


def _is_float_call(node: ast.expr) -> bool:
    """``float('nan')`` and the like, which ``literal`` writes for non-finite numbers, inside
    tuples and lists of literals."""
    if isinstance(node, ast.Call):
        return (isinstance(node.func, ast.Name) and node.func.id == "float"
                and len(node.args) == 1 and not node.keywords
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value in ("nan", "inf", "-inf"))
    if isinstance(node, ast.Tuple | ast.List):
        for item in node.elts:
            try:
                ast.literal_eval(item)
            except ValueError:
                if not _is_float_call(item):
                    return False
        return True
    return False


def write_source(path: Path, source: str) -> None:
    """Write ``source`` to ``path`` all-or-nothing (a temporary file renamed into place)."""
    write_atomic(path, lambda p: p.write_text(source, encoding="utf-8"))
