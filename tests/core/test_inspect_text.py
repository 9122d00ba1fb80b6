"""Inspecting a text model (issue 20 §1): a Conv1d filter's activation along the words, its top
n-grams over the validation split, saliency per word and the top-k, on a model whose filter is
set by hand to detect "not good" (so every answer is known)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.data.datasets import load_dataset
from core.inspect import text as inspect_text
from core.inspect.inspector import InspectError, Inspector
from core.model.spec import model_from_dict
from core.presets import load_preset

LENGTH = 40


def _detector() -> tuple[Inspector, inspect_text.TextSource]:
    """Embedding one-hot over the phrases' vocabulary; conv1's filter 0 fires on "not good"
    (word i at offset 0, word j at offset 1) and the output is that filter's peak."""
    data = load_dataset("phrases", (LENGTH,), vocabulary_size=200)
    vocabulary = data.vocabulary
    assert vocabulary is not None
    size = vocabulary.size
    spec = model_from_dict({
        "format": "convscope.model/1", "name": "not-good", "task": "classification",
        "input": {"shape": [LENGTH], "dtype": "int64"},
        "layers": [
            {"name": "embedding", "type": "Embedding", "num_embeddings": size,
             "embedding_dim": size},
            {"name": "to_channels", "type": "Transpose", "dim0": 1, "dim1": 2},
            {"name": "conv1", "type": "Conv1d", "out_channels": 2, "kernel_size": 2},
            {"name": "relu1", "type": "ReLU"},
            {"name": "pool1", "type": "MaxPool1d", "kernel_size": 2},
            {"name": "pool2", "type": "AdaptiveMaxPool1d", "output_size": 1},
            {"name": "flatten", "type": "Flatten"},
            {"name": "output", "type": "Linear", "out_features": 2},
        ]})
    inspector = Inspector(spec)
    model = inspector.model.layers
    with torch.no_grad():
        model["embedding"].weight.copy_(torch.eye(size))
        conv = model["conv1"]
        conv.weight.zero_()
        conv.bias.zero_()
        conv.weight[0, vocabulary.index["not"], 0] = 1.0
        conv.weight[0, vocabulary.index["good"], 1] = 1.0
        conv.weight[1, vocabulary.index["great"], 0] = 0.5
        out = model["output"]
        out.weight.copy_(torch.tensor([[0.0, 0.0], [1.0, 0.0]]))
        out.bias.zero_()
    return inspector, inspect_text.TextSource(vocabulary, data, "test")


def test_sequence_layers_track_the_words_each_position_sees() -> None:
    fields = inspect_text.sequence_layers(load_preset("text_cnn"))
    assert list(fields) == ["conv1", "relu1", "pool1", "conv2", "relu2"]  # not the global pool
    windows = inspect_text.word_windows(fields["conv2"], 197, 400)
    # conv2's position p: pool1 positions p..p+2, each two conv1 positions of three words
    assert windows[0].tolist() == [0, 8] and windows[5].tolist() == [10, 18]
    assert inspect_text.word_windows(fields["pool1"], 199, 400)[3].tolist() == [6, 10]
    assert inspect_text.sequence_layers(load_preset("digits_small")) == {}


def test_the_filter_fires_under_its_words_and_its_top_ngram_is_not_good() -> None:
    inspector, source = _detector()
    text = inspect_text.read_text(source.vocabulary, "the plot was not good and zzyzx")
    assert text.unknown == ("zzyzx",)
    strip = inspect_text.word_strip(inspector, text, "conv1", 0)
    assert strip.values.tolist() == [0, 0, 0, 2, 2, 0, 0]  # "not good": both words at 2
    assert inspect_text.word_strip(inspector, text, "conv1").strongest == 0
    pooled = inspect_text.word_strip(inspector, text, "pool1", 0)
    assert pooled.values[3] == pooled.values[4] == 2  # a pool window of 3 words holding it
    grams = inspect_text.top_ngrams(inspector, source, "conv1", 0, k=3)
    assert grams[0].words == "not good" and grams[0].activation == pytest.approx(2.0)
    assert len({g.words for g in grams}) == len(grams)
    # the n-gram comes from that validation text
    sample = inspect_text.sample_text(source.vocabulary, source.data, grams[0].sample)
    assert "not good" in " ".join(sample.words)
    with pytest.raises(InspectError, match="has no output along the words; choose one of"):
        inspect_text.word_strip(inspector, text, "flatten", 0)
    with pytest.raises(InspectError, match="filter 5 does not exist"):
        inspect_text.top_ngrams(inspector, source, "conv1", 5)


def test_saliency_points_at_the_detected_words_and_top_k_ranks_the_classes() -> None:
    inspector, source = _detector()
    text = inspect_text.read_text(source.vocabulary, "the plot was not good")
    saliency, target = inspect_text.word_saliency(inspector, text, 1)
    assert target == 1
    assert np.argsort(-saliency)[:2].tolist() in ([3, 4], [4, 3])  # "not", "good"
    assert saliency[3] == pytest.approx(1.0) and saliency[0] == pytest.approx(0.0)
    top = inspect_text.text_top_k(inspector, text)
    assert top[0].index == 1 and top[0].probability == pytest.approx(
        float(np.exp(2) / (1 + np.exp(2))), abs=1e-5)
    with pytest.raises(InspectError, match="class 7 does not exist"):
        inspect_text.word_saliency(inspector, text, 7)
    with pytest.raises(InspectError, match="no words"):
        inspect_text.read_text(source.vocabulary, "!!! ...")


def test_render_text_writes_the_view_and_refuses_an_image_model(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    from core.cli import main

    out = tmp_path / "text.png"
    assert main(["render", "text", "text_cnn", "--text", "not good at all", "--channel", "3",
                 "-o", str(out)]) == 0
    with Image.open(out) as picture:
        assert picture.size == (1400, 800)
    assert main(["render", "text", "digits_small", "-o", str(out)]) == 2
    assert "this view is for text models" in capsys.readouterr().err
    assert main(["render", "text", "text_cnn", "--channel", "999", "-o", str(out)]) == 2
    assert "filter 999 does not exist" in capsys.readouterr().err
