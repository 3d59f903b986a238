"""Tag policies as people write them, through `hoist serve`: a regex is the allow-list, so
the prerelease-shaped tags it admits are promoted (prerelease unset); an explicit
`prerelease: false` still refuses them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scenario import PROD_FILE, Scenario, prod_files
from tests.support import need, wait_for

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("tags", "tag"), [
    (r"{sort: semver, regex: '^\d+\.\d+\.\d+-release-candidate$'}", "1.1.0-release-candidate"),
    (r"{regex: '^\d+\.\d+\.\d+-snapshot-[0-9a-f]{7}$', sort: pushed}", "1.1.0-snapshot-abc1234"),
])
def test_a_regex_admits_its_prerelease_shaped_releases(tmp_path: Path, tags: str,
                                                      tag: str) -> None:
    need("git")
    with Scenario(tmp_path, prod_files("none", tags=tags), forge=None) as s:
        s.push(tag)
        s.wait_state("prod", "promoted", tag)
        assert f'newTag: "{tag}"' in (s.show("main", PROD_FILE) or "")


def test_an_explicit_prerelease_false_still_refuses_them(tmp_path: Path) -> None:
    need("git")
    tags = r"{sort: semver, regex: '^\d+\.\d+\.\d+(-release-candidate)?$', prerelease: false}"
    with Scenario(tmp_path, prod_files("none", tags=tags), forge=None) as s:
        s.push("1.1.0-release-candidate")
        s.push("1.2.0")
        s.wait_state("prod", "promoted", "1.2.0")
        assert not any("release-candidate" in p["image"] for p in s.promotions())
        wait_for(lambda: 'newTag: "1.2.0"' in (s.show("main", PROD_FILE) or ""), "1.2.0 in git")
