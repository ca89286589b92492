"""Op-table rows for bp.nn.functional: loss."""

ROWS: list = []
