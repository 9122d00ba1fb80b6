"""Datasets and fitting them to a model (torchvision.transforms.v2)."""
