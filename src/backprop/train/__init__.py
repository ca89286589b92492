"""The training loop, models and pictures behind ``backprop train``."""
