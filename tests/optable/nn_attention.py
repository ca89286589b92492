"""Op-table rows for bp.nn.functional: attention."""

ROWS: list = []
