"""Op-table rows for indexing ops."""

ROWS: list = []
