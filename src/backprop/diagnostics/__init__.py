"""Backprop you can see: gradient health, memory held for backward, graph and landscape pictures.

Everything here observes the engine from outside (hooks and ``autograd.instrument``): nothing
costs anything until it is used.
"""

from .graph import draw_graph, graph_to_dot
from .memory import MemoryReport, memory_report

__all__ = ["MemoryReport", "draw_graph", "graph_to_dot", "memory_report"]
