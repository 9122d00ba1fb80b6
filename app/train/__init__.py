"""The Train tab, one part per module, composed by :class:`TrainingPanel` (``panel.py``).

- ``settings_form.py``: the settings and augmentation, read into a core TrainingSettings;
  ``preview.py``: the augmented samples beside them (on a worker).
- ``estimate.py``: the memory pre-flight beside Start (on a thread, latest wins).
- ``controls.py``: Start / Pause / Stop, the progress bar with its ETA, the result line.
- ``curves.py``: the live loss and metric curves.
- ``panel.py``: the run: its job, its events, the document's model and run followed.
"""

from app.train.panel import TrainingPanel

__all__ = ["TrainingPanel"]
