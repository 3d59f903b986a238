"""The rendered difference of a promotion (issue 26), pure: which renderer renders a changed
file (choose.py), the rendered objects and their diffs (objects.py), whether the promotion
may be proposed (gate.py), and the change request's section within a body limit
(section.py). The renderers and the schema check run in adapters/rendering/."""

from .choose import jobs_for
from .gate import decide
from .model import AppRender, Job, ObjectChange, ObjectId, Rendered
from .objects import diff_objects, parse_objects
from .section import rendered_section

__all__ = ["AppRender", "Job", "ObjectChange", "ObjectId", "Rendered", "decide", "diff_objects",
           "jobs_for", "parse_objects", "rendered_section"]
