"""The thread policy every shipped path follows: one thread for torch and BLAS."""

from __future__ import annotations


def one_thread() -> None:
    """Run torch and numpy's BLAS on one thread in this process. The CLI, ``parley batch`` (local or on Ray) and the
    server all animate this way, so one input and seed give bit-identical results everywhere (a thread count changes
    float rounding); the models are small enough (0.05 s for 10 s of audio) that more threads would not help."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(1)
