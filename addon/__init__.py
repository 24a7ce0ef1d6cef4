"""Parley's Blender extension: talks to the local server over HTTP, never imports torch or ``core``.

The operators and panels arrive with the Blender extension issue; only the manifest exists so far.
"""
