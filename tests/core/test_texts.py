"""Text datasets: folders of .txt per class in both layouts, CSV/TSV tables, IMDB offline, the
bundled phrases, the vocabulary (training split only, saved with the run) and bad files."""

from __future__ import annotations

import json
import os
import urllib.error
from pathlib import Path

import pytest
import torch
from PIL import Image

from core.cli import main
from core.data import texts
from core.data.adapt import BatchPreparer
from core.data.datasets import DataError, load_dataset, split_options
from core.data.vocabulary import OOV, PAD, Vocabulary, load_vocabulary, save_vocabulary, tokenize

POSITIVE = ["a good film", "really great acting", "good fun and great music", "i loved it"]
NEGATIVE = ["a bad film", "really awful acting", "bad plot and awful music", "i hated it"]


def write_class_texts(folder: Path, count: int = 12) -> None:
    for name, lines in (("pos", POSITIVE), ("neg", NEGATIVE)):
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            (folder / name / f"{i}_7.txt").write_text(f"{lines[i % 4]} <br /> number {i}.")


def fake_aclimdb(root: Path) -> Path:
    folder = root / "aclImdb"
    for split in ("train", "test"):
        write_class_texts(folder / split, 10)
        (folder / split / "labeledBow.feat").write_text("0 0:1\n")
    (folder / "train" / "unsup").mkdir()
    (folder / "train" / "unsup" / "0_0.txt").write_text("unlabelled words only here")
    (folder / "imdb.vocab").write_text("the\n")
    return folder


def test_tokenize_drops_markup_and_punctuation() -> None:
    assert tokenize("Not GOOD.<br />It isn't, really!") == ["not", "good", "it", "isn't",
                                                           "really"]


def test_folder_per_class_is_split_and_encoded_at_the_model_length(tmp_path: Path) -> None:
    write_class_texts(tmp_path)
    data = load_dataset(str(tmp_path), (16,))
    assert data.classes == ["neg", "pos"] and data.is_text
    assert len(data.train) + len(data.val) + len(data.test) == 24
    assert data.train.images.dtype == torch.int64 and data.train.images.shape[1] == 16
    vocab = data.vocabulary
    assert vocab is not None and vocab.words[:2] == ["<pad>", "<unk>"]
    assert data.train.images[0, -1] == PAD  # short texts padded with 0 at the end
    assert "texts" in data.describe() and any("vocabulary of" in n for n in data.notes)


def test_train_and_test_folders_used_as_given_and_unsup_ignored(tmp_path: Path) -> None:
    folder = fake_aclimdb(tmp_path)
    data = load_dataset(str(folder), (12,))
    assert data.classes == ["neg", "pos"]
    assert len(data.test) == 20 and len(data.train) + len(data.val) == 20
    assert any("unsup" in n for n in data.notes) and any("train/, test/" in n for n in data.notes)
    vocab = data.vocabulary
    assert vocab is not None and "unlabelled" not in vocab.words


def test_the_vocabulary_comes_from_the_training_split_only(tmp_path: Path) -> None:
    write_class_texts(tmp_path / "train", 10)
    write_class_texts(tmp_path / "val", 3)
    write_class_texts(tmp_path / "test", 3)
    (tmp_path / "test" / "pos" / "x.txt").write_text("zebra zebra zebra")
    data = load_dataset(str(tmp_path), (8,))
    assert len(data.train) == 20 and len(data.val) == 6 and len(data.test) == 7
    vocab = data.vocabulary
    assert vocab is not None and "zebra" not in vocab.index
    assert OOV in data.test.images.flatten().tolist()


def test_splits_whose_classes_differ_are_one_line_naming_the_folder(tmp_path: Path) -> None:
    write_class_texts(tmp_path / "train")
    write_class_texts(tmp_path / "test")
    (tmp_path / "test" / "maybe").mkdir()
    with pytest.raises(DataError, match=r"test: its class folders \(maybe, neg, pos\) differ"):
        load_dataset(str(tmp_path), (8,))


def test_image_folders_accept_train_and_test_too(tmp_path: Path) -> None:
    for split, count in (("train", 8), ("test", 3)):
        for index, name in enumerate(("cats", "dogs")):
            (tmp_path / split / name).mkdir(parents=True)
            for i in range(count):
                Image.new("L", (10, 10), color=100 * index + i).save(
                    tmp_path / split / name / f"{i}.png")
    data = load_dataset(str(tmp_path), (1, 8, 8))
    assert data.classes == ["cats", "dogs"] and len(data.test) == 6
    assert len(data.train) + len(data.val) == 16 and not data.is_text
    (tmp_path / "test" / "cows").mkdir()
    with pytest.raises(DataError, match="differ from train/'s"):
        load_dataset(str(tmp_path), (1, 8, 8))


def test_csv_with_detected_and_named_columns(tmp_path: Path) -> None:
    rows = [("review", "sentiment")] + [(t, "positive") for t in POSITIVE * 5] + [
        (t, "negative") for t in NEGATIVE * 5]
    csv_path = tmp_path / "reviews.csv"
    csv_path.write_text("\n".join(f'"{a}",{b}' for a, b in rows))
    data = load_dataset(str(csv_path), (10,))
    assert data.classes == ["negative", "positive"] and len(data.train) == 28
    tsv = tmp_path / "r.tsv"
    tsv.write_text("id\tbody text\tstars\n" + "\n".join(
        f"{i}\t{t}\t{i % 2}" for i, t in enumerate((POSITIVE + NEGATIVE) * 4)))
    named = load_dataset(f"{tsv}:text=body text,label=stars", (10,))
    assert named.classes == ["0", "1"] and named.name.endswith(":text=body text,label=stars")
    with pytest.raises(DataError, match=r"no column named 'words'; its columns are id, body"):
        load_dataset(f"{tsv}:text=words,label=stars", (10,))
    with pytest.raises(DataError, match="no text column found"):
        load_dataset(str(tsv), (10,))


def test_options_and_shapes_are_checked_in_one_line(tmp_path: Path) -> None:
    assert split_options(r"C:\data\reviews.csv") == (r"C:\data\reviews.csv", {})
    assert split_options("a.csv:text=t,vocab=50") == ("a.csv", {"text": "t", "vocab": "50"})
    with pytest.raises(DataError, match="text dataset options are"):
        split_options("a.csv:colour=red")
    with pytest.raises(DataError, match="vocabulary size must be"):
        load_dataset("phrases:vocab=9000", (20,), vocabulary_size=5000)
    with pytest.raises(DataError, match="a text model takes a sequence of word ids"):
        load_dataset("phrases", (1, 28, 28))


@pytest.mark.parametrize("bad", ["binary", "empty class", "huge", "fifo"])
def test_bad_files_are_one_line_naming_the_file(tmp_path: Path, bad: str) -> None:
    write_class_texts(tmp_path)
    target = tmp_path / "pos" / "bad.txt"
    if bad == "binary":
        target.write_bytes(b"\x7fELF\x00\x01\x02" * 50)
    elif bad == "empty class":
        (tmp_path / "meh").mkdir()
        target = tmp_path / "meh"
    elif bad == "huge":
        target.write_bytes(b"word " * (texts.TEXT_FILE_LIMIT // 5 + 1))
    else:
        os.mkfifo(target)  # opened without blocking, refused
    with pytest.raises(DataError) as caught:
        load_dataset(str(tmp_path), (8,))
    message = str(caught.value)
    assert str(target) in message and "\n" not in message


def test_text_that_is_not_utf8_is_replaced_and_said(tmp_path: Path) -> None:
    write_class_texts(tmp_path)
    (tmp_path / "pos" / "latin.txt").write_bytes("très bon café".encode("latin-1"))
    data = load_dataset(str(tmp_path), (8,))
    assert any("not UTF-8" in n and "latin.txt" in n for n in data.notes)


def test_imdb_offline_message_says_where_to_put_the_archive(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(root: Path) -> None:
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(texts, "_download_imdb", offline)
    with pytest.raises(DataError) as caught:
        load_dataset("imdb", (400,), root=tmp_path)
    message = str(caught.value)
    assert "could not be downloaded (URLError" in message
    assert f"put aclImdb_v1.tar.gz in {tmp_path}" in message and "phrases" in message
    with pytest.raises(DataError, match=r"imdb is not on this computer\. Download"):
        load_dataset("imdb", (400,), root=tmp_path, download=False)


def test_imdb_reads_the_unpacked_folder(tmp_path: Path) -> None:
    fake_aclimdb(tmp_path)
    data = load_dataset("imdb", (20,), root=tmp_path, download=False)
    assert data.name == "imdb" and data.classes == ["neg", "pos"] and len(data.test) == 20


def test_phrases_are_deterministic_and_need_the_negation() -> None:
    first, second = texts.phrase_texts(200), texts.phrase_texts(200)
    assert first == second and sum(first[1]) == 100
    data = load_dataset("phrases", (400,))
    assert len(data.train) == 2100 and data.classes == ["negative", "positive"]
    joined = [" ".join(t) for t in first[0]]
    assert any("not good" in t or "far from good" in t for t, y in zip(joined, first[1],
                                                                      strict=True) if y == 0)


def test_vocabulary_file_round_trip_and_damage(tmp_path: Path) -> None:
    vocab = Vocabulary.build([["b", "a", "b"]], 10, 7)
    assert vocab.words == ["<pad>", "<unk>", "b", "a"] and vocab.encode(["a", "z"]) == [
        3, OOV, 0, 0, 0, 0, 0]
    save_vocabulary(tmp_path, vocab)
    loaded = load_vocabulary(tmp_path)
    assert loaded is not None and loaded.words == vocab.words and loaded.length == 7
    (tmp_path / "vocabulary.txt").write_text("garbage\n")
    with pytest.raises(DataError, match=r"vocabulary\.txt: the first line"):
        load_vocabulary(tmp_path)
    assert load_vocabulary(tmp_path / "nothing") is None


def test_the_batch_preparer_passes_word_ids_and_fits_the_length(tmp_path: Path) -> None:
    write_class_texts(tmp_path)
    data = load_dataset(str(tmp_path), (6,))
    prepare = BatchPreparer(data, (9,))
    x = prepare(data.train.images[:4])
    assert x.dtype == torch.int64 and x.shape == (4, 9) and (x[:, 6:] == 0).all()
    assert prepare.mean.tolist() == [0.0] and prepare.std.tolist() == [1.0]
    with pytest.raises(DataError, match="holds texts"):
        BatchPreparer(data, (1, 8, 8))


TINY_TEXT_MODEL = {
    "format": "convscope.model/1", "name": "tiny-text", "task": "classification",
    "input": {"shape": [12], "dtype": "int64"},
    "layers": [
        {"name": "embedding", "type": "Embedding", "num_embeddings": 40, "embedding_dim": 8},
        {"name": "to_channels", "type": "Transpose", "dim0": 1, "dim1": 2},
        {"name": "conv", "type": "Conv1d", "out_channels": 8, "kernel_size": 2},
        {"name": "relu", "type": "ReLU"},
        {"name": "flatten", "type": "Flatten"},
        {"name": "output", "type": "Linear", "out_features": 2},
    ],
}


def test_cli_trains_a_text_model_and_keeps_the_vocabulary(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_class_texts(tmp_path / "data")
    model = tmp_path / "tiny.json"
    model.write_text(json.dumps(TINY_TEXT_MODEL))
    assert main(["train", str(model), "--dataset", str(tmp_path / "data"), "--epochs", "1",
                 "--out", str(tmp_path / "runs"), "--json"]) == 0
    run = next((tmp_path / "runs").iterdir())
    vocab = load_vocabulary(run)
    assert vocab is not None and vocab.length == 12 and vocab.size <= 40
    assert main(["train", "--resume", str(run), "--epochs", "2", "--json"]) == 0
    assert "vocabulary of" in capsys.readouterr().out
