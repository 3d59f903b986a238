"""Find image references in YAML manifests and edit them byte-preservingly."""

from .edit import Change, EditResult, set_image
from .find import find_references
from .nodes import ManifestError
from .sites import ImageSite

__all__ = ["Change", "EditResult", "ImageSite", "ManifestError", "find_references", "set_image"]
