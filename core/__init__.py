"""ConvScope's Qt-free core: model files, the layer catalog, analysis, building and training.

Importing ``core`` does not import torch; ``core.build`` and the training code do.
"""

from __future__ import annotations

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
