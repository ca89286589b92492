"""Model definitions built from ``bp.nn`` layers."""
