"""Azure DevOps rules Hoist applies, as pure functions: how a comment is named, which votes
approve, what repository permission bits mean on Hoist's ladder, and Azure's names for
merge methods and status states.

Sources: Azure DevOps REST API 7.1 ("Pull Request Threads", "Pull Request Reviewers",
"Pull Requests - Update" GitPullRequestCompletionOptions, "Statuses - Create"
GitStatusState) and "Security namespace and permission reference" (Git Repositories,
namespace 2e9eb7ed-3c0a-47d4-87c1-0ffdd275fd87)."""

from __future__ import annotations

# A comment lives in a thread: its id (1, 2, ...) is unique only within the thread (REST
# "Pull Request Thread Comments": "IDs start at 1"), so Hoist names it by both, in one
# positive integer: thread ids are int32 and comment ids int16 there, so
# (comment - 1) * 2**31 + thread keeps both, and a thread's opening comment is named by the
# thread's own id.
_THREADS = 2**31


def comment_key(thread_id: int, comment_id: int) -> int:
    """The one integer Hoist names comment `comment_id` of thread `thread_id` by.
    ValueError when either is out of Azure's ranges (thread int32, comment int16)."""
    if not (0 < thread_id < _THREADS and 0 < comment_id < 2**15):
        raise ValueError(f"no such comment: thread {thread_id}, comment {comment_id}")
    return (comment_id - 1) * _THREADS + thread_id


def split_comment_key(key: int) -> tuple[int, int]:
    """(thread id, comment id) of a `comment_key` (thread 0 for a key Hoist never made)."""
    return key % _THREADS, key // _THREADS + 1


# Reviewer votes (IdentityRefWithVote.vote): 10 approved, 5 approved with suggestions,
# 0 no vote, -5 waiting for the author, -10 rejected.
APPROVING_VOTES = (10, 5)


def approves(vote: object) -> bool:
    """Whether a reviewer's vote approves (approved, or approved with suggestions)."""
    return isinstance(vote, int) and not isinstance(vote, bool) and vote in APPROVING_VOTES


# Git Repositories namespace bits.
ADMINISTER, GENERIC_READ, GENERIC_CONTRIBUTE, FORCE_PUSH = 1, 2, 4, 8
POLICY_EXEMPT, EDIT_POLICIES, MANAGE_PERMISSIONS = 128, 2048, 8192
PULL_REQUEST_CONTRIBUTE, PULL_REQUEST_BYPASS_POLICY = 16384, 32768


def ladder_of(allowed: int) -> str:
    """Hoist's rung for a user's effective Git Repositories permissions on the manifests
    repository: Administer or Manage permissions → admin; Edit policies, Bypass policies
    (pushing or completing pull requests) or Force push → maintain; Contribute → write;
    Contribute to pull requests alone → triage; Read → read; else none."""
    if allowed & (ADMINISTER | MANAGE_PERMISSIONS):
        return "admin"
    if allowed & (EDIT_POLICIES | POLICY_EXEMPT | PULL_REQUEST_BYPASS_POLICY | FORCE_PUSH):
        return "maintain"
    if allowed & GENERIC_CONTRIBUTE:
        return "write"
    if allowed & PULL_REQUEST_CONTRIBUTE:
        return "triage"
    return "read" if allowed & GENERIC_READ else "none"


# GitPullRequestMergeStrategy for Hoist's methods.
MERGE_STRATEGIES = {"merge": "noFastForward", "squash": "squash", "rebase": "rebase",
                    "rebase-merge": "rebaseMerge"}


def merge_strategy(method: str) -> str:
    """Azure's merge strategy for Hoist's merge method (squash when unknown)."""
    return MERGE_STRATEGIES.get(method, "squash")


# GitStatusState for Hoist's deployment states (GitHub's names).
STATUS_STATES = {"queued": "pending", "in_progress": "pending", "success": "succeeded",
                 "failure": "failed", "error": "error", "inactive": "notApplicable"}


def status_state(state: str) -> str:
    """Azure's status state for a deployment state."""
    return STATUS_STATES.get(state, "notSet")
