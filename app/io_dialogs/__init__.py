"""File → Import and File → Export: thin dialogs over core.io, the work on a worker thread.

Import lists torchvision's and timm's models (or takes an ONNX file), writes the model file (and
the weights beside it) and hands both to the window. Export offers the four formats and ends with
a line saying where the files went and how to run them. Tracing, ONNX export and weight loading
can take seconds: they run off the UI thread, with a busy bar and Cancel (a cancelled job's
result is dropped).
"""

from app.io_dialogs.export_dialog import FORMATS, SUFFIXES, ExportDialog
from app.io_dialogs.import_dialog import ImportDialog

__all__ = ["FORMATS", "SUFFIXES", "ExportDialog", "ImportDialog"]
