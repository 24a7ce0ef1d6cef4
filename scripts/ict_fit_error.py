"""How many ICT identity modes a face needs: fit the ICT head to real people's rest shapes and print the error.

    .venv/bin/python scripts/ict_fit_error.py [--grid data/grid] [--dev-av out/bench_real/dev-av]

Each prepared clip's rest (lips together: ``core.face.neutral.clip_rest``) is fitted through the MediaPipe → ICT
correspondence (``core/assets/ict_correspondence.npz``) by a similarity plus K identity modes (ridge-regularised
least squares, alternated 6 times), for K = 0 … 100 (the modes as the kit stores them, float16). The error is the
mean distance over the 468 points, as a share of the outer eye-corner distance (the issue's goal: ≤ 2 %), per group:
GRID's training speaker, GRID's other speakers (one rest per speaker), and the dev-av clips (measured, never fitted).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
ICT = REPO.parent / "shared" / "data" / "ict-facekit" / "ict_face_model_light.npz"


def fit(target: np.ndarray, base: np.ndarray, modes: np.ndarray, ridge: float = 1e-4, iters: int = 6) -> np.ndarray:
    """target (468, 3) metres; base (468, 3) and modes (K, 468, 3) in ICT centimetres → the fitted points (468, 3)."""
    from core.face.geometry import fit_similarity

    shape = base.copy()
    for _ in range(iters):
        if len(modes) == 0:
            break
        sim = fit_similarity(target[None], shape, points=None)  # target ≈ s R shape + t
        local = sim.invert_apply(target[None])[0]  # the target in ICT's frame
        a = modes.reshape(len(modes), -1).T  # (1404, K)
        coef = np.linalg.solve(a.T @ a + ridge * np.eye(len(modes)), a.T @ (local - base).reshape(-1))
        shape = base + (coef @ modes.reshape(len(modes), -1)).reshape(-1, 3)
    return fit_similarity(target[None], shape, points=None).apply(shape[None])[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grid", default=str(REPO / "data" / "grid"))
    ap.add_argument("--dev-av", default=str(REPO / "out" / "bench_real" / "dev-av"))
    args = ap.parse_args()
    from core.data.splits import TRAIN_SPEAKERS
    from core.face.neutral import clip_rest

    with np.load(REPO / "core" / "assets" / "ict_correspondence.npz") as z:
        tri, w = z["triangles"], z["weights"].astype(np.float64)
    with np.load(ICT) as z:
        neutral = z["neutral"].astype(np.float64)
        ident16 = z["identity"]

    def at_points(v: np.ndarray) -> np.ndarray:  # (..., 26719, 3) → (..., 468, 3)
        return (w[:, :, None] * v[..., tri, :]).sum(-2)

    base = at_points(neutral)
    modes = at_points(ident16.astype(np.float64))  # the shared file stores the modes as float16
    groups: dict[str, list[np.ndarray]] = {"GRID s1 (train)": [], "GRID other speakers": [], "dev-av": []}
    for folder, is_grid in ((Path(args.grid), True), (Path(args.dev_av), False)):
        if not (folder / "manifest.json").is_file():
            print(f"skipped {folder}: not prepared")
            continue
        per_speaker: dict[str, list[np.ndarray]] = {}
        for c in json.loads((folder / "manifest.json").read_text())["clips"]:
            with np.load(folder / c["file"]) as z:
                per_speaker.setdefault(c["speaker"] if is_grid else c["key"], []).append(clip_rest(z["landmarks"]))
        for spk, rests in per_speaker.items():
            name = ("GRID s1 (train)" if spk in TRAIN_SPEAKERS else "GRID other speakers") if is_grid else "dev-av"
            chosen = rests[:20] if spk in TRAIN_SPEAKERS else [np.mean(rests, axis=0)]
            groups[name].extend(chosen)
    print(f"{'modes':>5} " + " ".join(f"{g:>22}" for g in groups) + "   (mean error / eye-corner distance)")
    for k in (0, 10, 20, 40, 60, 100):
        row = []
        for rests in groups.values():
            errs = []
            for r in rests:
                got = fit(r.astype(np.float64), base, modes[:k])
                iod = np.linalg.norm(r[33] - r[263])
                errs.append(float(np.linalg.norm(got - r, axis=1).mean() / iod))
            row.append(f"{np.mean(errs):21.2%}" if errs else f"{'—':>21}")
        print(f"{k:5d} " + " ".join(f"{v:>22}" for v in row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
