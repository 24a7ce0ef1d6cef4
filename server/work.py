"""What a job does: calls into core with the job's inputs and writes its result files. No HTTP here."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np

from core.animate import animate
from core.contract import load_result
from core.loading import Models
from core.reference import Reference
from core.take import Spontaneous
from server.jobs import Job, Runner

RESULT_NPZ = "result.npz"
REFERENCE_NPZ = "reference.npz"  # a reconstruct job's face, which /v1/animate reuses by the job's id (face_id)
MESH_GLB = "mesh.glb"
RECONSTRUCT_JSON = "reconstruct.json"
RENDER_MP4 = "render.mp4"


def _round(a: np.ndarray) -> Any:
    return np.round(np.asarray(a, dtype=np.float64), 7).tolist()


def animate_runner(models: Models, max_seconds: float, portrait: Reference) -> Runner:
    """A runner for ``animate`` jobs: params fps, seed, text, language, articulation, motion; inputs audio (+ face) in
    the job folder.

    Without a face the built-in ``portrait`` (reconstructed once at start-up) is used.
    """

    def run(job: Job) -> None:
        p = job.params
        face = job.dir / p["face"] if p.get("face") else None
        given: Reference | None = Reference.load(p["face_ref"]) if p.get("face_ref") else None
        res = animate(job.dir / p["audio"], face or given or portrait, fps=float(p["fps"]), text=p.get("text"),
                      models=models,
                      seed=int(p.get("seed", 0)), max_seconds=max_seconds, progress=job.step,
                      articulation=float(p.get("articulation", 1.0)),
                      motion=Spontaneous(**p["motion"]) if p.get("motion") else None,
                      language=p.get("language", "en"))
        res.meta["audio"]["source"] = job.names.get(str(job.dir / p["audio"]), "upload")
        res.meta["face"] = (job.names.get(str(face), "upload") if face else
                            f"face {p['face_id']}" if given else "built-in portrait")
        res.save(job.dir / RESULT_NPZ)
        job.result_files = [RESULT_NPZ]

    return run


def rig() -> dict[str, Any]:
    """The head's shape keys: ARKit's 52, which the result's ``arkit`` curves drive by name."""
    from core.face.arkit import ARKIT_NAMES

    return {"kind": "arkit", "names": list(ARKIT_NAMES)}


def reconstruct_runner(models: Models) -> Runner:
    """A runner for ``reconstruct`` jobs: input face in the job folder → mesh.glb + reconstruct.json."""

    def run(job: Job) -> None:
        from core.face.reconstruct import reconstruct
        from core.reference import reference_of

        job.step(0.05, "reconstructing the face")
        source = job.dir / job.params["face"]
        rec = reconstruct(source, progress=lambda f: job.step(0.05 + 0.85 * f, "tracking"))
        job.step(0.9, "writing the head")
        from core.face.gltf import write_glb

        head = rec.full_head()
        write_glb(head, job.dir / MESH_GLB)
        ref = reference_of(rec, source)
        ref.source = job.names.get(str(source), "upload")
        ref.save(job.dir / REFERENCE_NPZ)
        skin = head.materials[0].texture
        h, w = skin.shape[:2] if skin is not None else (0, 0)
        info = {"face_id": job.id, "identity": _round(rec.identity), "source": "video" if rec.fps else "photo",
                "frame_index": rec.frame_index, "fps": rec.fps, "frames": len(rec.pose),
                "vertices": len(head.vertices), "triangles": len(head.triangles), "texture_size": [w, h],
                "rig": rig(), "notes": head.notes}
        (job.dir / RECONSTRUCT_JSON).write_text(json.dumps(info))
        job.result_files = [MESH_GLB, RECONSTRUCT_JSON, REFERENCE_NPZ]

    return run


def reconstruct_json(folder: Path) -> bytes:
    """The reconstruct result as one JSON document (the GLB inlined as base64)."""
    info = json.loads((folder / RECONSTRUCT_JSON).read_text())
    info["mesh_glb"] = base64.b64encode((folder / MESH_GLB).read_bytes()).decode()
    return json.dumps(info).encode()


def animate_npz_light(folder: Path) -> bytes:
    """The result NPZ without its landmarks (T × 468 × 3: most of the file, and Blender never reads them)."""
    import io

    buf = io.BytesIO()
    with np.load(folder / RESULT_NPZ) as z:
        np.savez(buf, **{k: z[k] for k in z.files if k != "landmarks"})
    return buf.getvalue()


def animate_json(folder: Path, landmarks: bool = True) -> bytes:
    """The result contract as JSON (same fields as the NPZ; meta as a JSON string)."""
    return json.dumps(load_result(folder / RESULT_NPZ).to_json(landmarks)).encode()


def render_runner() -> Runner:
    """A runner for ``render`` jobs: params result, audio, face (server paths, checked by the route), size."""

    def run(job: Job) -> None:
        from core.render.video import render

        p = job.params
        job.step(0.02, "placing the head in the photo")
        render(p["result"], p["face"], job.dir / RENDER_MP4, p.get("audio"), int(p.get("size", 512)),
               progress=lambda f: job.step(0.05 + 0.93 * f, "rendering frames"))
        job.result_files = [RENDER_MP4]

    return run
