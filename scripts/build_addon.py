"""Build the Blender extension zip and validate it with Blender's own extension tool.

    .venv/bin/python scripts/build_addon.py            → dist/parley-<version>.zip

The zip holds ``addon/*.py``, the top-level ``blender_manifest.toml`` and ``local.json`` (this checkout's
``.venv/bin/parley``, the add-on's default server program). Blender's ``blender_ext.py`` (from the bpy
wheel, or ``blender --command extension``) builds it and validates the result; any complaint fails the build.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def blender_ext() -> list[str]:
    """The command that runs Blender's extension tool."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("bpy")
        assert spec is not None and spec.origin is not None
        found = sorted(Path(spec.origin).parent.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
        if found:
            return [sys.executable, str(found[-1])]
    except ImportError:
        pass
    blender = shutil.which("blender")
    if blender:
        return [blender, "--factory-startup", "--command", "extension"]
    raise SystemExit("build_addon: neither the bpy module nor a blender executable was found (bash setup.sh)")


def build(out_dir: Path) -> Path:
    manifest = tomllib.loads((ROOT / "blender_manifest.toml").read_text())
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{manifest['id']}-{manifest['version']}.zip"
    tool = blender_ext()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / manifest["id"]
        src.mkdir()
        shutil.copy2(ROOT / "blender_manifest.toml", src)
        for f in sorted((ROOT / "addon").glob("*.py")):
            shutil.copy2(f, src)
        (src / "local.json").write_text(json.dumps({"parley": str(ROOT / ".venv" / "bin" / "parley")}))
        target.unlink(missing_ok=True)
        subprocess.run([*tool, "build", "--source-dir", str(src), "--output-filepath", str(target)], check=True)
    subprocess.run([*tool, "validate", str(target)], check=True)
    return target


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(ROOT / "dist"), help="output folder (default dist/)")
    print(f"build_addon: wrote {build(Path(p.parse_args().out))}")


if __name__ == "__main__":
    main()
