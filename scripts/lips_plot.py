"""A picture of the script path: the lips of one phone-timed sentence from the audio alone, with its script, and with
another line's script, over the sentence's /p b m/ and open-vowel phones.

    .venv/bin/python scripts/lips_plot.py [--voice festival:slt] [--out out/lips_script.png]

The voice is one of ``core.data.tts.VOICES`` (festival slt, the default, is held out of all training); the face is
the built-in portrait. Lips touch below the dotted line (``core.metrics.sync.LIPS_CLOSED``); green spans are
/p b m/, orange spans open vowels.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

LINE = "Big brown bears bumped the maple box at the park."
OTHER = "Father wants a bottle of warm milk by bedtime."


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--voice", default="festival:slt")
    ap.add_argument("--out", default="out/lips_script.png")
    args = ap.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from core.animate import animate
    from core.audio.decode import Audio
    from core.data.tts import BILABIALS, OPEN_VOWELS, synthesize
    from core.face.geometry import lip_gap
    from core.metrics.sync import LIPS_CLOSED

    u = synthesize(LINE, args.voice)
    fps = 30.0
    fig, ax = plt.subplots(figsize=(12, 3.6))
    for p in u.phones:
        if p.name in BILABIALS or p.name in OPEN_VOWELS:
            ax.axvspan(p.start, p.end, color="tab:green" if p.name in BILABIALS else "tab:orange", alpha=0.18, lw=0)
    for text, label, colour in ((None, "audio only", "k"), (LINE, "with its script", "tab:red"),
                                (OTHER, "with another line's script", "tab:blue")):
        res = animate(Audio(u.samples, 16000, 16000, 1, args.voice), fps=fps, text=text)
        g = lip_gap(res.landmarks)
        found = res.meta.get("script", {}).get("matched_share")
        ax.plot(np.arange(len(g)) / fps, g, color=colour, lw=1.4,
                label=label + (f" ({found:.0%} of its words found)" if found is not None else ""))
    ax.axhline(LIPS_CLOSED, color="0.4", ls=":", lw=1)
    ax.set_xlabel("seconds")
    ax.set_ylabel("lip gap / eye-corner distance")
    ax.set_title(f"{args.voice}: “{LINE}” — green /p b m/, orange open vowels", fontsize=10)
    ax.legend(loc="upper right", fontsize=8)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(f"→ {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
