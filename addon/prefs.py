"""Add-on preferences: where the server is, its token, and whether to start one automatically."""

from __future__ import annotations

import os

import bpy

from . import local_server
from .client import DEFAULT_URL, ParleyClient


class PARLEY_AP_preferences(bpy.types.AddonPreferences):
    """Parley preferences."""

    bl_idname = __package__

    server_url: bpy.props.StringProperty(name="Server URL", default=DEFAULT_URL,  # type: ignore[valid-type]
                                         description="Where parley serve listens")
    token: bpy.props.StringProperty(name="Token", subtype="PASSWORD", default="",  # type: ignore[valid-type]
                                    description="The server's bearer token, if it was started with one")
    auto_start: bpy.props.BoolProperty(  # type: ignore[valid-type]
        name="Start a local server automatically", default=True,
        description="When no server answers at a local URL, start one with the program below")
    executable: bpy.props.StringProperty(  # type: ignore[valid-type]
        name="Parley program", subtype="FILE_PATH", default="",
        description="The parley executable (empty: the one the README's setup made, else parley on PATH)")

    def draw(self, context: bpy.types.Context) -> None:
        col = self.layout.column()
        col.prop(self, "server_url")
        col.prop(self, "token")
        col.prop(self, "auto_start")
        row = col.row()
        row.prop(self, "executable")
        if not self.executable:
            col.label(text=f"Default: {local_server.default_executable()}")
        status = local_server.cached_status(self.server_url, self.token)
        col.label(text=f"Server: {status}", icon="CHECKMARK" if status == "ready" else "INFO")
        if status == "not running":
            col.operator("parley.start_server", icon="PLAY")


def get(context: bpy.types.Context | None = None) -> PARLEY_AP_preferences | None:
    """The preferences, or None where the add-on runs without being enabled (``addon/cli.py`` from a checkout)."""
    addon = (context or bpy.context).preferences.addons.get(__package__)
    return None if addon is None else addon.preferences  # type: ignore[no-any-return]


def settings(context: bpy.types.Context | None = None) -> tuple[str, str, bool, str]:
    """(server URL, token, auto-start, executable); without preferences: $PARLEY_URL / $PARLEY_TOKEN, auto-start on."""
    p = get(context)
    if p is None:
        return os.environ.get("PARLEY_URL", DEFAULT_URL), os.environ.get("PARLEY_TOKEN", ""), True, ""
    return p.server_url, p.token, p.auto_start, p.executable


def client(context: bpy.types.Context | None = None) -> ParleyClient:
    url, token, _, _ = settings(context)
    return ParleyClient(url, token or None)


CLASSES = (PARLEY_AP_preferences,)
