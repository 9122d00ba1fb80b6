"""The classroom: step-through arithmetic and the lectures' worked examples as lessons."""
