"""The 3D-aware warp: a photo re-posed and re-expressed through its fitted head."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import ParleyError
from core.face.arkit import INDEX
from core.metrics.image import psnr
from tests.core.face.test_head import photo_and_landmarks


@pytest.fixture(scope="module")
def renderer():  # type: ignore[no-untyped-def]
    from core.face.head import textured_head
    from core.render.warp import WarpRenderer, make_stage

    rgb, lm, frame, rest = photo_and_landmarks()
    return WarpRenderer(make_stage(rgb, lm, textured_head(rgb, lm, frame, rest)), 256)


def test_the_photos_own_pose_and_expression_give_the_photo_back(renderer) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    head = renderer.stage.head
    same = renderer.frame(head.photo_arkit, np.zeros(6, np.float32))
    photo = np.asarray(Image.fromarray(renderer.stage.rgb).resize((renderer.width, renderer.height)))
    assert same.shape == (renderer.height, renderer.width, 3) and max(same.shape[:2]) == 256
    assert psnr(same, photo) > 32


def test_a_frame_moves_the_face_and_only_around_it(renderer) -> None:  # type: ignore[no-untyped-def]
    head = renderer.stage.head
    base = renderer.frame(head.photo_arkit, np.zeros(6, np.float32))
    w = head.photo_arkit.copy()
    w[INDEX["jawOpen"]] = 0.6
    w[INDEX["eyeBlinkLeft"]] = w[INDEX["eyeBlinkRight"]] = 1.0
    moved = renderer.frame(w, np.array([0.08, 0.15, 0.0, 0.0, 0.0, 0.0], np.float32))
    diff = np.abs(moved.astype(int) - base.astype(int)).sum(-1) > 30
    ys, xs = np.nonzero(diff)
    assert diff.mean() > 0.01  # the face changed …
    corners = [diff[:20, :20], diff[:20, -20:], diff[-20:, :20], diff[-20:, -20:]]
    assert not any(c.any() for c in corners)  # … and the background did not
    assert np.ptp(xs) < 0.7 * renderer.width


def test_sizes_are_checked() -> None:
    from core.render.warp import WarpRenderer

    with pytest.raises(ParleyError, match="--size 4096"):
        WarpRenderer(None, 4096)  # type: ignore[arg-type]


def test_the_mesh_draws_the_face_jaw_and_neck_and_leaves_ears_and_scalp_to_the_flow(renderer) -> None:  # type: ignore[no-untyped-def]
    from core.face.ict import load_head
    from core.render.warp import _unseen_skin

    head = renderer.stage.head
    unseen = _unseen_skin(head)
    h = load_head()
    points = h.at_points(head.vertices[: len(h.neutral)].astype(np.float64))
    centres = head.vertices[head.triangles].mean(1)

    def near(i: int, radius: float = 0.008) -> np.ndarray:
        return (np.linalg.norm(centres - points[i], axis=1) < radius) & (head.material == 0)

    for i in (1, 4, 50, 280, 13, 14, 159, 386, 18):  # nose tip and bridge, cheeks, lips, eyelids, under the lip
        assert near(i).any() and not unseen[near(i)].any(), i  # the face the photo saw: drawn, nostrils included
    skin = head.material == 0
    top = skin & (centres[:, 1] > points[10, 1] + 0.04)  # the crown
    mouth_y = points[[61, 291], 1].mean()
    side = skin & (np.abs(centres[:, 0] - points[1, 0]) > 0.075) & (centres[:, 1] < points[10, 1]) & (
        centres[:, 1] > mouth_y + 0.01)  # temples, ears
    assert unseen[top].mean() > 0.95 and unseen[side].mean() > 0.9
    chin = points[152]
    front = centres[:, 2] > chin[2] - 0.08
    jaw = skin & front & (centres[:, 1] < mouth_y - 0.01) & (np.abs(centres[:, 0] - chin[0]) < 0.04)
    neck = skin & (centres[:, 1] < chin[1] - 0.01)
    assert not unseen[jaw | neck].any()  # the jaw, its underside and the neck move with the mouth: the mesh's
    # by the jaw's corners, what the photo saw edge-on (the ear lobe, the neck's shadow) is left to the flow
    corners = skin & front & (centres[:, 1] < mouth_y - 0.01) & (centres[:, 1] > chin[1] + 0.01) & (
        np.abs(centres[:, 0] - chin[0]) > 0.06)
    assert corners.sum() > 50 and unseen[corners].mean() > 0.4
    names = [m.name for m in head.materials]
    drawn = set(np.unique(head.material[renderer.keep]))
    assert {names.index(n) for n in ("iris", "sclera", "teeth", "gums_tongue")} <= drawn  # eyes and mouth always


def test_a_barely_open_mouth_is_dark_inside(renderer, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A slit lets little light in: the inside of a mouth opened a few millimetres is drawn darker than the same
    inside lit as a wide-open one would be, teeth included; a wide-open mouth is lit in full."""
    import cv2

    from core.render import warp

    assert warp.slit_light(0.0) == warp.SLIT_FLOOR and warp.slit_light(1.0) == 1.0
    assert warp.slit_light(0.002) < warp.slit_light(0.004) < warp.slit_light(warp.SLIT_GAP) == 1.0

    def inside_l(jaw: float) -> float:
        w = np.zeros(52, np.float32)
        w[INDEX["jawOpen"]] = jaw
        img = renderer.frame(w, np.zeros(6, np.float32))
        lab = cv2.cvtColor(img.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
        return float(lab[renderer.inner_part >= 0, 0].mean())

    slit, wide = inside_l(0.12), inside_l(0.8)
    monkeypatch.setattr(warp, "SLIT_FLOOR", 1.0)
    assert slit < inside_l(0.12) - 5.0  # the slit's shadow
    assert abs(wide - inside_l(0.8)) < 0.5  # a wide mouth is not in it


def test_a_barely_open_mouth_takes_the_lips_hue(renderer, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Through a slit one sees the lips' wet inner side: the inside's a*, b* of a mouth opened a few millimetres
    are nearer the photo's lips' than without the tint; a wide-open mouth's are not moved."""
    import cv2

    from core.render import warp

    assert renderer.lip_ab is not None

    def inside_ab(jaw: float) -> np.ndarray:
        w = np.zeros(52, np.float32)
        w[INDEX["jawOpen"]] = jaw
        img = renderer.frame(w, np.zeros(6, np.float32))
        lab = cv2.cvtColor(img.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
        return np.asarray(lab[renderer.inner_part >= 0, 1:].mean(0))

    slit, wide = inside_ab(0.12), inside_ab(0.8)
    monkeypatch.setattr(warp, "LIP_TINT", 0.0)
    plain_slit = inside_ab(0.12)
    assert np.linalg.norm(slit - renderer.lip_ab) < np.linalg.norm(plain_slit - renderer.lip_ab) - 1.0
    assert np.linalg.norm(wide - inside_ab(0.8)) < 0.5


def test_the_skin_under_the_jaw_moves_with_the_jaw_without_parallax(renderer) -> None:  # type: ignore[no-untyped-def]
    from core.metrics.regions import JAW
    from core.render.warp import UNDER_JAW, UNDER_JAW_FADE

    head = renderer.stage.head
    band = renderer.under_jaw
    assert len(band) > 0 and 0.0 < renderer.under_w.min() and renderer.under_w.max() <= 1.0
    # at the photo's own expression and pose nothing under the jaw moves
    still = renderer._posed(head.photo_arkit, np.zeros(6, np.float32))
    assert np.allclose(still[band], renderer.photo_v[band], atol=1e-6)
    # a lifted chin and a turn: the band's most bound skin follows the chin's shift more closely than it would alone
    pose = np.array([-0.15, 0.2, 0.0, 0.0, 0.0, 0.0], np.float32)
    posed = renderer._posed(head.photo_arkit, pose)
    ict = renderer._ict
    chin = ict.at_points(posed)[152] - ict.at_points(renderer.photo_v)[152]
    top = band[np.argmax(renderer.under_w)]
    saved = renderer.under_jaw
    renderer.under_jaw = band[:0]
    try:
        alone = renderer._posed(head.photo_arkit, pose)
    finally:
        renderer.under_jaw = saved
    with_band = np.linalg.norm(posed[top] - renderer.photo_v[top] - chin)
    without = np.linalg.norm(alone[top] - renderer.photo_v[top] - chin)
    assert with_band < without
    # and none of the band lies farther from the jaw line than the band and its fade, none above it
    jaw = renderer.jaw_photo
    assert np.all(renderer.photo_v[band, 1] < np.interp(renderer.photo_v[band, 0], jaw[:, 0], jaw[:, 1]) + 1e-9)
    gap = np.min(np.linalg.norm(renderer.photo_v[band, None, :2] - ict.at_points(renderer.photo_v)[None, list(JAW),
                                                                                                   :2], axis=-1), 1)
    assert gap.max() <= UNDER_JAW + UNDER_JAW_FADE + 0.01  # nearest jaw point, not the line: a little slack


def test_a_translated_head_takes_its_hair_along(renderer) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    head = renderer.stage.head
    carry = renderer.carry
    assert carry.shape == (renderer.height, renderer.width) and carry.max() == 1.0
    assert carry[:4, :4].max() == 0.0 and carry[-4:, :].max() == 0.0  # the background and the shoulders stay
    t = np.array([0.0, 0.0, 0.0, 0.02, 0.0, 0.0], np.float32)  # 2 cm across
    moved = renderer.frame(head.photo_arkit, t).astype(np.float32)
    photo = np.asarray(Image.fromarray(renderer.stage.rgb).resize((renderer.width, renderer.height)), np.float32)
    to = renderer.stage.to_image
    d = (to.apply(np.array([[[0.02, 0.0, 0.0]]]))[0, 0] - to.apply(np.zeros((1, 1, 3)))[0, 0])[0] * renderer.scale
    shift = int(round(float(d)))
    assert abs(shift) >= 3
    # over the head's outline above the face (the hair, the scalp), the frame is the photo moved by the whole shift
    ys, xs = np.nonzero(carry[: renderer.height // 3] == 1.0)
    ok = (xs - shift >= 0) & (xs - shift < renderer.width)
    ys, xs = ys[ok], xs[ok]
    along = np.abs(moved[ys, xs] - photo[ys, xs - shift]).mean()
    still = np.abs(moved[ys, xs] - photo[ys, xs]).mean()
    assert along < 0.5 * still


def test_the_background_stays_where_the_photo_has_it(renderer) -> None:  # type: ignore[no-untyped-def]
    head = renderer.stage.head
    t = np.array([0.0, 0.1, 0.0, 0.02, 0.0, 0.0], np.float32)  # turned and moved 2 cm across
    moved = renderer.frame(head.photo_arkit, t).astype(np.float32)
    photo = renderer.photo.astype(np.float32)
    person = renderer.person > 0.0
    assert person.mean() > 0.1 and not person[: renderer.height // 2, :10].any()  # her, not the wall beside her
    changed = np.abs(moved - photo).max(-1) > 1.0
    rows = range(renderer.height // 8, renderer.height // 2)  # beside the head
    # the wall beside her, right up to her edge, is the photo's own on both sides (the old warp dragged it along)
    beside = np.zeros_like(person)
    for y in rows:
        xs = np.nonzero(person[y])[0]
        if len(xs):
            beside[y, : xs[0]] = beside[y, xs[-1] + 1:] = True
    to = renderer.stage.to_image
    d = (to.apply(np.array([[[0.02, 0.0, 0.0]]]))[0, 0] - to.apply(np.zeros((1, 1, 3)))[0, 0])[0] * renderer.scale
    left = beside & (np.arange(renderer.width)[None, :] < renderer.width // 2)
    away = left if d > 0 else beside & ~left  # the side the head moves away from: nothing covers that wall
    assert away.sum() > 500 and not changed[away].any()


def test_a_clean_plate_fills_the_person_from_the_background_round_them() -> None:
    from core.render.warp import clean_plate

    photo = np.zeros((100, 100, 3), np.uint8)
    photo[:, :50] = (200, 0, 0)
    photo[:, 50:] = (0, 0, 200)
    seen = np.zeros((100, 100), np.float32)
    seen[20:, 40:60] = 1.0  # a green person in the middle, to the bottom edge
    photo[seen > 0] = (0, 200, 0)
    mask, plate = clean_plate(photo, seen)
    assert mask[50, 50] == 1.0 and mask[50, 5] == 0.0 and mask[5, 50] < 1.0
    assert np.array_equal(plate[:, :30], photo[:, :30].astype(np.float32))  # the wall away from her untouched
    assert plate[60:, 40:60, 1].max() < 1.0  # nothing of her left
    assert plate[60, 42, 0] > 150 and plate[60, 58, 2] > 150  # each side continues its own wall
    photo[:, :40] = 0
    photo[23:27, :40] = 255  # a shelf's white edge beside her
    _, plate = clean_plate(photo, seen)
    assert plate[25, 46].min() > 200 and plate[40, 45].max() < 60  # runs on behind her at its own height


def test_hair_cut_by_the_frame_comes_in_without_streaks() -> None:
    from core.face.media import load_image
    from core.render.video import stage_of
    from core.render.warp import WarpRenderer
    from tests.core.face.test_head import PHOTO

    rgb = load_image(PHOTO)
    r = WarpRenderer(stage_of(np.ascontiguousarray(rgb[40:300, 100:360])), 256)  # her hair cut by the top edge
    hair = r.person[0] > 0.5
    assert hair.sum() > 40
    down = np.array([0.0, 0.0, 0.0, 0.0, -0.03, 0.0], np.float32)  # 3 cm down: what was above the frame comes in
    img = r.frame(r.stage.head.photo_arkit, down).astype(np.float32)
    # the rows coming in from above vary as hair does; the old border repeated the top row down each column
    assert np.abs(img[0, hair] - img[6, hair]).mean() > 4.0


def test_a_photo_the_segmentation_cannot_read_moves_as_a_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    import core.render.warp as warp
    from core.face.head import textured_head

    rgb, lm, frame, rest = photo_and_landmarks()
    stage = warp.make_stage(rgb, lm, textured_head(rgb, lm, frame, rest))
    monkeypatch.setattr(warp, "person_mask", lambda img: np.zeros(img.shape[:2], np.float32))  # finds nobody
    r = warp.WarpRenderer(stage, 128)
    # no one found on a face the head was fitted to: the segmentation failed, and the whole photo is the person
    assert r.person.min() == 1.0 and np.array_equal(r.plate, r.photo.astype(np.float32))
