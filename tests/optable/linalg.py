"""Op-table rows for linalg ops."""

ROWS: list = []
