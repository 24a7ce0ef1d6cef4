"""What a job does: calls into core with the job's inputs and writes its result files. No HTTP here."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np

from core.animate import AnimationResult, Models, Reference, animate
from server.jobs import Job, Runner

RESULT_NPZ = "result.npz"
MESH_GLB = "mesh.glb"
RECONSTRUCT_JSON = "reconstruct.json"


def _round(a: np.ndarray) -> Any:
    return np.round(np.asarray(a, dtype=np.float64), 7).tolist()


def animate_runner(models: Models, max_seconds: float, portrait: Reference) -> Runner:
    """A runner for ``animate`` jobs: params fps, seed, text, articulation; inputs audio (+ face) in the job folder.

    Without a face the built-in ``portrait`` (reconstructed once at start-up) is used.
    """

    def run(job: Job) -> None:
        p = job.params
        face = job.dir / p["face"] if p.get("face") else None
        res = animate(job.dir / p["audio"], face or portrait, fps=float(p["fps"]), text=p.get("text"), models=models,
                      seed=int(p.get("seed", 0)), max_seconds=max_seconds, progress=job.step,
                      articulation=float(p.get("articulation", 1.0)))  # fmt: skip
        res.meta["audio"]["source"] = job.names.get(str(job.dir / p["audio"]), "upload")
        res.meta["face"] = job.names.get(str(face), "upload") if face else "built-in portrait"
        res.save(job.dir / RESULT_NPZ)
        job.result_files = [RESULT_NPZ]

    return run


def rig(models: Models) -> dict[str, Any]:
    """What a client needs to build shape keys: per-component landmark deltas, their scale, slider ranges, blinks.

    Value 1 of key ``EXP_k`` is the largest coefficient of component k seen in the PCA's data (``scale_k``, in
    the data's units), so the data spans at most [-1, 1] and fits Blender's slider limits; a result's expression
    coefficient c_k is the key value c_k / scale_k. Without a recorded range, value 1 is 3 σ.
    """
    pca = models.pca
    sigma = pca.sigma.astype(np.float64)
    if pca.coef_range is not None:
        extreme = np.abs(pca.coef_range).max(axis=1)
        scale = sigma * extreme
        ranges = pca.coef_range / extreme[:, None]
    else:
        scale = 3 * sigma
        ranges = np.tile([-1.0, 1.0], (len(sigma), 1))
    comps = pca.components.reshape(len(sigma), -1, 3) * scale[:, None, None]
    return {"names": [f"EXP_{k:02d}" for k in range(len(sigma))], "sigma": _round(sigma), "scale": _round(scale),
            "ranges": _round(ranges), "deltas": _round(comps), "blink_names": ["BLINK_R", "BLINK_L"],
            "blink_deltas": _round(models.blink.displacement)}  # fmt: skip


def reconstruct_runner(models: Models) -> Runner:
    """A runner for ``reconstruct`` jobs: input face in the job folder → mesh.glb + reconstruct.json."""

    def run(job: Job) -> None:
        from core.face.reconstruct import reconstruct

        job.step(0.05, "reconstructing the face")
        rec = reconstruct(job.dir / job.params["face"], progress=lambda f: job.step(0.05 + 0.85 * f, "tracking"))
        job.step(0.9, "writing the mesh")
        rec.face.export(job.dir / MESH_GLB)
        h, w = rec.face.texture.shape[:2]
        info = {"identity": _round(rec.identity), "source": "video" if rec.fps else "photo",
                "frame_index": rec.frame_index, "fps": rec.fps, "frames": len(rec.pose),
                "vertices": len(rec.face.vertices), "triangles": len(rec.face.faces), "texture_size": [w, h],
                "rig": rig(models)}  # fmt: skip
        (job.dir / RECONSTRUCT_JSON).write_text(json.dumps(info))
        job.result_files = [MESH_GLB, RECONSTRUCT_JSON]

    return run


def reconstruct_json(folder: Path) -> bytes:
    """The reconstruct result as one JSON document (the GLB inlined as base64)."""
    info = json.loads((folder / RECONSTRUCT_JSON).read_text())
    info["mesh_glb"] = base64.b64encode((folder / MESH_GLB).read_bytes()).decode()
    return json.dumps(info).encode()


def animate_json(folder: Path, landmarks: bool = True) -> bytes:
    """The result contract as JSON (same fields as the NPZ; meta as a JSON string)."""
    with np.load(folder / RESULT_NPZ) as z:
        meta = json.loads(str(z["meta"]))
        res = AnimationResult(float(z["fps"]), z["expression"], z["pose"], z["blink"], z["landmarks"], meta)
    body = res.to_json()
    if not landmarks:
        del body["landmarks"]
    return json.dumps(body).encode()
