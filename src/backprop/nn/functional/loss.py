"""nn.functional: loss (to be filled in)."""

__all__: list[str] = []
