#!/usr/bin/env bash
# The add-on's tests under every Blender the manifest claims. setup.sh's .venv carries Blender 4.5 (the bpy
# module) and runs them with the rest of the suite; this adds 4.2 LTS and 5.0, each in a venv of its own
# (.venv-bpy42, .venv-bpy50) that holds only bpy and reads everything else (torch for the server, pytest…)
# from .venv through a .pth file. The venvs are kept between runs; pip's cache keeps the wheels.
#   bash scripts/blender_matrix.sh            all of tests/addon under 4.2 and 5.0
#   bash scripts/blender_matrix.sh 5.0 -k cli   one version, pytest arguments after it
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
versions=("4.2" "5.0")
if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]\.[0-9]$ ]]; then versions=("$1"); shift; fi
main_site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
status=0
for v in "${versions[@]}"; do
  venv=".venv-bpy${v/./}"
  [ -x "$venv/bin/python" ] || "$PY" -m venv "$venv"
  "$venv/bin/python" -c "import bpy, sys; sys.exit(bpy.app.version_string[:3] != '$v')" 2>/dev/null ||
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "bpy==$v.*"
  site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  echo "$(cd "$main_site" && pwd)" > "$site/parley-main.pth"
  echo "blender matrix: $("$venv/bin/python" -c 'import bpy; print("Blender", bpy.app.version_string)')"
  "$venv/bin/python" -m pytest -q tests/addon "$@" || status=1
done
exit $status
