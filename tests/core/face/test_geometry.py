from __future__ import annotations

import numpy as np
import pytest

from core.face.canonical import canonical_face, mirror_pairs
from core.face.geometry import (
    apply_pose,
    disentangle,
    euler_to_rotation,
    fit_similarity,
    mouth_aperture,
    rotation_to_euler,
)


def test_similarity_recovers_a_known_transform() -> None:
    rng = np.random.default_rng(1)
    model = rng.normal(size=(468, 3))
    rot = euler_to_rotation(np.array([[0.2, -0.4, 0.1]]))
    obs = 3.0 * model @ rot[0].T + np.array([1.0, 2.0, -3.0])
    sim = fit_similarity(obs[None], model)
    assert sim.scale[0] == pytest.approx(3.0)
    np.testing.assert_allclose(sim.rotation[0], rot[0], atol=1e-9)
    np.testing.assert_allclose(sim.invert_apply(obs[None])[0], model, atol=1e-9)


def test_euler_round_trip() -> None:
    e = np.array([[0.3, -0.2, 0.5], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(rotation_to_euler(euler_to_rotation(e)), e, atol=1e-6)


def test_disentangle_recovers_pose_and_keeps_expression() -> None:
    can = canonical_face()
    T = 20
    yaw = np.linspace(-0.3, 0.3, T)
    pose = np.zeros((T, 6), np.float32)
    pose[:, 1] = yaw
    expr = np.repeat(can[None], T, axis=0)
    expr[:, 14, 1] -= np.linspace(0, 0.01, T)  # the lower lip opens by up to 1 cm
    cam = apply_pose(expr, pose) * 500.0  # metres → pixels
    parts = disentangle(cam, can)
    np.testing.assert_allclose(parts.pose[:, 1], yaw, atol=1e-3)
    assert parts.frontal_index in (T // 2 - 1, T // 2)
    ap = mouth_aperture(parts.expression_landmarks)
    np.testing.assert_allclose(ap, mouth_aperture(expr), atol=1e-3)


def test_canonical_face_is_frontal_and_symmetric() -> None:
    can = canonical_face()
    assert can.shape == (468, 3)
    assert np.linalg.norm(can[33] - can[263]) == pytest.approx(0.09, rel=1e-3)
    assert can[263, 0] > can[33, 0]  # the face's left eye is on the viewer's right
    assert can[10, 1] > can[152, 1]  # forehead above chin
    assert can[1, 2] > can[234, 2]  # nose tip nearer the camera than the cheek side
    pairs = mirror_pairs(can)
    mirrored = can[pairs] * np.array([-1, 1, 1])
    assert np.abs(mirrored - can).mean() < 0.004  # symmetric to a few millimetres


def test_the_open_reference_is_the_widest_mouth_away_from_the_targets() -> None:
    from core.face.canonical import canonical_face
    from core.face.geometry import open_frame

    lm = np.repeat(canonical_face()[None], 30, 0).astype(np.float32)
    lm[:, 14, 1] -= np.linspace(0, 0.01, 30)[:, None][:, 0]  # the lower inner lip drops further each frame
    pose = np.zeros((30, 6), np.float32)
    assert open_frame(lm, pose, 0) == 29
    assert open_frame(lm, pose, 0, avoid=[28]) == 24  # 3 frames either side of a target are left alone
    pose[20:, 1] = np.radians(20)  # turned away: not a reference
    assert open_frame(lm, pose, 0) == 19
    assert open_frame(lm[:1], pose[:1], 0) is None


def test_the_open_frames_are_the_widest_fifth_spread_over_their_ranks() -> None:
    from core.face.canonical import canonical_face
    from core.face.geometry import open_frames

    lm = np.repeat(canonical_face()[None], 100, 0).astype(np.float32)
    lm[:, 14, 1] -= np.linspace(0, 0.01, 100)  # the lower inner lip drops further each frame
    pose = np.zeros((100, 6), np.float32)
    assert open_frames(lm, pose, 0, most=50) == list(range(80, 100))  # the widest 20 % of the 99 beside the photo
    assert open_frames(lm, pose, 0, most=5) == [80, 85, 89, 94, 99]  # spread over those ranks
    pose[90:, 1] = np.radians(20)  # turned away: not shown
    assert max(open_frames(lm, pose, 0)) == 89 and 95 not in open_frames(lm, pose, 0, avoid=[95])
    assert open_frames(lm[:1], pose[:1], 0) == []

