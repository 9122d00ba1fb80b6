"""Import and export: torchvision and ONNX models in, PyTorch/ONNX/TorchScript/scripts out."""
