"""The task layer: one module per task, found by the model file's ``task``."""

from __future__ import annotations

from collections.abc import Callable

from core.tasks.base import MetricAccumulator, Task

__all__ = ["MetricAccumulator", "Task", "task_for"]


def _classification() -> type[Task]:
    from core.tasks.classification import ClassificationTask

    return ClassificationTask


def _segmentation() -> type[Task]:
    from core.tasks.segmentation import SegmentationTask

    return SegmentationTask


def _detection() -> type[Task]:
    from core.tasks.detection import DetectionTask

    return DetectionTask


def _localization() -> type[Task]:
    from core.tasks.localization import LocalizationTask

    return LocalizationTask


TASK_FACTORIES: dict[str, Callable[[], type[Task]]] = {
    "classification": _classification,
    "segmentation": _segmentation,
    "detection": _detection,
    "localization": _localization,
}


def task_for(name: str, settings: object | None = None) -> Task:
    """A fresh task object for the model file's ``task`` (each run gets its own).

    With ``settings``, the task gets the training settings it declares in ``uses_settings``
    (e.g. segmentation's ``dice``); without, their defaults (labels, checks, decoding).
    ``settings`` is any object with those attributes: the tasks sit below ``core.train``,
    whose ``TrainingSettings`` is the usual one, and so never import it."""
    try:
        cls = TASK_FACTORIES[name]()
    except KeyError:
        raise ValueError(f"unknown task {name!r}: one of {', '.join(TASK_FACTORIES)}") from None
    if settings is None:
        return cls()
    return cls(**{key: getattr(settings, key) for key in cls.uses_settings})
