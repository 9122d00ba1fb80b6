"""Looking inside a model: filters, activations, predictions, attributions (numpy out)."""
