"""Parley's Blender extension: speech-driven face animation through the local Parley server.

It talks HTTP only (``client.py``); it never imports torch or Parley's ``core``. Modules:
``motion``/``glb``/``workflow``/``local_server``/``client`` need no bpy (and are tested without it);
``face`` builds the head object and ``scene`` writes the animation onto it (or a rig); ``limits`` holds core's
option limits; ``operators``, ``panel``, ``prefs`` and ``props`` are the thin UI;
``cli.py`` is the command line. bpy is imported only on ``register``, so the bpy-free modules import anywhere.
"""

from __future__ import annotations


def _modules() -> tuple:  # type: ignore[type-arg]
    from . import operators, panel, prefs, props

    return prefs, props, operators, panel


def register() -> None:
    import bpy

    from . import props

    for module in _modules():
        for cls in module.CLASSES:
            bpy.utils.register_class(cls)
    props.register_props()


def unregister() -> None:
    import bpy

    from . import live_scene, local_server, props, tasks

    live_scene.finish(keep=False)  # a live session ends with the add-on: its timer and stream go too
    tasks.shutdown()
    props.unregister_props()
    for module in reversed(_modules()):
        for cls in reversed(module.CLASSES):
            bpy.utils.unregister_class(cls)
    local_server.stop()
