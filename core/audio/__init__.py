"""Audio: decoding any common file to mono 16 kHz float32, and per-frame speech features."""
