"""`hoist init`'s inference (pure): from a manifests repository's files to a commented
hoist.yaml. refs.py reads one file, group.py groups the references, render.py writes."""

from .group import NothingFound, scaffold
from .model import EnvPlan, ImagePlan, Scaffold, Target
from .refs import Reference, is_chart_template, problem_line, references_in
from .render import render

__all__ = ["EnvPlan", "ImagePlan", "NothingFound", "Reference", "Scaffold", "Target",
           "is_chart_template", "problem_line", "references_in", "render", "scaffold"]
