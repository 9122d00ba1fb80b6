"""The model file: layer specs, the catalog, validation and (de)serialization."""
