"""Op-table rows for bp.nn.functional: layers."""

ROWS: list = []
