"""Op-table rows for convolution and pooling."""

ROWS: list = []
