#!/usr/bin/env bash
# Parley setup: a virtual environment in .venv with everything, then the demo.
#   bash setup.sh            set up (idempotent) and run the demo into out/
#   bash setup.sh --no-demo  set up only (CI)
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3

# Debian libraries that OpenCV/MediaPipe and the bpy module load, and PortAudio for `parley live --input mic`
# (present on desktops; installed when root).
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  need=""
  for pkg in libgl1 libglib2.0-0 libx11-6 libxext6 libxrender1 libxfixes3 libxi6 libxkbcommon0 libsm6 libice6 libportaudio2; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=" $pkg"; done
  if [ -n "$need" ]; then
    echo "setup: installing Debian packages:$need"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
VPY=.venv/bin/python
"$VPY" -m pip install -q --upgrade pip
# torch is pinned here only (pyproject says torch>=2.6): 2.13.0's CPU wheel is what this project
# is tested with. GPU users install their own build of torch first; pip then keeps it.
"$VPY" -c "import torch" 2>/dev/null || "$VPY" -m pip install -q "torch==2.13.0"
"$VPY" -m pip install -q "mediapipe==0.10.21"
"$VPY" -m pip install -q -e ".[dev,ray,preview,train,live]"
# Blender 4.5 LTS as a Python module: runs the add-on headless (tests, addon/cli.py) without a Blender install.
"$VPY" -c "import bpy" 2>/dev/null || "$VPY" -m pip install -q "bpy==4.5.*"
echo "setup: environment ready ($("$VPY" -c 'import torch; print("torch", torch.__version__)'))"
# The Blender extension zip (install it in Blender: Edit › Preferences › Get Extensions › Install from Disk).
"$VPY" scripts/build_addon.py >/dev/null && echo "setup: built dist/parley-$(grep '^version' blender_manifest.toml | cut -d'"' -f2).zip"

if [ "${1:-}" != "--no-demo" ]; then
  .venv/bin/parley demo --out out
  # The same demo through the Blender add-on's path (it starts a local server, then stops it).
  "$VPY" addon/cli.py -- --audio core/assets/demo_voice.flac --face core/assets/demo_face.jpg --out out/demo.blend --fps 30
  "$VPY" addon/cli.py -- --audio core/assets/demo_voice.flac --face core/assets/demo_face.jpg --out out/demo.glb --fps 30
fi
