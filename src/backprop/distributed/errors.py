"""The exceptions ``bp.distributed`` raises."""

from __future__ import annotations


class DistributedError(RuntimeError):
    """Misuse of the process group, or ranks that disagree (different models, different
    collectives). A ``RuntimeError``, as PyTorch raises for the same mistakes."""


class DistributedTimeoutError(DistributedError):
    """A collective that the other ranks did not join within the timeout: one of them crashed,
    hangs, or left the training loop early. The job cannot go on (MPI cannot cancel a
    collective), so unless it is caught this ends the whole job."""


__all__ = ["DistributedError", "DistributedTimeoutError"]
