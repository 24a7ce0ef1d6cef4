"""Precompute the built-in portrait's Reference: ``core/assets/demo_reference.npz``.

    .venv/bin/python scripts/make_demo_reference.py

``parley animate`` without ``--face`` (and ``parley batch``) loads it instead of tracking and reconstructing
``core/assets/demo_face.jpg`` on every start. ``tests/core/test_animate.py`` checks that it still equals a fresh
reconstruction, so a change to the tracker or the rest estimator that makes it stale fails a test: run this again.
"""

from __future__ import annotations

from core.reference import DEMO_FACE, DEMO_REFERENCE, reference_of


def main() -> int:
    from core.face.reconstruct import reconstruct

    path = reference_of(reconstruct(DEMO_FACE, head=False), DEMO_FACE).save(DEMO_REFERENCE)
    print(f"→ {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
