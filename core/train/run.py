"""``parley train {expression,motion,smoother,blinks}``: load the prepared data once, train, report."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import replace
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[1] / "assets"
DEFAULT_OUT = {
    "expression": ASSETS / "expression.safetensors",
    "motion": ASSETS / "motion.safetensors",
    "smoother": ASSETS / "smoother.safetensors",
    "blinks": ASSETS / "blink.safetensors",
}


def _load(args: argparse.Namespace, splits: tuple[str, ...] = ("train", "val_seen", "val_unseen")):  # type: ignore[no-untyped-def]
    from core.face.canonical import canonical_face
    from core.models.pca import LandmarkPCA
    from core.train.data import load_clips

    pca = LandmarkPCA.load(args.pca)
    return pca, load_clips(Path(args.data), pca, canonical_face(), splits)


def cmd_train(args: argparse.Namespace) -> int:
    import torch

    torch.set_num_threads(args.threads)
    out = Path(args.out or DEFAULT_OUT[args.what])
    if args.what == "expression":
        from core.models.expression import ExpressionConfig
        from core.train.expression import train_expression

        pca, split = _load(args)
        ecfg = ExpressionConfig(variant=args.variant or "tcn", seed=args.seed)
        ecfg = replace(ecfg, epochs=args.epochs or ecfg.epochs)
        _, rep = train_expression(split, pca.components, out, ecfg, args.device, resume=not args.restart)
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
        from core.train.smoother import compare_smoothing, train_smoother

        pca, split = _load(args, ("train", "val_unseen"))
        psi = ExpressionNet.load(args.expression)
        scfg = SmootherConfig(seed=args.seed)
        scfg = replace(scfg, epochs=args.epochs or scfg.epochs)
        net, rep = train_smoother(psi, split, pca.components, out, scfg, resume=not args.restart)
        table = compare_smoothing(psi, net, split["val_unseen"], pca.components)
        net.save(out, {"val_unseen": table})
        rep["val_unseen"] = table
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
    print(json.dumps({k: v for k, v in rep.items() if k != "history"} | {"last": rep.get("history", [{}])[-1:]},
                     indent=1, ensure_ascii=False))  # fmt: skip
    print(f"→ {out}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    t = sub.add_parser("train", help="train Ψ (expression), Φ (motion), the smoother or the blink model")
    t.add_argument("what", choices=["expression", "motion", "smoother", "blinks"])
    t.add_argument("data", nargs="?", default="data/grid", help="a folder made by `parley data prepare`")
    t.add_argument("--out", help="checkpoint to write (default: the shipped one in core/assets)")
    t.add_argument("--variant", choices=["tcn", "paper", "parley"], help="expression: tcn|paper; motion: parley|paper")
    t.add_argument("--epochs", type=int)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N")
    t.add_argument("--threads", type=int, default=max(1, os.cpu_count() or 1))
    t.add_argument("--restart", action="store_true", help="ignore a saved .state.pt and start from epoch 0")
    t.add_argument("--pca", default=str(ASSETS / "landmark_pca.safetensors"))
    t.add_argument("--expression", default=str(DEFAULT_OUT["expression"]), help="Ψ checkpoint (for the smoother)")
    t.set_defaults(func=cmd_train)
