"""Train/validation split by speaker and by clip.

GRID here is dominated by speaker s1 (999 of 1066 clips). Every other speaker (s4 with 50 clips
and the small ones) is held out entirely, so validation figures come from voices and faces the
models never saw; a further 10% of s1's clips are held out by clip.
"""

from __future__ import annotations

import hashlib

TRAIN_SPEAKERS = ("s1",)
#: Speakers whose rest shapes set the identity prior of the rest estimator (``core.face.neutral``): the training
#: speaker and five one-clip speakers. Benchmarks leave these five out of their held-out groups.
REST_SPEAKERS = ("s1", "s2", "s3", "s5", "s20", "s22")
S1_HELD_OUT_FRACTION = 0.10


def split_of(key: str, speaker: str) -> str:
    """'train', 'val_seen' (held-out clips of a training speaker) or 'val_unseen' (held-out speaker)."""
    if speaker not in TRAIN_SPEAKERS:
        return "val_unseen"
    h = int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "val_seen" if h < S1_HELD_OUT_FRACTION else "train"
