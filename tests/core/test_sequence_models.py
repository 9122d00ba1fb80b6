"""Text (token ids → Embedding → Transpose → Conv1d) and video (Conv3d, 3-D pooling) models."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from core.analysis.model_analysis import analyze_model
from core.build import build_model, example_input
from core.model.errors import ModelError
from core.model.spec import FORMAT, model_from_dict
from tests.core.torch_reference import run_reference


def text_model(length: int, vocabulary: int, dims: int, filters: int, kernel: int,
               pool: int) -> dict[str, Any]:
    return {"format": FORMAT, "name": "text", "input": {"shape": [length], "dtype": "int64"},
            "layers": [
                {"name": "embed", "type": "Embedding", "num_embeddings": vocabulary,
                 "embedding_dim": dims},
                {"name": "swap", "type": "Transpose"},
                {"name": "conv", "type": "Conv1d", "out_channels": filters,
                 "kernel_size": kernel},
                {"name": "pool", "type": "MaxPool1d", "kernel_size": pool},
                {"name": "flat", "type": "Flatten"},
                {"name": "out", "type": "Linear", "out_features": 1}]}


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 30), st.integers(1, 50), st.integers(1, 8), st.integers(1, 6),
       st.integers(1, 4), st.integers(1, 3))
def test_text_models_agree_with_torch(length: int, vocabulary: int, dims: int, filters: int,
                                      kernel: int, pool: int) -> None:
    spec = model_from_dict(text_model(length, vocabulary, dims, filters, kernel, pool))
    analysis = analyze_model(spec)
    reference = run_reference(spec)
    ours = [(a.output_shape, a.params) for a in analysis.layers]
    assert ours == list(zip(reference.shapes, reference.params, strict=True))
    if reference.refused_at is None:
        assert analysis.ok, analysis.error
    else:
        assert analysis.error is not None
        assert analysis.error.layer == spec.layers[reference.refused_at].name


def test_the_embedding_output_is_length_by_dims_and_the_transpose_makes_it_dims_by_length(
        ) -> None:
    spec = model_from_dict(text_model(400, 5000, 50, 64, 3, 2))
    analysis = analyze_model(spec)
    assert analysis.get("embed").output_shape == (400, 50)  # type: ignore[union-attr]
    assert analysis.get("swap").output_shape == (50, 400)  # type: ignore[union-attr]
    assert analysis.get("conv").output_shape == (64, 398)  # type: ignore[union-attr]
    model = build_model(spec).eval()
    tokens = example_input(spec, 3)
    assert tokens.dtype == torch.int64 and int(tokens.max()) < 5000
    with torch.no_grad():
        outputs = model.forward_all(tokens)
    assert tuple(outputs["swap"].shape) == (3, 50, 400)
    assert torch.equal(outputs["swap"], outputs["embed"].transpose(1, 2))


def test_token_ids_and_embeddings_go_together() -> None:
    floats = text_model(10, 20, 4, 3, 3, 2)
    floats["input"] = {"shape": [10]}
    error = analyze_model(model_from_dict(floats)).error
    assert error is not None and error.layer == "embed" and "token ids" in str(error)
    no_embedding = text_model(10, 20, 4, 3, 3, 2)
    no_embedding["layers"] = no_embedding["layers"][2:]
    error = analyze_model(model_from_dict(no_embedding)).error
    assert error is not None and error.layer == "conv" and "Embedding first" in str(error)
    with pytest.raises(ModelError, match="dtype"):
        model_from_dict({**floats, "input": {"shape": [10], "dtype": "int8"}})


def test_the_dtype_round_trips_and_float_files_stay_as_they_were() -> None:
    spec = model_from_dict(text_model(12, 30, 4, 3, 3, 2))
    assert spec.to_dict()["input"] == {"shape": [12], "dtype": "int64"}
    assert model_from_dict(spec.to_dict()) == spec
    image = model_from_dict({"format": FORMAT, "name": "i", "input": {"shape": [1, 4, 4]},
                             "layers": [{"type": "ReLU"}]})
    assert image.to_dict()["input"] == {"shape": [1, 4, 4]}


def test_3d_average_pooling_needs_the_window_to_fit_the_unpadded_input() -> None:
    """Found by the property test: torch's avg_pool3d refuses a 2×2×2 window on a 1×1×1 input
    even with ceil_mode (its 2-D and max-pool siblings accept it)."""
    data = {"format": FORMAT, "name": "v", "input": {"shape": [1, 1, 1, 1]},
            "layers": [{"name": "p0", "type": "AvgPool3d", "kernel_size": 2, "ceil_mode": True}]}
    spec = model_from_dict(data)
    reference = run_reference(spec)
    assert reference.refused_at == 0
    error = analyze_model(spec).error
    assert error is not None and error.layer == "p0" and "larger than its 1×1×1" in str(error)
