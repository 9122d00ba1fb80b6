"""Text dataset options recorded in the dataset's name (what a run stores), a table's columns
read from its header, and one initialiser for the whole model (issue 20 §1 and §5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.data.datasets import DataError, load_dataset
from core.data.texts import table_columns
from core.model.editing import set_layer_init, set_model_init
from core.model.errors import ModelError
from core.presets import load_preset


def test_the_vocabulary_size_is_part_of_the_name_a_run_records(tmp_path: Path) -> None:
    data = load_dataset("phrases:vocab=40", (30,))
    assert data.name == "phrases:vocab=40"
    assert data.vocabulary is not None and data.vocabulary.size == 40
    again = load_dataset(data.name, (30,), vocabulary=data.vocabulary)  # a resumed run
    assert again.name == data.name
    table = tmp_path / "reviews.csv"
    table.write_text("review,stars\n" + "".join(
        f"{'good' if i % 2 else 'bad'} film {i},{i % 2}\n" for i in range(60)))
    named = load_dataset(f"{table}:text=review,label=stars,vocab=20", (8,))
    assert named.name == f"{table.resolve()}:text=review,label=stars,vocab=20"
    assert load_dataset(f"{table}:text=review,label=stars", (8,)).name.endswith("label=stars")
    assert load_dataset("phrases", (30,)).name == "phrases"


def test_a_tables_header_and_the_columns_found_by_name(tmp_path: Path) -> None:
    table = tmp_path / "t.tsv"
    table.write_text("id\tSentence\tstars\n1\ta fine film\t5\n")
    assert table_columns(table) == (["id", "Sentence", "stars"], 1, None)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match=r"empty\.csv: empty; it needs a header row"):
        table_columns(empty)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"a,b\0\n")
    with pytest.raises(DataError, match=r"bin\.csv: looks binary"):
        table_columns(binary)
    with pytest.raises(DataError, match=r"missing\.csv: cannot be read"):
        table_columns(tmp_path / "missing.csv")


def test_one_initialiser_for_the_whole_model_drops_the_layers_own() -> None:
    spec = set_layer_init(load_preset("digits_small"), "conv1", "he_normal")
    whole = set_model_init(spec, "glorot_normal")
    assert whole.init is not None and whole.init.weights == "glorot_normal"
    assert dict(whole.init.layers) == {} and whole.init.biases == "default"
    zeros = set_model_init(whole, "glorot_normal", "zeros")
    assert zeros.init is not None and zeros.init.biases == "zeros"
    assert set_model_init(spec, "default").init is None  # nothing left: no "init" in the file
    with pytest.raises(ModelError, match="must be one of default, glorot_uniform"):
        set_model_init(spec, "lecun")
    with pytest.raises(ModelError, match="biases must be one of default, zeros"):
        set_model_init(spec, "default", "ones")
