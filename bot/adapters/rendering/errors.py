"""What the renderers and the schema check raise."""

from __future__ import annotations


class RenderFailed(RuntimeError):
    """A renderer could not render an app; the message names the renderer, the app's
    directory and the renderer's own words (file and object where it says them)."""
