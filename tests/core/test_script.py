"""The script path: a line's words drive the mouth where the voice says them; a wrong script is noticed and left
out; dialogue files, --text-file and --language on the CLI and in batch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.animate import animate
from core.cli import main
from core.contract import check_contract
from core.data.tts import available, synthesize
from core.errors import ParleyError
from core.face.geometry import lip_gap

LINE = "Bob made my map of Bombay by the pump."
OTHER = "Fish swim quietly in the deep green sea."
needs_flite = pytest.mark.skipif(not available("flite:kal"), reason="flite is not installed")


@pytest.fixture(scope="module")
def line() -> np.ndarray:
    if not available("flite:kal"):
        pytest.skip("flite is not installed")
    return synthesize(LINE, "flite:kal").samples


@pytest.fixture
def line_wav(line: np.ndarray, tmp_path: Path) -> Path:
    f = tmp_path / "line.wav"
    sf.write(f, line, 16000)
    return f


def _audio(x: np.ndarray):  # type: ignore[no-untyped-def]
    from core.audio.decode import Audio

    return Audio(x, 16000, 16000, 1, "line")


def test_the_true_script_is_found_and_drives_the_mouth(line: np.ndarray) -> None:
    plain = animate(_audio(line), fps=30)
    scripted = animate(_audio(line), fps=30, text=LINE)
    check_contract(scripted, len(line) / 16000)
    s = scripted.meta["script"]
    assert s["matched_share"] >= 0.85 and s["words"] == 9 and s["language"] == "en"
    assert not any("not heard" in n for n in scripted.meta["notes"])
    assert not np.array_equal(plain.landmarks, scripted.landmarks)  # the words change the mouth
    r = float(np.corrcoef(lip_gap(plain.landmarks), lip_gap(scripted.landmarks))[0, 1])
    assert r > 0.6  # … and still with the voice's timing


def test_a_wrong_script_is_noticed_and_the_mouth_follows_the_voice(line: np.ndarray) -> None:
    plain = animate(_audio(line), fps=30)
    wrong = animate(_audio(line), fps=30, text=OTHER)
    s = wrong.meta["script"]
    assert s["matched_share"] <= 0.4 and s["unmatched"]
    assert any("not heard in the audio" in n for n in wrong.meta["notes"])
    r = float(np.corrcoef(lip_gap(plain.landmarks), lip_gap(wrong.landmarks))[0, 1])
    assert r > 0.85


def test_scripts_are_checked_before_any_work() -> None:
    with pytest.raises(ParleyError, match="--language xx"):
        animate(_audio(np.zeros(16000, np.float32)), text="hello", language="xx")
    with pytest.raises(ParleyError, match="at most 20,000"):
        animate(_audio(np.zeros(16000, np.float32)), text="word " * 5000)


def test_cli_text_file_and_its_errors(line_wav: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    script = tmp_path / "line.txt"
    script.write_bytes(("\ufeff" + LINE + "\n").encode())  # a byte-order mark, as Windows editors write
    out = tmp_path / "r.npz"
    assert main(["animate", str(line_wav), "--text-file", str(script), "--out", str(out)]) == 0
    with np.load(out) as z:
        meta = json.loads(str(z["meta"]))
    assert meta["script"]["text"] == LINE and meta["script"]["matched_share"] >= 0.85
    for argv, words in ((["--text", "hi", "--text-file", str(script)], "give one of them"),
                        (["--text-file", str(tmp_path / "missing.txt")], "script file not found")):
        assert main(["animate", str(line_wav), *argv, "--out", str(tmp_path / "x.npz")]) == 2
        assert words in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()
    with pytest.raises(SystemExit):
        main(["animate", str(line_wav), "--text", "hola", "--language", "xx", "--out", str(tmp_path / "x.npz")])


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_another_language_through_espeak() -> None:
    from core.data.tts import espeak

    text = "Mi padre bebe una botella de agua."
    x = espeak(text, "es")
    res = animate(_audio(x), fps=30, text=text, language="es")
    assert res.meta["script"]["language"] == "es" and res.meta["script"]["matched_share"] >= 0.5
    wrong = animate(_audio(x), fps=30, text="El gato duerme sobre la cama.", language="es")
    assert wrong.meta["script"]["matched_share"] < res.meta["script"]["matched_share"] - 0.25


def test_batch_reads_the_dialogue_file_beside_each_line(line_wav: Path, tmp_path: Path) -> None:
    d = tmp_path / "lines"
    d.mkdir()
    shutil.copy(line_wav, d / "a.wav")
    shutil.copy(line_wav, d / "b.wav")
    (d / "a.txt").write_text(LINE)
    assert main(["batch", str(d), "--out", str(tmp_path / "out"), "--workers", "1"]) == 0
    metas = {}
    for name in ("a", "b"):
        with np.load(tmp_path / "out" / f"{name}.npz") as z:
            metas[name] = json.loads(str(z["meta"]))
    assert metas["a"]["script"]["text"] == LINE and metas["a"]["script_file"].endswith("a.txt")
    assert "script" not in metas["b"]
    assert main(["batch", str(d), "--out", str(tmp_path / "plain"), "--workers", "1", "--ignore-scripts"]) == 0
    with np.load(tmp_path / "plain" / "a.npz") as z:
        assert "script" not in json.loads(str(z["meta"]))
