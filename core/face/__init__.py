"""Faces: tracking (MediaPipe 468-point mesh), rigid pose/expression disentangling, textured meshes."""
