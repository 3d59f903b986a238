"""Find image references in YAML manifests and edit them byte-preservingly."""

from .edit import Change, EditResult, set_image
from .find import find_references
from .nodes import ManifestError
from .sites import ImageSite

MAX_FILE = 4 << 20  # manifests are small; anything bigger is refused, not parsed

__all__ = ["MAX_FILE", "Change", "EditResult", "ImageSite", "ManifestError", "find_references",
           "set_image"]
