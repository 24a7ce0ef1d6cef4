"""The head-motion statistics and voice liveliness of prepared footage: where spontaneous motion's numbers come from.

    .venv/bin/python scripts/head_styles.py data/grid --speakers s1
    .venv/bin/python scripts/head_styles.py out/bench_real/dev-av

Per clip: rotation spread (std, degrees) and speed (mean |d angle/dt|, degrees per second) about x, y, z,
translation spread (mm) — ``core.models.spontaneous.HeadStyle.measure`` on the tracked, jitter-filtered pose — and
the voice's accent rate (stressed syllables per second, ``prosody``). Prints the mean over the chosen clips: GRID's
training speaker gives the reader's anchor, the dev-av interviews the conversational one (measured, never fitted).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def main() -> int:
    from core.models.spontaneous import HeadStyle, prosody

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", help="a folder prepared by `parley data prepare`")
    ap.add_argument("--speakers", nargs="*", help="only these speakers")
    ap.add_argument("--max-clips", type=int, default=300)
    args = ap.parse_args()
    folder = Path(args.data)
    clips = json.loads((folder / "manifest.json").read_text())["clips"]
    if args.speakers:
        clips = [c for c in clips if c.get("speaker") in args.speakers]
    rows = []
    for c in clips[: args.max_clips]:
        with np.load(folder / c["file"]) as z:
            pose, fps, audio = z["pose"], float(z["fps"]), z["audio"]
        n = len(pose)
        st = HeadStyle.measure(pose, fps)
        rate = len(prosody(audio, n, fps).accents) / (n / fps)
        rows.append([*st.rot_std, *st.rot_speed, *st.trans_std, rate])
    r = np.asarray(rows)
    print(f"{folder} ({len(r)} clips): rot std {np.round(r[:, 0:3].mean(0), 2)} deg, speed "
          f"{np.round(r[:, 3:6].mean(0), 2)} deg/s, trans std {np.round(r[:, 6:9].mean(0), 1)} mm, "
          f"accents {r[:, 9].mean():.2f}/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
