"""``parley train {expression,motion,smoother,blinks}``: load the prepared data once, train, report."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import replace
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[1] / "assets"
#: Each model's file name, in ``runs/`` (where training writes) and in ``core/assets`` (what ships).
FILE = {"expression": "expression.safetensors", "motion": "motion.safetensors", "smoother": "smoother.safetensors",
        "blinks": "blink.safetensors", "neutral": "neutral.safetensors", "renderer": "refiner.safetensors",
        "phonetic": "phonetic.safetensors", "live": "live.safetensors"}
RUNS = Path("runs")


def promote(files: list[Path], assets: Path = ASSETS) -> list[Path]:
    """Copy a finished run's files into the shipped assets (never its resumable ``.state.pt``)."""
    import shutil

    out = []
    for f in files:
        if f.suffix == ".pt":
            continue
        shutil.copyfile(f, assets / f.name)
        out.append(assets / f.name)
    return out


def _load(args: argparse.Namespace, splits: tuple[str, ...] = ("train", "val_seen", "val_unseen")):  # type: ignore[no-untyped-def]
    from core.face.canonical import canonical_face
    from core.models.pca import LandmarkPCA
    from core.train.data import load_clips

    pca = LandmarkPCA.load(args.pca)
    return pca, load_clips(Path(args.data), pca, canonical_face(), splits)


def cmd_train(args: argparse.Namespace) -> int:
    import torch

    from core.models.checkpoint import recording
    from core.train.provenance import provenance

    torch.set_num_threads(args.threads)
    person = args.what == "renderer" and args.person
    name = FILE[args.what]
    if args.what == "renderer" and args.reference == "open":
        name = "refiner_video.safetensors"  # the refiner for face videos (core.render.video.REFINER_VIDEO)
    out = Path(args.out or RUNS / ("person_refiner.safetensors" if person else name))
    if person and args.promote:
        from core.errors import ParleyError

        raise ParleyError("--promote: a personal refiner is the user's own, not Parley's to ship; use it with "
                          "`parley render --refiner FILE`")
    if args.promote and out.name != name:
        from core.errors import ParleyError

        raise ParleyError(f"--promote ships the file as core/assets/{name}: name --out like that")
    phones = args.phones if args.what == "expression" and args.phone_weight > 0 and args.inputs == "mel" else []
    sources = [Path(args.person)] if person else [Path(args.data), *[Path(p) for p in phones]]
    if args.what == "phonetic":
        sources = [Path(p) for p in args.corpora]
    if args.what == "live":
        if args.synthetic:
            from core.train.live import synthetic_voices

            args.voices = [*args.voices, str(synthetic_voices(RUNS / "live_synth"))]
        sources = [Path(p) for p in args.voices]
    with recording(provenance(*sources)):
        rep, made = _train(args, out)
    print(json.dumps({k: v for k, v in rep.items() if k != "history"} | {"last": rep.get("history", [{}])[-1:]},
                     indent=1, ensure_ascii=False))
    print("→ " + ", ".join(str(p) for p in made))
    if args.promote:
        print("promoted → " + ", ".join(str(p) for p in promote(made)))
    return 0


def _train(args: argparse.Namespace, out: Path) -> tuple[dict, list[Path]]:  # type: ignore[type-arg]
    """Train one model into ``out``; (report, the files written)."""
    made = [out]
    if args.what == "expression":
        from core.models.expression import ExpressionConfig
        from core.train.expression import train_expression

        pca, split = _load(args)
        hears = args.inputs != "mel"
        ecfg = ExpressionConfig(variant=args.variant or "tcn", seed=args.seed, target=args.target,
                                use_identity=args.target == "reference", feature_norm=args.feature_norm,
                                voice_prob=args.voice_prob, phone_weight=0.0 if hears else args.phone_weight,
                                inputs=args.inputs, text_prob=args.text_prob if hears else 0.0)
        ecfg = replace(ecfg, epochs=args.epochs or ecfg.epochs)
        visemes, phones, phonetic = None, None, None
        if hears:
            from core.models.checkpoint import describe_checkpoint
            from core.models.phonetic import PhoneticNet

            phonetic = PhoneticNet.load(args.phonetic)
            ecfg.phonetic_sha = describe_checkpoint(args.phonetic)["sha256"]
        if ecfg.phone_weight > 0:
            from core.data.phones import cached_visemes, load_labelled

            visemes = cached_visemes(Path(args.data), [(c.key, c.audio) for c in split["train"]])
            phones = [(a, v) for d in args.phones for _, a, v in load_labelled(Path(d))]
        _, rep = train_expression(split, pca.components, out, ecfg, args.device, resume=not args.restart,
                                  visemes=visemes, phones=phones, phonetic=phonetic)
    elif args.what == "motion":
        from core.models.motion import MotionConfig
        from core.train.motion import train_motion

        _, split = _load(args, ("train", "val_unseen"))
        paper = args.variant == "paper"
        mcfg = MotionConfig(scale_by_reference=not paper, velocity_stats=not paper, seed=args.seed)
        mcfg = replace(mcfg, epochs=args.epochs or mcfg.epochs)
        _, rep = train_motion(split, out, mcfg, args.device, resume=not args.restart)
    elif args.what == "smoother":
        from core.models.expression import ExpressionNet
        from core.models.smoother import SmootherConfig
        from core.train.smoother import CHOICE_RULE, choose_smoothing, compare_smoothing, train_smoother

        pca, split = _load(args, ("train", "val_seen", "val_unseen"))
        psi = ExpressionNet.load(args.expression)
        phon = None
        if psi.hears_phones:
            from core.models.phonetic import PhoneticNet

            phon = PhoneticNet.load(args.phonetic)
        scfg = SmootherConfig(seed=args.seed)
        scfg = replace(scfg, epochs=args.epochs or scfg.epochs)
        net, rep = train_smoother(psi, split, pca.components, out, scfg, resume=not args.restart, phonetic=phon)
        # chosen on the training speaker's held-out clips, so the held-out speakers stay out of every choice
        chosen_on = compare_smoothing(psi, net, split["val_seen"], pca.components, phonetic=phon)
        table = compare_smoothing(psi, net, split["val_unseen"], pca.components, phonetic=phon)
        net.save(out, {"val_seen": chosen_on, "val_unseen": table})
        rep.update(val_seen=chosen_on, val_unseen=table, choice=choose_smoothing(chosen_on))
        made.append(out.with_name("smoothing.json"))
        made[-1].write_text(json.dumps({"choice": rep["choice"], "rule": CHOICE_RULE + " (on val_seen)",
                                        "val_seen": chosen_on, "val_unseen": table}, indent=1))
    elif args.what == "renderer":
        from core.models.refiner import RefinerConfig
        from core.train.renderer import train_renderer

        if args.person:
            rep = _person_refiner(args, out)
        else:
            rcfg = RefinerConfig(seed=args.seed,
                                 data=f"GRID (CC BY 4.0), {Path(args.data).name}: training speaker's clips")
            rcfg = replace(rcfg, steps=args.epochs or rcfg.steps, reference=args.reference, jitter=args.jitter,
                           **({"gate": args.gate} if args.gate is not None else {}),
                           **({"colour": args.colour} if args.colour is not None else {}))
            _, rep = train_renderer(Path(args.data), out, rcfg, cache=out.parent / "renderer_pairs")
    elif args.what == "phonetic":
        rep = _phonetic(args, out)
    elif args.what == "live":
        from core.models.live import LiveConfig
        from core.train.live import run as train_live

        lcfg = replace(LiveConfig(seed=args.seed), lookahead_s=args.lookahead,
                       **({"epochs": args.epochs} if args.epochs else {}))
        rep = train_live([Path(p) for p in args.voices], out, lcfg, cache=out.parent / "live_teacher.npz",
                         grid_clips=args.grid_clips)
    elif args.what == "neutral":
        from core.train.neutral import train_neutral

        rep = train_neutral(Path(args.data), Path(args.pca), out)
    else:
        from core.models.blink import describe, fit_blinks

        pca, split = _load(args, ("train",))
        tr = split["train"]
        from core.face.canonical import canonical_face

        data = f"GRID (CC BY 4.0) training clips, {Path(args.data).name}"
        model = fit_blinks(
            [c.openness for c in tr], [c.coeffs for c in tr], tr[0].fps, pca.components, canonical_face(), data=data
        )
        model.save(out)
        rep = json.loads(describe(model))
    return rep, made


def _phonetic(args: argparse.Namespace, out: Path) -> dict:  # type: ignore[type-arg]
    """The phonetic encoder from phone corpora: GRID's training speaker's training clips, every other corpus whole;
    GRID's held-out clips and speakers and LibriSpeech's test-other validate."""
    from core.data.phone_corpus import LabelledClip, load_corpus
    from core.data.splits import split_of
    from core.models.phonetic import PhoneticConfig
    from core.train.phonetic import train_phonetic

    train: list[LabelledClip] = []
    val_seen: list[LabelledClip] = []
    val_unseen: list[LabelledClip] = []
    val_other: list[LabelledClip] = []
    for folder in map(Path, args.corpora):
        for c in load_corpus(folder):
            if c.kind == "aligned":  # GRID: split by speaker and clip as everywhere else
                {"train": train, "val_seen": val_seen, "val_unseen": val_unseen}[split_of(c.name, c.speaker)].append(c)
            elif "test" in folder.name:
                val_other.append(c)
            else:
                train.append(c)
    val = {k: v for k, v in (("grid_val_seen", val_seen[:60]), ("grid_unseen", val_unseen),
                             ("libri_test_other", val_other)) if v}
    kinds = sorted({c.kind for c in train})
    cfg = PhoneticConfig(seed=args.seed, data=f"{len(train)} clips ({', '.join(kinds)}) from "
                         + ", ".join(Path(p).name for p in args.corpora))
    cfg = replace(cfg, steps=args.epochs or cfg.steps)
    print(f"phonetic encoder: {len(train)} training clips ({sum(len(c.audio) for c in train) / 16000 / 60:.1f} min), "
          + ", ".join(f"{k} {len(v)}" for k, v in val.items()), flush=True)
    _, rep = train_phonetic(train, val, out, cfg, args.device, resume=not args.restart,
                            rooms_cache=out.parent / f"rooms_{cfg.rooms}_{cfg.seed}.npz")
    return rep


def _person_refiner(args: argparse.Namespace, out: Path) -> dict:  # type: ignore[type-arg]
    """``--person VIDEO``: the shipped refiner (or a fresh one where none ships) fine-tuned on a person's footage."""
    from core.models.refiner import RefinerConfig, RefinerNet
    from core.render.video import REFINER
    from core.train.renderer import person_pairs, train_renderer

    base = Path(args.refiner or REFINER)
    init = base if base.is_file() else None
    cfg = RefinerNet.load(base).cfg if init is not None else RefinerConfig()
    video = Path(args.person)
    cfg = replace(cfg, steps=args.epochs or 400, lr=cfg.lr / 4 if init is not None else cfg.lr, seed=args.seed,
                  data=f"{video.name}: the person's own footage, fine-tuned from {init.name if init else 'scratch'}")
    print(f"tracking {video} …", flush=True)
    train, val = person_pairs(video, cfg.crop, pairs=args.pairs, reference=cfg.reference)
    _, rep = train_renderer(Path(args.data), out, cfg, init=init, train_pairs=train, val_pairs=val)
    return rep


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    t = sub.add_parser("train", help="train Ψ (expression), Φ (motion), the smoother, the blink model or the "
                       "rest estimator")
    t.add_argument("what", choices=["expression", "motion", "smoother", "blinks", "neutral", "renderer", "phonetic",
                                         "live"])
    t.add_argument("data", nargs="?", default="data/grid", help="a folder made by `parley data prepare`")
    t.add_argument("--out", help="checkpoint to write (default runs/<model>.safetensors)")
    t.add_argument("--promote", action="store_true",
                   help="when done, copy the checkpoint (and smoothing.json) into core/assets: what ships")
    t.add_argument("--variant", choices=["tcn", "paper", "parley"], help="expression: tcn|paper; motion: parley|paper")
    t.add_argument("--epochs", type=int, help="epochs (renderer, phonetic: optimisation steps)")
    t.add_argument("--corpora", nargs="+", default=["data/phones/grid", "data/phones/librispeech",
                                                    "data/phones/synthetic", "data/phones/librispeech-test"],
                   help="phonetic: phone corpora from `parley data phones` (a folder named *test* validates)")
    t.add_argument("--target", choices=["rest", "reference"], default="rest",
                   help="expression: coefficients relative to the face's rest (default) or to the reference frame")
    t.add_argument("--feature-norm", choices=["utterance", "global"], default="utterance",
                   help="expression: per-utterance spectral mean removal (default) or the training set's statistics")
    t.add_argument("--phone-weight", type=float, default=1e-4,
                   help="expression: weight of the mouth-class loss (0: none; default 1e-4, about the landmark loss)")
    t.add_argument("--phones", nargs="*", default=["data/librispeech"],
                   help="expression: audio-only speech labelled by `parley data phones` (default data/librispeech)")
    t.add_argument("--inputs", choices=["mel", "phones", "phones+mel"], default="phones+mel",
                   help="expression: what Ψ hears — the phonetic encoder's evidence fused with the spectrum (default), "
                   "the evidence alone, or the spectrum alone (the v2 design)")
    t.add_argument("--phonetic", default=str(ASSETS / "phonetic.safetensors"),
                   help="expression: the phonetic encoder Ψ hears through (default: the shipped one)")
    t.add_argument("--text-prob", type=float, default=0.4,
                   help="expression: share of training clips given their aligned sentence, as --text does "
                   "(default 0.4)")
    t.add_argument("--voice-prob", type=float, default=0.5,
                   help="expression: share of training clips given another pitch and vocal-tract length (default 0.5)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--voices", nargs="+", default=["../shared/data/grid", "../shared/data/librispeech"],
                   help="live: audio folders the offline pipeline is distilled on (GRID: its training speaker; "
                        "LibriSpeech: train-clean-100; the rest is held out)")
    t.add_argument("--lookahead", type=float, default=0.06,
                   help="live: seconds of audio after a frame's start the causal model may hear (default 0.06)")
    t.add_argument("--grid-clips", type=int, default=600, help="live: GRID training clips to use (default 600)")
    t.add_argument("--synthetic", action="store_true",
                   help="live: also distil on festival/flite/espeak-ng voices made into runs/live_synth (resumable)")
    t.add_argument("--person", metavar="VIDEO", help="renderer: fine-tune on a person's own footage (a minute of "
                   "them talking) into a personal checkpoint (default runs/person_refiner.safetensors)")
    t.add_argument("--refiner", help="renderer --person: the refiner to start from (default the shipped one)")
    t.add_argument("--reference", choices=["photo", "open"], default="photo",
                   help="renderer: the refiner's reference window — the photo's mouth (default: refiner.safetensors)"
                   ", or the footage's most open mouth (refiner_video.safetensors, used for face videos)")
    t.add_argument("--jitter", type=float, default=0.0,
                   help="renderer: shift the warped input against its target by up to this many pixels in training "
                   "(robustness to the tracker's noise; default 0)")
    t.add_argument("--gate", type=int, help="renderer: pixels around the mouth's inside the refiner may change "
                   "(odd; 0: anywhere in its window; default 13)")
    t.add_argument("--colour", type=float, help="renderer: colour-gain augmentation spread (default 0.25)")
    t.add_argument("--pairs", type=int, default=320, help="renderer --person: frames to learn from (default 320)")
    t.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N")
    t.add_argument("--threads", type=int, default=max(1, os.cpu_count() or 1))
    t.add_argument("--restart", action="store_true", help="ignore a saved .state.pt and start from epoch 0")
    t.add_argument("--pca", default=str(ASSETS / "landmark_pca.safetensors"))
    t.add_argument("--expression", default=str(ASSETS / FILE["expression"]),
                   help="Ψ checkpoint the smoother learns from (default: the shipped one)")
    t.set_defaults(func=cmd_train)
