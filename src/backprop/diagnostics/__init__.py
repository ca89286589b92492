"""Backprop you can see: gradient health, NaN provenance, memory held for backward, graph and
landscape pictures.

Everything here observes the engine from outside, through module and optimizer hooks and the
engine's observer events (``autograd.observers``), registered only while a tool is on: nothing
costs anything until it is used.
"""

from ._monitor_history import GradientHistory
from .graph import draw_graph, graph_to_dot
from .health import Flag, HealthThresholds
from .hessian import HessianEigen, hessian_top_eigenvalue, hessian_vector_product
from .landscape import LossLandscape, loss_landscape, random_direction
from .memory import MemoryReport, memory_report
from .monitor import GradientMonitor
from .origin import record_origins

__all__ = ["Flag", "GradientHistory", "GradientMonitor", "HealthThresholds", "HessianEigen",
           "LossLandscape", "MemoryReport", "draw_graph", "graph_to_dot", "hessian_top_eigenvalue",
           "hessian_vector_product", "loss_landscape", "memory_report", "random_direction",
           "record_origins"]
