from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.cli import main
from core.errors import TrackerUnavailable
from core.face.fan import aperture_68, check_available
from tests.conftest import FIXTURE_VIDEO


def test_unavailable_tracker_says_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-torch-home"))
    with pytest.raises(TrackerUnavailable, match="face-alignment") as err:
        check_available()
    assert "download" in str(err.value) or "not installed" in str(err.value)


def test_cli_refuses_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-torch-home"))
    pred = tmp_path / "p.npz"
    np.savez(pred, landmarks=np.zeros((75, 468, 3), np.float32), pose=np.zeros((75, 6), np.float32), fps=25.0)
    code = main(["eval", str(pred), "--truth", str(FIXTURE_VIDEO), "--truth-tracker", "face-alignment"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("parley: error:") and "face-alignment" in err


def test_aperture_68() -> None:
    lm = np.zeros((2, 68, 2))
    lm[:, 36] = [0, 0]
    lm[:, 45] = [10, 0]
    lm[:, 62] = [5, 1]
    lm[:, 66] = [5, 3]
    np.testing.assert_allclose(aperture_68(lm), [0.2, 0.2])


def test_weights_cached_as_pth_are_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checker accepts what its message asks for: .pth files as well as .zip."""
    import sys
    import types

    from core.face.fan import hub_checkpoints

    monkeypatch.setitem(sys.modules, "face_alignment", types.ModuleType("face_alignment"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    cache = hub_checkpoints()
    cache.mkdir(parents=True)
    (cache / "s3fd-619a316812.pth").write_bytes(b"x")
    (cache / "2DFAN4-cd938726ad.pth").write_bytes(b"x")
    check_available()  # no TrackerUnavailable
    (cache / "2DFAN4-cd938726ad.pth").unlink()
    with pytest.raises(TrackerUnavailable, match=r"\.zip or \.pth"):
        check_available()
