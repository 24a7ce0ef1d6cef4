from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from core.cli import main
from tests.conftest import FIXTURES


def test_prepare_fixture_clips_resumable_and_skips_bad(tmp_path: Path) -> None:
    src = tmp_path / "videos"
    shutil.copytree(FIXTURES / "grid", src)
    (src / "s4" / "broken.mp4").write_text("not a video")
    out = tmp_path / "prepared"
    assert main(["data", "prepare", str(src), "--out", str(out), "--workers", "1"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert {c["speaker"] for c in manifest["clips"]} == {"s2", "s4"}
    assert [Path(s["path"]).name for s in manifest["skipped"]] == ["broken.mp4"]
    clip = manifest["clips"][0]
    with np.load(out / clip["file"]) as z:
        T = clip["frames"]
        assert z["landmarks"].shape == (T, 468, 3) and z["pose"].shape == (T, 6)
        assert z["audio"].dtype == np.int16 and z["mel"].shape[1] == 80
        assert np.isfinite(z["landmarks"]).all() and float(z["fps"]) == 25.0
    track = next((out / "tracks").glob("*.npz"))
    stamp = track.stat().st_mtime_ns
    assert main(["data", "prepare", str(src), "--out", str(out), "--workers", "1"]) == 0
    assert track.stat().st_mtime_ns == stamp  # not tracked again
