"""Request and response bodies (pydantic), named as in the result contract; they make the OpenAPI spec."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    error: str = Field(description="machine-readable code, e.g. audio_decode_error, queue_full")
    message: str = Field(description="one line for a person")


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str


class Ready(BaseModel):
    ready: bool
    load_seconds: float | None = None
    device: str


class ModelInfo(BaseModel):
    name: str
    kind: str
    file: str
    sha256: str = Field(description="first 16 hex digits of the checkpoint file's SHA-256")
    config: dict[str, Any]
    metrics: dict[str, Any]
    provenance: dict[str, str] = Field(default_factory=dict, description="the git commit and training data hash "
                                       "the checkpoint was made with, and its audio feature settings")


class ModelsInfo(BaseModel):
    models: list[ModelInfo]
    versions: dict[str, Any]
    smoothing: str
    cards: dict[str, str] = Field(description="model cards (Markdown) by file name")


class JobStatus(BaseModel):
    id: str
    kind: Literal["animate", "reconstruct", "render"]
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    progress: float = Field(ge=0, le=1)
    stage: str
    error: ErrorBody | None = None
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    expires_at: float | None = Field(default=None, description="when the result is deleted (Unix time)")
    result_url: str | None = None


class Rig(BaseModel):
    kind: Literal["arkit"] = Field(description="the head's shape keys are ARKit's (the result's arkit curves)")
    names: list[str] = Field(description="the 52 shape-key (morph-target) names, Apple's order")


class ReconstructResult(BaseModel):
    face_id: str = Field(description="give it to /v1/animate (field face_id) to animate this face without uploading "
                         "it again; valid while the job's result is kept (--result-ttl)")
    mesh_glb: str = Field(description="the textured head as binary glTF (materials, 52 ARKit morph targets), base64")
    identity: list[list[float]] = Field(description="(468, 3) identity landmarks, metres, canonical head frame")
    source: Literal["photo", "video"]
    frame_index: int
    fps: float
    frames: int
    vertices: int
    triangles: int
    texture_size: list[int]
    rig: Rig


class AnimateResult(BaseModel):
    """The result contract (``core.contract``, version ``parley.result/1``): arrays as nested lists, meta as a JSON
    string."""

    fps: float
    expression: list[list[float]] = Field(description="(T, 20)")
    pose: list[list[float]] = Field(description="(T, 6): rx, ry, rz (radians), tx, ty, tz (metres)")
    blink: list[list[float]] = Field(description="(T, 2) in [0, 1]: right, left")
    landmarks: list[list[list[float]]] | None = Field(default=None, description="(T, 468, 3); omitted on request")
    arkit: list[list[float]] = Field(description="(T, 52) in [0, 1]: ARKit weights, names in meta arkit_names")
    meta: str


class Deleted(BaseModel):
    id: str
    deleted: bool
