"""nn.functional: activation (to be filled in)."""

__all__: list[str] = []
