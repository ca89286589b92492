"""Op-table rows for bp.nn.functional: activation."""

ROWS: list = []
