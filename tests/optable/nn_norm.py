"""Op-table rows for bp.nn.functional: norm."""

ROWS: list = []
