"""Generated code never runs a user's string: names, descriptions, run-folder names and
dataset strings reach exported files only as literals.

Each hostile value carries a payload that, if it ever ran, would create a marker file. The
exported files are executed in a fresh Python process (their top level, as ``import`` runs it,
and ``python train.py --help``) and the marker must not exist; the values must come back
unchanged from the generated constants.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.data.datasets import Dataset
from core.io.codegen import check_source, literal, safe_text
from core.io.export import export_model
from core.io.pytorch_code import pytorch_source
from core.io.train_script import script_source
from core.model.errors import ModelError
from core.model.spec import FORMAT, ModelSpec, model_from_dict
from tests.core.run_folder_helpers import edit_meta, train_tiny

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

MARK = "INJECTED"
_RUN = f"__import__('pathlib').Path('{MARK}').touch()"
HOSTILE = [
    f'x"""; {_RUN}; s[\'\'\'',                       # the reported model name
    f"x'''; {_RUN} #",                                 # the reported dataset
    'r"""; s = \'\'\'',                                # the reported run folder name
    f'"\nif 1: #\n{_RUN}\n',                           # the reported description
    "ends with a backslash \\",
    "back\\slash\\n and \\u0022 and \\x00",
    f'"""\n{_RUN}\n"""',
    f"'''\n{_RUN}\n'''",
    f"{{{_RUN}}} and f'{{{_RUN}}}'",                   # braces, as an f-string would read them
    f"# {_RUN}",
    f"\r{_RUN}\r",
    f"\u2028{_RUN}\u2029 unicode line separators",
    "ünïcödé — 中文 ✓ 🙂",
    "__CLASS_SOURCE__ __DATASET__ __MODEL_JSON__ __TITLE__",  # the script's placeholders
    f"\\'''\\\"\"\"; {_RUN}",
]


def _spec(name: str, description: str = "") -> ModelSpec:
    return model_from_dict({
        "format": FORMAT, "name": name, "description": description,
        "input": {"shape": [1, 8, 8]},
        "layers": [{"type": "Conv2d", "name": "conv", "out_channels": 2, "kernel_size": 3},
                   {"type": "ReLU"}, {"type": "Flatten"},
                   {"type": "Linear", "name": "head", "out_features": 10}]})


_CHECK = """
import json, runpy, sys
from pathlib import Path
expected = json.loads(Path(sys.argv[1]).read_text())
for path, want in expected.items():
    module = runpy.run_path(path, run_name="exported")
    for key, value in want.items():
        got = module[key]["name"] if key == "MODEL_FILE" else module[key]
        assert got == value, (path, key, got, value)
print("checked", len(expected))
"""


def _run_generated(tmp: Path, expected: dict[str, dict[str, object]]) -> None:
    """Execute every generated file's top level in one fresh process, in ``tmp``."""
    plan = tmp / "expected.json"
    plan.write_text(json.dumps(expected))
    result = subprocess.run([sys.executable, "-c", _CHECK, str(plan)], cwd=tmp,
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (tmp / MARK).exists(), "a generated file ran a user's string"


def test_hostile_names_and_descriptions_never_run_in_the_pytorch_export(tmp_path: Path) -> None:
    expected: dict[str, dict[str, object]] = {}
    for index, text in enumerate(HOSTILE):
        other = HOSTILE[(index + 3) % len(HOSTILE)]
        for name, description in ((text, ""), ("plain", text), (text, text), (text, other)):
            out = tmp_path / f"m{index}_{len(expected)}.py"
            spec = _spec(name, description)  # as the model file reads it (names are stripped)
            result = export_model(spec, "pytorch", out)
            assert out in result.files
            compile(out.read_text(encoding="utf-8"), str(out), "exec")
            expected[str(out)] = {"MODEL_NAME": spec.name, "DESCRIPTION": spec.description}
    _run_generated(tmp_path, expected)


@pytest.fixture(scope="module")
def hostile_runs(tmp_path_factory: pytest.TempPathFactory, digits: Dataset) -> list[Path]:
    """A real run folder, copied under hostile folder names with hostile dataset strings."""
    from core.data.datasets import Split

    base = tmp_path_factory.mktemp("runs")
    small = Dataset("digits", digits.classes, Split(digits.train.images[:128],
                                                    digits.train.labels[:128]),
                    Split(digits.val.images[:32], digits.val.labels[:32]),
                    Split(digits.test.images[:32], digits.test.labels[:32]))
    run = train_tiny(small, base / "made")
    runs = []
    for index, text in enumerate(HOSTILE):
        folder = text.replace("/", "_").replace("\x00", "_")[:200]
        target = base / f"{index}{folder}"
        shutil.copytree(run, target)

        def hostile_dataset(data: dict[str, object], text: str = text) -> None:
            data["dataset"] = text

        edit_meta(target, hostile_dataset)
        runs.append(target)
    return runs


def test_hostile_run_folders_and_datasets_never_run_in_the_training_script(
        tmp_path: Path, hostile_runs: list[Path]) -> None:
    from core.model.spec import load_model

    expected: dict[str, dict[str, object]] = {}
    for index, run in enumerate(hostile_runs):
        spec = load_model(run / "model.json")
        named = dataclasses.replace(spec, name=HOSTILE[index])
        out = tmp_path / f"train{index}.py"
        export_model(named, "script", out, weights=run)
        dataset = json.loads((run / "training.json").read_text())["dataset"]
        expected[str(out)] = {"DATASET": dataset, "ORIGIN": f"the run {run.name}",
                              "MODEL_FILE": HOSTILE[index]}
    _run_generated(tmp_path, expected)
    # the script's own entry point (its docstring feeds argparse) on the worst of them
    result = subprocess.run([sys.executable, str(tmp_path / "train0.py"), "--help"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--dataset" in result.stdout
    assert not (tmp_path / MARK).exists()


@settings(max_examples=150, deadline=None)
@given(name=st.text(min_size=1, max_size=40).filter(str.strip), description=st.text(max_size=60),
       dataset=st.text(max_size=40))
def test_any_text_becomes_a_literal_that_reads_back_unchanged(name: str, description: str,
                                                              dataset: str) -> None:
    spec = _spec(name, description)
    name, description = spec.name, spec.description  # as the model file reads them
    for source in (pytorch_source(spec), script_source(spec, dataset=dataset, origin=dataset)):
        tree = ast.parse(source)
        values = {node.targets[0].id: node.value for node in tree.body
                  if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}
        if "MODEL_NAME" in values:
            assert ast.literal_eval(values["MODEL_NAME"]) == name
            assert ast.literal_eval(values["DESCRIPTION"]) == description
        else:
            assert ast.literal_eval(values["DATASET"]) == dataset
            assert ast.literal_eval(values["ORIGIN"]) == dataset
            model_json = ast.literal_eval(values["MODEL_FILE"].args[0])  # type: ignore[attr-defined]
            assert json.loads(model_json)["name"] == name


def test_literal_reads_back_every_value_it_accepts() -> None:
    values = [0, -1, 2.5, float("nan"), float("inf"), True, None, "a'b\"c\\", [1, (2, 3)],
              {"k": [1.0, "x"]}, (1,), ()]
    for value in values:
        text = literal(value)
        back = eval(text, {"__builtins__": {"float": float}})
        assert repr(back) == repr(value)
    with pytest.raises(TypeError):
        literal(object())


def test_docstring_text_keeps_no_quote_backslash_or_newline() -> None:
    for text in HOSTILE:
        kept = safe_text(text)
        assert not set(kept) & set("'\"\\\n\r#{}\u2028\u2029")


def test_a_generated_file_with_an_unexpected_statement_is_refused() -> None:
    good = pytorch_source(_spec("ok"))
    names = {"Ok", "INPUT_SHAPE", "MODEL_NAME", "DESCRIPTION", "model"}
    check_source(good, names, {"__future__", "pathlib", "torch"})
    for bad in (good + "\n__import__('os').system('true')\n",
                good + "\nMODEL_NAME = open('x').read()\n",
                good + "\nimport subprocess\n",
                good + "\ndef sneaky():\n    pass\n",
                good + "\nif True:\n    pass\n",
                good + '\n"""unclosed'):
        with pytest.raises(ModelError):
            check_source(bad, names, {"__future__", "pathlib", "torch"})


def test_the_usage_line_names_an_importable_module(tmp_path: Path) -> None:
    result = export_model(_spec("digits-small"), "pytorch", tmp_path / "digits-small.py")
    assert "from digits-small import" not in result.how_to_run
    assert "rename it" in result.how_to_run
    result = export_model(_spec("digits-small"), "pytorch", tmp_path / "digits_small.py")
    assert "from digits_small import model" in result.how_to_run


@pytest.mark.parametrize("name", ["True", "none", "false", "add", "concat", "Path", "model",
                                  "input_shape", "123", "---"])
def test_names_that_collide_with_python_or_the_file_still_export(name: str,
                                                                 tmp_path: Path) -> None:
    out = tmp_path / "m.py"
    export_model(_spec(name), "pytorch", out)
    compile(out.read_text(encoding="utf-8"), str(out), "exec")
