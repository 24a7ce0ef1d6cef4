"""The phonetic encoder and the Ψ that hears it, trained a few steps on made-up speech: shapes, losses, resume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from core.data.phone_corpus import LabelledClip
from core.models.expression import ExpressionConfig, ExpressionNet, predict_with_visemes
from core.models.phonetic import PhoneticConfig, PhoneticNet, phone_posteriors
from core.speech.evidence import N_EVIDENCE, audio_evidence
from core.speech.phoneset import INDEX, N_PHONES, N_VISEMES, SIL
from core.train.common import state_path
from core.train.phonetic import collate, evaluate, loss_fn, make_crop, telephone, train_phonetic
from tests.conftest import speechlike
from tests.core.train.test_trainers import COMPONENTS, synthetic_clip

TINY = PhoneticConfig(hidden=16, dilations=(1, 2), steps=4, batch=3, crop_s=1.0, rooms=3)


def labelled(i: int, kind: str = "aligned") -> LabelledClip:
    audio = speechlike(2.0, seed=i)
    n = 1 + len(audio) // 160
    phones = np.full(n, SIL, np.uint8)
    phones[20:60], phones[60:90], phones[110:150] = INDEX["AA"], INDEX["M"], INDEX["IY"]
    return LabelledClip(f"c{i}", "s1", audio, phones, kind)


def test_network_shapes_and_posteriors() -> None:
    net = PhoneticNet(TINY)
    from core.audio.features import model_features

    mel = model_features(speechlike(1.0))
    post = phone_posteriors(net, mel)
    assert post.shape == ((len(mel) + 1) // 2, N_PHONES)
    np.testing.assert_allclose(post.sum(1), 1.0, atol=1e-5)
    ev = audio_evidence(post, mel)
    assert ev.shape == (len(post), N_EVIDENCE) and np.isfinite(ev).all()
    assert float(ev[:, -1].max()) <= 0.5 and float(ev[:, -1].min()) >= -3.0


def test_crops_stretch_their_labels_and_the_loss_is_finite() -> None:
    rng = np.random.default_rng(0)
    c = labelled(0)
    crops = [make_crop(c, TINY, rng, [c.audio], []) for _ in range(3)]
    for cr in crops:
        assert len(cr.labels) == len(cr.mel) and np.isfinite(cr.mel).all()
    mel, lab = collate(crops)
    assert lab.shape[1] == mel.shape[1] // 2
    loss = loss_fn(PhoneticNet(TINY)(mel), lab, PhoneticNet(TINY))
    assert torch.isfinite(loss) and float(loss.detach()) > 0
    phone_line = telephone(c.audio)
    assert phone_line.shape == c.audio.shape and np.isfinite(phone_line).all()


def test_trainer_saves_resumes_and_reports(tmp_path: Path) -> None:
    clips = [labelled(i) for i in range(3)] + [labelled(9, "synthetic")]
    out = tmp_path / "phonetic.safetensors"
    net, rep = train_phonetic(clips, {"val": clips[:1]}, out, TINY, progress=False, every=2)
    assert out.is_file() and state_path(out).is_file()
    assert [h["step"] for h in rep["history"]] == [2, 4]
    assert 0.0 <= rep["history"][-1]["val_phone_acc"] <= 1.0
    again, rep2 = train_phonetic(clips, {"val": clips[:1]}, out, TINY, progress=False, every=2)  # resumes: done
    assert rep2["history"] == rep["history"]
    e = evaluate(again, clips[:2])
    assert set(e) >= {"phone_acc", "viseme_acc", "bilabial_recall", "open_recall"}


def test_psi_that_hears_phones(tmp_path: Path) -> None:
    """Ψ reading the phonetic evidence (fused with the spectrum) trains, predicts, and gives mouth classes."""
    from core.train.expression import train_expression

    phon = PhoneticNet(TINY).eval()
    split = {"train": [synthetic_clip(i, "s1", "train") for i in range(3)],
             "val_unseen": [synthetic_clip(10, "s9", "val_unseen")]}
    cfg = ExpressionConfig(epochs=1, hidden=16, id_dim=4, batch_clips=2, inputs="phones+mel", text_prob=0.0)
    net, rep = train_expression(split, COMPONENTS, tmp_path / "psi.safetensors", cfg, progress=False, phonetic=phon)
    assert isinstance(net, ExpressionNet) and net.hears_phones
    from core.audio.features import model_features

    mel = model_features(speechlike(2.0))
    ev = audio_evidence(phone_posteriors(phon, mel), mel)
    q, vis = predict_with_visemes(net, mel, 60, 30.0, np.zeros(20, np.float32), ev)
    assert q.shape == (60, 20) and np.isfinite(q).all()
    assert vis is not None and vis.shape == (60, N_VISEMES)
    np.testing.assert_allclose(vis.sum(1), 1.0, atol=1e-4)
