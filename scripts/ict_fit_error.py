"""How many ICT identity modes a face needs: fit the ICT head to real people's landmarks and print the error.

    .venv/bin/python scripts/build_ict_head.py --modes 100 --out /tmp/ict100.npz
    .venv/bin/python scripts/ict_fit_error.py --head /tmp/ict100.npz [--no-expression] [--grid data/grid]
        [--dev-av out/bench_real/dev-av]

Three frames of each prepared clip — its rest (``core.face.neutral.clip_rest``), its widest-open frame and its
middle frame, as a photo could be any of them — are fitted through the MediaPipe → ICT correspondence by
``core.face.ict.fit_head`` with K identity modes (and the ARKit shapes, unless ``--no-expression``), for K = 0 …
100. The error is the mean distance over the 468 points as a share of the outer eye-corner distance (the goal:
≤ 2 %), per group: GRID's training speaker (20 clips), GRID's other speakers (4 clips each), and the dev-av clips
(measured, never fitted). The table is in ``core/assets/HEAD_ASSET.md``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
ICT = REPO.parent / "shared" / "data" / "ict-facekit" / "ict_face_model_light.npz"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grid", default=str(REPO / "data" / "grid"))
    ap.add_argument("--dev-av", default=str(REPO / "out" / "bench_real" / "dev-av"))
    ap.add_argument("--head", default=str(REPO / "core" / "assets" / "ict_head.npz"), help="a head asset")
    ap.add_argument("--no-expression", dest="expression", action="store_false", help="identity only")
    args = ap.parse_args()
    from core.data.splits import TRAIN_SPEAKERS
    from core.face.geometry import mouth_aperture
    from core.face.ict import fit_head, load_head
    from core.face.neutral import clip_rest

    head = load_head(args.head)
    groups: dict[str, list[np.ndarray]] = {"GRID s1 (train)": [], "GRID other speakers": [], "dev-av": []}
    for folder, is_grid in ((Path(args.grid), True), (Path(args.dev_av), False)):
        if not (folder / "manifest.json").is_file():
            print(f"skipped {folder}: not prepared")
            continue
        per_speaker: dict[str, list[np.ndarray]] = {}
        for c in json.loads((folder / "manifest.json").read_text())["clips"]:
            with np.load(folder / c["file"]) as z:
                lm = z["landmarks"]
            # the rest, the widest-open frame and the middle frame: a photo can be any of them
            picked = [clip_rest(lm), lm[int(np.argmax(mouth_aperture(lm)))], lm[len(lm) // 2]]
            per_speaker.setdefault(c["speaker"] if is_grid else c["key"], []).append(np.stack(picked))
        for spk, rests in per_speaker.items():
            name = ("GRID s1 (train)" if spk in TRAIN_SPEAKERS else "GRID other speakers") if is_grid else "dev-av"
            chosen = rests[:20] if spk in TRAIN_SPEAKERS else rests[:4]
            groups[name].extend(chosen)
    print(f"{'modes':>5} " + " ".join(f"{g:>22}" for g in groups) + "   (mean error / eye-corner distance)")
    for k in [m for m in (0, 20, 40, 60, 100) if m <= head.n_modes]:
        row = []
        for triples in groups.values():
            errs = []
            for frames in triples:
                for r in frames:
                    fitted = fit_head(r, head, n_modes=k, expression=args.expression)
                    errs.append(float(fitted.error.mean() / np.linalg.norm(r[33] - r[263])))
            row.append(f"{np.mean(errs):21.2%}" if errs else f"{'—':>21}")
        print(f"{k:5d} " + " ".join(f"{v:>22}" for v in row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
