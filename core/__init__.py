"""ConvScope's Qt-free core: model files, the layer catalog, analysis, building and training.

Importing ``core`` does not import torch; ``core.build`` and the training code do. The first
import of ``core`` reads the process's memory baseline (core.process_memory).
"""

from __future__ import annotations

from core import process_memory  # noqa: F401  (first: the memory baseline, before any library)
from core.analysis.model_analysis import LayerAnalysis, ModelAnalysis, analyze_model
from core.analysis.summary import summary
from core.model.errors import LayerError, ModelError
from core.model.spec import LayerSpec, ModelSpec, load_model, model_from_dict, save_model

__all__ = [
    "LayerAnalysis",
    "LayerError",
    "LayerSpec",
    "ModelAnalysis",
    "ModelError",
    "ModelSpec",
    "analyze_model",
    "load_model",
    "model_from_dict",
    "save_model",
    "summary",
]
