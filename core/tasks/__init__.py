"""The task layer: one module per task, found by the model file's ``task``."""

from __future__ import annotations

from collections.abc import Callable

from core.tasks.base import MetricAccumulator, Task

__all__ = ["MetricAccumulator", "Task", "task_for"]


def _classification() -> Task:
    from core.tasks.classification import ClassificationTask

    return ClassificationTask()


def _segmentation() -> Task:
    from core.tasks.segmentation import SegmentationTask

    return SegmentationTask()


def _detection() -> Task:
    from core.tasks.detection import DetectionTask

    return DetectionTask()


def _localization() -> Task:
    from core.tasks.localization import LocalizationTask

    return LocalizationTask()


TASK_FACTORIES: dict[str, Callable[[], Task]] = {
    "classification": _classification,
    "segmentation": _segmentation,
    "detection": _detection,
    "localization": _localization,
}


def task_for(name: str) -> Task:
    """A fresh task object for the model file's ``task`` (each run gets its own)."""
    try:
        return TASK_FACTORIES[name]()
    except KeyError:
        raise ValueError(f"unknown task {name!r}: one of {', '.join(TASK_FACTORIES)}") from None
