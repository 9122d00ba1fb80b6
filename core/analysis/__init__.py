"""Shapes, parameters, MACs, memory and receptive fields, computed without torch."""
