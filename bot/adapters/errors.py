"""Errors forges share, so flows need not know which forge raised them."""


class MergeBlocked(RuntimeError):
    """The forge refused the merge (branch protection, required checks, conflicts)."""
