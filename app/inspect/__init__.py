"""The Inspect tab, one module per view, every computation on the tab's worker.

- ``tab.py``: :class:`InspectTab`, thin: the weights line (from the document, which owns the
  model, its weights and its run), the input chooser, the views, one progress bar + Cancel.
- ``base.py``: :class:`InspectView`, what a view implements, and the worker-side ``Context``.
- ``session.py``: the worker-side cache (the built model, prepared inputs, activations).
- one module per view: ``filters``, ``activations``, ``predictions`` (top 5 and the
  confusion matrix), ``attributions`` (Grad-CAM, saliency, occlusion), ``maximization``
  (what a channel looks for), ``formation`` (how the filters formed); ``export`` renders a view
  to PNG with core.inspect.render.

Adding a view (e.g. masks or boxes):

1. Write ``app/inspect/masks.py`` with ``class MasksView(InspectView)``: set ``title``; build
   the widgets in ``__init__(self, tab)``; ``parameters()`` reads the widgets (UI thread);
   ``compute(context, parameters, task)`` runs on the worker: use ``context.inspector`` (a
   core.inspect Inspector) and ``context.input()``, call ``task.progress(done, total)`` in long
   loops, return arrays, never touch a widget; ``show_result(result, parameters)`` draws them
   (UI thread); ``reset()`` clears pictures and readouts when the model, weights or run change;
   ``fill_layers(analysis)`` fills layer lists. Call ``self.refresh()`` when a setting changes.
2. Append ``("Masks", "app.inspect.masks:MasksView")`` to ``VIEWS`` in ``tab.py``: the tab
   imports the module and builds the view when its tab is first shown (``view_tabs.py``), so
   pyqtgraph is imported only then.

Work a button starts (not the view being shown) sets ``automatic = False`` and calls
``self.tab.run(self, key, compute, parameters, show)``; a newer request under the same key
replaces the older one, whose result is dropped.
"""

from app.inspect.tab import VIEWS, InspectTab

__all__ = ["VIEWS", "InspectTab"]
