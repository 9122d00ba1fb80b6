"""What the main window's menus do, beside what they act on; app.main_window assembles them.

- ``model_files.py``: New, Open, Open Recent, Presets, Save, Save As (the document's model file).
- ``runs.py``: Open Trained Run.  ``model_io.py``: Import Model, Export Model, Export Diagram.
- ``autosave.py``: the autosave while there are unsaved changes; recovery at start-up.
- ``edits.py``: the Edit menu's layer edits and summary copies; undo keys from any focus.
- ``bars.py``: the model's name and input shape above the tabs, its totals below.
- ``geometry.py``: where the window opens (where it was closed, or most of the screen).
- ``one_frame.py``: an edit is painted once, after the views' layouts settle.
"""
