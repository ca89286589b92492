"""A module next to missing_names.py whose function asks for a name backprop lacks."""

import torch


def norm_of(x):
    return torch.no_such_norm(x)  # CASE: in_neighbour
