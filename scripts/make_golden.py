"""Write the golden outputs of every shipped checkpoint: fixed inputs → ``tests/fixtures/golden/golden.npz``.

    .venv/bin/python scripts/make_golden.py

Run it after a checkpoint is retrained and promoted (and say so in the commit): ``tests/core/models/test_golden.py``
then checks that the shipped files still give these outputs, so a checkpoint that changes by accident — a
different file, a changed loader, a preprocessing change — fails a test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.loading import Models

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "golden" / "golden.npz"


def golden_outputs() -> dict[str, np.ndarray]:
    """The outputs of each shipped checkpoint and asset on fixed inputs (3 s of the demo voice at 25 fps)."""
    import torch

    from core.audio.decode import load_audio
    from core.audio.features import frame_count, model_features
    from core.cli import DEMO_AUDIO
    from core.loading import ASSETS, load_models
    from core.models.expression import predict_with_visemes
    from core.models.motion import predict_motion
    from core.models.smoother import AdaptiveSmoother, smooth_adaptive
    from core.shaping import shape_lips

    torch.set_num_threads(1)
    m = load_models()
    x = load_audio(DEMO_AUDIO).samples[: 3 * 16000]
    n, fps = frame_count(3.0, 25.0), 25.0
    mel = model_features(x)
    from core.speech.script import hear

    heard = hear(m.phonetic, mel) if m.phonetic is not None else None
    ev = None if heard is None else heard.evidence
    q, vis = predict_with_visemes(m.expression, mel, n, fps, np.zeros(20, np.float32), ev)
    scripted = hear(m.phonetic, mel, "Hello there, my name is Parley.") if m.phonetic is not None else None
    q_text = predict_with_visemes(m.expression, mel, n, fps, np.zeros(20, np.float32),
                                  scripted.evidence)[0] if scripted is not None else np.zeros(0, np.float32)
    rest, e = m.neutral.estimate(m.canonical + 0.1 * m.neutral.opening.reshape(468, 3), m.canonical)
    from core.face.ict import fit_head
    from core.face.retarget import arkit_basis, solve_arkit

    shaped = shape_lips(m, q, rest, x, fps, visemes=vis)
    blink = m.blink.sample(n, fps, seed=0)
    offsets = (shaped @ m.pca.components[: shaped.shape[1]]).reshape(n, 468, 3)
    return {
        "phonetic": np.zeros(0, np.float32) if ev is None else ev,
        "expression_text": q_text,
        "expression": q,
        "expression_shaped": shaped,
        "visemes": vis if vis is not None else np.zeros(0, np.float32),
        "motion": predict_motion(m.motion, mel, n, fps, None),
        "blink": blink,
        "smoother": smooth_adaptive(AdaptiveSmoother.load(ASSETS / "smoother.safetensors"), q, m.pca.components),
        "neutral_rest": rest,
        "neutral_expression": e,
        "pca": m.pca.encode((0.1 * m.neutral.opening).reshape(1, 468, 3)),
        "head_fit": fit_head(rest.astype(np.float32)).identity,  # the ICT head asset
        "arkit": solve_arkit(offsets, blink, arkit_basis(rest)),
        **spontaneous_outputs(x, n, fps, m),
        "refiner": refiner_output(False),
        "refiner_video": refiner_output(True),
    }


def refiner_output(video: bool) -> np.ndarray:
    """A shipped refiner (the photo one, or with ``video`` the face-video one) on a fixed window: the demo photo's
    mouth, darkened where a warp would have drawn the inside of the mouth (``core/assets/MODEL_CARD_refiner.md``)."""
    import cv2
    import torch

    from core.cli import DEMO_FACE
    from core.face.media import load_image
    from core.render.video import REFINER, REFINER_VIDEO, load_refiner

    net = load_refiner(REFINER_VIDEO if video else REFINER)
    crop = net.cfg.crop
    img = cv2.resize(load_image(DEMO_FACE)[280:420, 186:326], (crop, crop), interpolation=cv2.INTER_AREA)
    x = torch.from_numpy(img.astype(np.float32) / 255.0).permute(2, 0, 1)[None]
    mask = torch.zeros(1, 1, crop, crop)
    mask[..., crop // 2 - 4 : crop // 2 + 4, crop // 3 : 2 * crop // 3] = 1.0
    with torch.no_grad():
        return net(x * (1 - 0.7 * mask), mask, x)[0].numpy()


def spontaneous_outputs(x: np.ndarray, n: int, fps: float, m: Models) -> dict[str, np.ndarray]:
    """The spontaneous-motion layer on the same 3 s (its numbers and rules: MODEL_CARD_spontaneous.md)."""
    from core.audio.features import model_features
    from core.models import spontaneous as spm
    from core.models.motion import predict_motion

    pr = spm.prosody(x, n, fps)
    pose = spm.style_head(predict_motion(m.motion, model_features(x), n, fps), pr, fps, spm.DEFAULT_STYLE, seed=1)
    durations = m.blink.config.durations_s
    blink = spm.conversational_blinks(n, fps, pr.speech, m.blink.profile, durations, 17.0, seed=1)
    return {"spont_f0": pr.f0, "spont_pose": pose, "spont_blink": blink,
            "spont_gaze": spm.gaze(n, fps, blink, pose, "free", seed=1), "spont_brows": spm.brows(pr, n, fps, seed=1)}


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez(OUT, **golden_outputs())
    print(f"→ {OUT}")
