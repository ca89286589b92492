"""Applications: training programs behind ``backprop`` sub-commands."""
