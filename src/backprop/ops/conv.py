"""Convolution and pooling (to be filled in)."""

TENSOR_METHODS: dict = {}

__all__: list[str] = []
