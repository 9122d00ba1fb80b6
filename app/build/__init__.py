"""The Build tab's views over the model document.

- ``palette.py``: every catalog type, grouped and searchable; drags and double-clicks add layers.
- ``layer_table.py``: the layer list, a ``QAbstractTableModel`` of the document's layers.
- ``property_editor.py``: the selected layer's form, generated from the catalog.
- ``diagram.py``: one block per layer, sized by its output tensor, skip connections as arcs.

Each view takes the document, listens to its signals and calls its methods; none keeps a copy
of the model.
"""
