"""ConvScope's Qt GUI: thin views over the Qt-free core."""
