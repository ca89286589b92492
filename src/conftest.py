"""The doctest run over ``src`` skips the modules whose import raises on purpose: the
torchvision modules backprop does not serve (``backprop.vision.ops`` and its siblings raise
ImportError with a message saying so; tests/test_vision_*.py check that)."""

collect_ignore = [f"backprop/vision/{name}.py" for name in ("ops", "io", "tv_tensors")]
collect_ignore.append("backprop/vision/transforms/v2.py")
