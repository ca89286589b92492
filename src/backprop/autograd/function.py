"""Custom differentiable functions (to be filled in)."""
