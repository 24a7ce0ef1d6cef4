"""Textured face meshes: 468 vertices, MediaPipe's triangulation, UVs projected from the photo."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from core.face.topology import face_triangles

if TYPE_CHECKING:
    import trimesh

#: Longest side of the texture image (pixels).
TEXTURE_SIZE = 1024
#: Margin around the landmarks' bounding box when cropping the texture (fraction of its size).
CROP_MARGIN = 0.25


@dataclass
class TexturedFace:
    """A face mesh ready for export (vertices in metres, canonical head frame)."""

    vertices: np.ndarray  # (468, 3) float32
    faces: np.ndarray  # (M, 3) int32
    uv: np.ndarray  # (468, 2) float32, origin bottom-left
    texture: np.ndarray  # (H, W, 3) uint8, the cropped photo

    def to_trimesh(self) -> trimesh.Trimesh:
        import trimesh  # only for the mask's export: a quarter of a second off every start with a face

        material = trimesh.visual.material.PBRMaterial(
            name="parley_face",
            baseColorTexture=Image.fromarray(self.texture),
            metallicFactor=0.0,
            roughnessFactor=0.8,
            doubleSided=True,
        )
        visual = trimesh.visual.TextureVisuals(uv=self.uv, material=material)
        return trimesh.Trimesh(self.vertices, self.faces, visual=visual, process=False)

    def export(self, path: str | Path) -> Path:
        """Write GLB, glTF or OBJ (with its .mtl and texture beside it), by suffix."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        suffix = path.suffix.lower()
        if suffix not in (".glb", ".gltf", ".obj"):
            raise ValueError(f"{path}: mesh format must be .glb, .gltf or .obj")
        import trimesh

        mesh = self.to_trimesh()
        if suffix == ".obj":
            simple = trimesh.visual.material.SimpleMaterial(image=Image.fromarray(self.texture), name=path.stem)
            mesh.visual = trimesh.visual.TextureVisuals(uv=self.uv, material=simple)
            mesh.export(path, file_type="obj", include_texture=True, mtl_name=f"{path.stem}.mtl")
        else:
            mesh.export(path)
        return path


def crop_box(
    image_landmarks: np.ndarray, width: int, height: int, margin: float = CROP_MARGIN
) -> tuple[int, int, int, int]:
    """Square crop (x0, y0, x1, y1) around the face, ``margin`` larger than its landmark box, inside the image."""
    lo = image_landmarks[:, :2].min(axis=0)
    hi = image_landmarks[:, :2].max(axis=0)
    centre = (lo + hi) / 2
    half = (hi - lo).max() * (0.5 + margin)
    x0, y0 = np.floor(centre - half).astype(int)
    x1, y1 = np.ceil(centre + half).astype(int)
    return max(0, x0), max(0, y0), min(width, x1), min(height, y1)


def textured_face(rgb: np.ndarray, image_landmarks: np.ndarray, vertices: np.ndarray) -> TexturedFace:
    """Build the textured mesh of one photo.

    Args:
        rgb: the photo (H, W, 3) uint8.
        image_landmarks: the face's tracked landmarks in that photo (468, 3), pixels.
        vertices: the same face in the canonical head frame (468, 3), metres (pose removed).
    """
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = crop_box(image_landmarks, w, h)
    crop = Image.fromarray(rgb[y0:y1, x0:x1])
    scale = min(1.0, TEXTURE_SIZE / max(crop.size))
    if scale < 1.0:
        crop = crop.resize((round(crop.size[0] * scale), round(crop.size[1] * scale)), Image.Resampling.LANCZOS)
    u = (image_landmarks[:, 0] - x0) / (x1 - x0)
    v = 1.0 - (image_landmarks[:, 1] - y0) / (y1 - y0)
    uv = np.clip(np.stack([u, v], axis=1), 0.0, 1.0).astype(np.float32)
    return TexturedFace(np.asarray(vertices, np.float32), face_triangles(), uv, np.asarray(crop))
