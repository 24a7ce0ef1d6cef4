"""Parley core: everything that computes (audio, faces, models, metrics). Never imports bpy or HTTP."""

__version__ = "0.1.0"
