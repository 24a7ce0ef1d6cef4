"""The rendered mouth's inside matched to a face video's open mouths (``core.render.inside``)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from core.face.arkit import INDEX
from tests.core.face.test_head import photo_and_landmarks


@pytest.fixture(scope="module")
def person():  # type: ignore[no-untyped-def]
    """The demo photo's stage and its ICT identity."""
    from core.face.head import textured_head
    from core.face.ict import fit_head, load_head
    from core.render.warp import make_stage

    rgb, lm, frame, rest = photo_and_landmarks()
    stage = make_stage(rgb, lm, textured_head(rgb, lm, frame, rest, with_hair=False))
    return stage, fit_head(rest, load_head(), expression=False).identity


def open_views(stage, colours: dict[str, tuple[float, float, float]]):  # type: ignore[no-untyped-def]
    """Frames of the stage's head with its mouth open and drawn in ``colours`` — what a face video of a person whose
    mouth looks like that would show — with the head's landmarks where they are drawn (pixels, z kept)."""
    from core.face.ict import load_head
    from core.render.warp import WarpRenderer

    target = copy.deepcopy(stage)
    for m in target.head.materials:
        m.colour = colours.get(m.name, m.colour)
    r = WarpRenderer(target, max(stage.rgb.shape[:2]))
    views = []
    for jaw in (0.45, 0.6, 0.75):
        arkit = np.zeros(52, np.float32)
        arkit[INDEX["jawOpen"]] = jaw
        img = r.frame(arkit, np.zeros(6, np.float32))
        points = load_head().at_points(r._posed(arkit, np.zeros(6, np.float32)))
        views.append((img, (target.to_image.apply(points[None])[0] * r.scale).astype(np.float32)))
    return views


def test_a_dark_mouth_with_hidden_teeth_is_matched(person) -> None:  # type: ignore[no-untyped-def]
    from core.metrics.mouth import delta_e
    from core.render.inside import match_inside

    stage, identity = person
    stage = copy.deepcopy(stage)
    dark = {"teeth": (0.2, 0.17, 0.15), "gums_tongue": (0.3, 0.1, 0.1), "mouth_socket": (0.15, 0.05, 0.05)}
    views = open_views(stage, dark)
    got = match_inside(stage, views, identity)
    assert got is not None and got.views == 3
    assert got.seen_teeth < 0.05 < 0.1 < got.before_teeth  # the head bares teeth the video hardly shows
    assert got.after_teeth <= got.seen_teeth + 0.01 and got.teeth_dim < 1.0
    assert got.after_de < 4.0 < got.before_de  # the drawn inside comes to the video's mean
    colours = {m.name: m.colour for m in stage.head.materials}
    from core.face.mouth import to_lab

    assert delta_e(to_lab(np.asarray(colours["gums_tongue"]))[0], to_lab(np.asarray(dark["gums_tongue"]))[0]) < 15
    # the video shows no teeth: the head's, dimmed into the mouth's shadow, take the hue of what it does show there
    from core.face.mouth import open_lab
    from core.metrics.mouth import teeth_pixels

    seen = open_lab(views)
    seen_rest = seen[~teeth_pixels(seen)].mean(0)
    assert np.abs(to_lab(np.asarray(colours["teeth"]))[0, 1:] - seen_rest[1:]).max() < 3.0


def test_a_video_like_the_head_leaves_it_nearly_as_it_is(person) -> None:  # type: ignore[no-untyped-def]
    from core.render.inside import match_inside

    stage, identity = person
    stage = copy.deepcopy(stage)
    before = {m.name: m.colour for m in stage.head.materials}
    got = match_inside(stage, open_views(stage, {}), identity)
    assert got is not None and got.after_de <= got.before_de < 3.0 and got.teeth_dim > 0.8
    after = {m.name: m.colour for m in stage.head.materials}
    assert np.allclose(after["skin"], before["skin"]) and np.allclose(after["iris"], before["iris"])


def test_shut_mouths_change_nothing(person) -> None:  # type: ignore[no-untyped-def]
    from core.render.inside import match_inside

    stage, identity = person
    stage = copy.deepcopy(stage)
    before = [m.colour for m in stage.head.materials]
    shut = [(np.zeros_like(stage.rgb), np.zeros((468, 3), np.float32))]  # a ring of one point: no inside seen
    assert match_inside(stage, shut, identity) is None
    assert [m.colour for m in stage.head.materials] == before


def test_the_match_is_never_worse_at_the_views_than_the_head(person) -> None:  # type: ignore[no-untyped-def]
    """A video the head cannot follow (a green inside): the tongue stays in its red range, and what is kept is no
    further from the video than the head was."""
    from core.face.mouth import to_lab
    from core.render.inside import AB_RANGE, match_inside

    stage, identity = person
    stage = copy.deepcopy(stage)
    got = match_inside(stage, open_views(stage, {"gums_tongue": (0.1, 0.6, 0.1), "mouth_socket": (0.05, 0.3, 0.05)}),
                       identity)
    assert got is not None and got.after_de <= got.before_de
    lab = to_lab(np.asarray({m.name: m.colour for m in stage.head.materials}["gums_tongue"]))[0]
    assert lab[1] >= AB_RANGE[0] - 1.0


def test_a_face_video_stage_is_matched() -> None:
    from core.render.video import stage_from
    from tests.conftest import FIXTURE_VIDEO

    stage = stage_from(FIXTURE_VIDEO)
    m = stage.inside_match
    assert m is not None and 1 <= m.views <= 16 and m.after_de <= m.before_de
