"""Parley's Blender extension: talks to the local server over HTTP, never imports torch or ``core``.

So far only ``client.py`` exists: the standard-library HTTP client, which needs no bpy and is tested
against a real server. The operators and panels arrive with the Blender extension issue.
"""
