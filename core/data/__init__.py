"""Datasets: real footage → tracked, filtered, disentangled per-clip arrays with a manifest."""
