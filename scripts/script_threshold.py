"""Where ``core.speech.align.MATCH_SCORE`` comes from: word scores of true scripts against other lines' scripts.

    .venv/bin/python scripts/script_threshold.py [--phonetic core/assets/phonetic.safetensors] [--grid data/phones/grid]
    .venv/bin/python scripts/script_threshold.py --languages      (MATCH_SCORE_OTHER: espeak-ng fr/de/es/it/pt)

Tuning material only (never a held-out voice or speaker): GRID s1's held-out clips (``val_seen``) and the tuning
voices (festival kal, flite kal and rms) saying sentences no model trained on. Each line is aligned with its own
script and with another line's; every word's score is collected. The threshold printed is the one with the best
balanced accuracy (mean of the share of true words kept and the share of wrong words refused); the table shows the
trade-off around it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
#: Sentences for the other languages' threshold (espeak-ng speaks them; none is a benchmark's).
OTHER = {"es": ["El perro come pan en la mesa.", "Mañana vamos a la playa con mi madre.",
                "Me gusta mucho bailar por la noche.", "Mi hermano bebe un vaso de agua."],
         "fr": ["Le petit chat boit du lait frais.", "Nous mangeons une pomme dans le jardin.",
                "Mon ami porte un beau manteau bleu.", "Papa prend le bus pour aller au bureau."],
         "de": ["Der Mann bringt morgen Milch mit.", "Wir spielen im Park mit dem Ball.",
                "Meine Oma wohnt in einem kleinen Haus.", "Papa baut ein Boot aus Holz."],
         "it": ["Il mio babbo beve un bicchiere di latte.", "La mamma mangia una mela rossa.",
                "Paolo porta il pane a casa."],
         "pt": ["A menina come pão com manteiga.", "O meu pai bebe uma garrafa de água.",
                "Maria mora perto do mar."]}


def word_scores(phonetic, audio: np.ndarray, script: str, language: str = "en") -> list[float]:  # type: ignore[no-untyped-def]
    from core.audio.features import model_features
    from core.models.phonetic import phone_posteriors
    from core.speech.align import align_words
    from core.speech.lexicon import pronounce

    post = phone_posteriors(phonetic, model_features(audio))
    return [w.score for w in align_words(np.log(post + 1e-8), pronounce(script, language)).words]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--phonetic", default=str(REPO / "core" / "assets" / "phonetic.safetensors"))
    ap.add_argument("--grid", default=str(REPO / "data" / "phones" / "grid"))
    ap.add_argument("--sentences", type=int, default=12, help="per tuning voice")
    ap.add_argument("--languages", action="store_true", help="the other languages' threshold (espeak-ng voices)")
    args = ap.parse_args()
    import torch

    from core.data.phone_corpus import load_corpus
    from core.data.sentences import make_sentences
    from core.data.splits import split_of
    from core.data.tts import available, synthesize
    from core.models.phonetic import PhoneticNet

    torch.set_num_threads(2)
    net = PhoneticNet.load(args.phonetic)
    lines: list[tuple[str, np.ndarray, str]] = []
    grid = Path(args.grid)
    if args.languages:
        from core.data.tts import espeak

        for lang, sentences in OTHER.items():
            lines += [(lang, espeak(t, lang), t) for t in sentences]
    elif (grid / "manifest.json").is_file():
        clips = [c for c in load_corpus(grid) if split_of(c.name, c.speaker) == "val_seen"][:40]
        lines += [("grid s1 val_seen", c.audio, c.text) for c in clips]
    else:
        print(f"skipped GRID: {grid} is not labelled (parley data phones ../shared/data/grid --out {grid})")
    texts = make_sentences(3 * args.sentences, seed=101)
    for k, voice in enumerate(() if args.languages else ("festival:kal", "flite:kal", "flite:rms")):
        if not available(voice):
            print(f"skipped {voice}: not installed")
            continue
        for t in texts[k * args.sentences : (k + 1) * args.sentences]:
            lines.append((voice, synthesize(t, voice).samples, t))
    true, wrong = [], []
    for i, (group, audio, text) in enumerate(lines):
        if args.languages:  # another sentence of the same language
            same = [ln[2] for ln in lines if ln[0] == group]
            other = same[(same.index(text) + 1) % len(same)]
        else:
            other = lines[(i + 7) % len(lines)][2]
        if other == text:
            continue
        lang = group if args.languages else "en"
        true += word_scores(net, audio, text, lang)
        wrong += word_scores(net, audio, other, lang)
    t_all, w_all = np.array(true), np.array(wrong)
    t, w = t_all[np.isfinite(t_all)], w_all[np.isfinite(w_all)]
    print(f"{len(lines)} lines: {len(t)} words of true scripts, {len(w)} of other lines' scripts")
    print(f"median score: true {np.median(t):.2f}, wrong {np.median(w):.2f}")
    grid_th = np.round(np.arange(-4.0, -0.2, 0.1), 2)
    bal = [((t >= x).mean() + (w < x).mean()) / 2 for x in grid_th]
    best = float(grid_th[int(np.argmax(bal))])
    print(f"{'threshold':>9} {'true kept':>9} {'wrong refused':>13} {'balanced':>8}")
    for x, b in zip(grid_th, bal, strict=True):
        if abs(x - best) <= 0.81:
            mark = "  ← best" if x == best else ""
            print(f"{x:9.1f} {(t >= x).mean():9.1%} {(w < x).mean():13.1%} {b:8.1%}{mark}")
    print(f"{'MATCH_SCORE_OTHER' if args.languages else 'MATCH_SCORE'} = {best:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
