"""The training engine (a generator of events) and its checkpoints."""
