"""Errors a person can cause. Each carries a one-line message meant for that person."""

from __future__ import annotations


class ParleyError(Exception):
    """Base class: the message is shown as-is to the user (CLI, server JSON, Blender report)."""


class AudioDecodeError(ParleyError):
    """The audio could not be read, or is not usable speech (empty, truncated, silent, too long...)."""


class FaceNotFound(ParleyError):
    """No face was found in an image or video."""


class FaceTooSmall(ParleyError):
    """A face was found but is too small to track reliably."""


class ImageDecodeError(ParleyError):
    """The image or video could not be read, or is too large to decode safely."""


class CheckpointError(ParleyError):
    """A model file is missing, corrupt, of the wrong kind, or not a safe format."""


class TrackerUnavailable(ParleyError):
    """An optional face tracker was asked for but cannot run here (e.g. its weights are not on disk)."""
