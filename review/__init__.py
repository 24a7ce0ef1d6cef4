"""The review window (``parley preview``): PyQt6, outside Blender; imports core, never bpy or HTTP."""
