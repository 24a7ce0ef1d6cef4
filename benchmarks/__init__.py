"""Benchmarks: scripts that print numbers (speed, memory, quality on real footage). ``python -m benchmarks --smoke``
runs every one on tiny inputs."""
