"""``parley train smoother``: fit the adaptive smoother on Ψ's own predictions, and compare it with the alternatives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from core.models.expression import ExpressionNet
from core.models.phonetic import PhoneticNet
from core.models.smoother import AdaptiveSmoother, SmootherConfig, gaussian_smooth, smooth_adaptive
from core.train.common import load_state, save_state, seed_everything
from core.train.data import Clip
from core.train.expression import psi_predictions, score_clips


def train_smoother(
    psi: ExpressionNet, split: dict[str, list[Clip]], components: np.ndarray, out: Path, cfg: SmootherConfig,
    resume: bool = True, progress: bool = True, phonetic: PhoneticNet | None = None,
) -> tuple[AdaptiveSmoother, dict[str, Any]]:
    """Learn per-frame weights that bring Ψ's predictions closest to the tracked truth (value and acceleration).
    A Ψ that hears phones predicts through ``phonetic``."""
    rng = seed_everything(cfg.seed)
    train = split["train"]
    preds = psi_predictions(psi, train, phonetic)
    truth = [c.coeffs - (c.rest_coeffs if psi.cfg.target == "rest" else c.coeffs[c.frontal_index]) for c in train]
    comp = torch.from_numpy(components[: preds[0].shape[1]]).float()
    net = AdaptiveSmoother(cfg)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    start, history = 0, []
    state = load_state(out, net, opt) if resume else None
    if state is not None:
        start, history = int(state["epoch"]), list(state["history"])
        rng = np.random.default_rng(cfg.seed + start)
    n = min(len(p) for p in preds)
    for epoch in range(start, cfg.epochs):
        net.train()
        order = rng.permutation(len(train))
        total = 0.0
        for i in tqdm(range(0, len(order), cfg.batch_clips), disable=not progress, leave=False,
                      desc=f"smoother {epoch + 1}/{cfg.epochs}"):
            idx = order[i : i + cfg.batch_clips]
            x = torch.from_numpy(np.stack([preds[j][:n] for j in idx])).float()
            y = torch.from_numpy(np.stack([truth[j][:n] for j in idx])).float()
            s = net(x, comp)
            acc_s, acc_y = s[:, 2:] - 2 * s[:, 1:-1] + s[:, :-2], y[:, 2:] - 2 * y[:, 1:-1] + y[:, :-2]
            loss = ((s - y) ** 2).mean() + cfg.acc_weight * ((acc_s - acc_y) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach())
        history.append({"epoch": epoch + 1, "loss": total})
        net.eval()
        net.save(out, {"epochs": epoch + 1})
        save_state(out, epoch + 1, net, opt, {"history": history})
    return AdaptiveSmoother.load(out), {"history": history}


def compare_smoothing(
    psi: ExpressionNet, smoother: AdaptiveSmoother | None, clips: list[Clip], components: np.ndarray,
    sigmas: tuple[float, ...] = (1.0, 2.0), phonetic: PhoneticNet | None = None,
) -> dict[str, dict[str, float]]:
    """Lip MSI ratio and aperture figures for no smoothing, fixed Gaussians and the adaptive smoother."""
    preds = psi_predictions(psi, clips, phonetic)
    t = psi.cfg.target
    out = {"none": score_clips(preds, clips, components, t)}
    for s in sigmas:
        out[f"gaussian:{s:g}"] = score_clips([gaussian_smooth(p, s) for p in preds], clips, components, t)
    if smoother is not None:
        out["adaptive"] = score_clips([smooth_adaptive(smoother, p, components) for p in preds], clips, components, t)
    return out


CHOICE_RULE = "the highest aperture r at lag 0 among the candidates whose lips are at least as steady as the footage " \
    "(lip MSI ratio ≥ 1); the steadiest if none is"


def choose_smoothing(table: dict[str, dict[str, float]]) -> str:
    """The smoothing to ship (``CHOICE_RULE``), as ``load_models`` reads it: "none", "gaussian:σ" or "adaptive"."""
    steady = {k: v for k, v in table.items() if v["lip_msi_ratio"] >= 1.0}
    if not steady:
        return max(table, key=lambda k: table[k]["lip_msi_ratio"])
    return max(steady, key=lambda k: steady[k]["aperture_r_lag0"])
