"""nn.functional: layers (to be filled in)."""

__all__: list[str] = []
