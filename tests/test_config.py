from pathlib import Path

import pytest

from bot.cli import main
from bot.core.config import ConfigError, load_config
from tests.support import ROOT

GOOD = """\
images:
  app:
    repository: ghcr.io/acme/app
    tags: {semver: ">=1.0.0"}
environments:
  - name: dev
    targets: [{file: dev/app.yaml, image: app}]
  - name: prod
    after: dev
    approval: manual
    targets: [{file: prod/app.yaml, image: app}]
"""


def test_demo_config_is_valid() -> None:
    text = (ROOT / "manifests-example" / "demo" / "hoist.yaml").read_text()
    config = load_config(text)
    assert [e.name for e in config.environments] == ["dev", "staging", "prod"]
    assert config.images["guestbook"].pin == "tag@digest"


def test_design_spelling_pin_digest_means_tag_at_digest() -> None:
    config = load_config(GOOD.replace("tags:", "pin: digest\n    tags:"))
    assert config.images["app"].pin == "tag@digest"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("approval: manual", "approval: sometimes", "hoist.yaml:10: environments[1].approval:"),
        ("image: app}]\n  - name: prod", "image: ap}]\n  - name: prod",
         "hoist.yaml:7: environments[0].targets[0].image: unknown image 'ap'"),
        ("after: dev", "after: qa", "hoist.yaml:9: environments[1].after: unknown environment"),
        ("repository: ghcr.io/acme/app", "repository: ghcr.io/Acme/App",
         "hoist.yaml:3: images.app.repository:"),
        ("file: prod/app.yaml", "file: ../secrets.yaml", "hoist.yaml:11: environments[1].targets"),
        ("  - name: prod", "  - name: dev", "environments[1].name: duplicate environment 'dev'"),
        # Tag policies `hoist check` refuses, each with its reason.
        ('semver: ">=1.0.0"', 'semver: ">=1.0"', ""),
        ('semver: ">=1.0.0"', 'semver: ">=1.0.0.0"',
         "hoist.yaml:4: images.app.tags.semver: range '>=1.0.0.0': '1.0.0.0' is not a version"),
        ('semver: ">=1.0.0"', 'semver: "^v1.02.3"', "images.app.tags.semver: range '^v1.02.3'"),
        ("semver: \">=1.0.0\"", "regex: '^(main|rel)-([0-9]+)$'",
         "hoist.yaml:4: images.app.tags.regex: '^(main|rel)-([0-9]+)$' has 2 capturing groups: "
         "name the one that sorts (?P<key>...)"),
        ('semver: ">=1.0.0"', "sort: newest", "images.app.tags.sort: Input should be 'semver', "
                                               "'numeric', 'alphabetical' or 'pushed'"),
        # Regexes run on RE2 (linear time): no backreferences, no lookaround; named groups work.
        ('semver: ">=1.0.0"', r"regex: '^(a)\1$'",
         r"hoist.yaml:4: images.app.tags.regex: invalid regex '^(a)\\1$': invalid escape "
         "sequence: \\1 (RE2 matches in linear time: it has no backreferences or lookaround)"),
        ('semver: ">=1.0.0"', "ignore: ['^(?!v)']",
         "hoist.yaml:4: images.app.tags.ignore: invalid regex '^(?!v)': invalid perl operator"),
        ('semver: ">=1.0.0"', "regex: '^(main|rel)-(?P<key>[0-9]+)$'", ""),
        ('semver: ">=1.0.0"', "regex: '^(a+)+$'", ""),
    ],
)
def test_errors_name_file_line_and_field(old: str, new: str, expected: str) -> None:
    assert old in GOOD
    if not expected:  # a valid neighbour of the refused spellings
        load_config(GOOD.replace(old, new, 1))
        return
    with pytest.raises(ConfigError) as info:
        load_config(GOOD.replace(old, new, 1))
    assert any(p.startswith(expected) or expected in p for p in info.value.problems), info.value


def test_invalid_yaml_is_reported_with_its_line() -> None:
    with pytest.raises(ConfigError, match=r"^hoist.yaml:2: \(yaml\)"):
        load_config("images:\n\tapp: 1\n")


def test_check_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "hoist.yaml"
    good.write_text(GOOD)
    assert main(["check", "--config", str(good)]) == 0
    assert "ok (1 images, 2 environments)" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("approval: manual", "approval: maybe"))
    assert main(["check", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{bad}:10: environments[1].approval")
    assert "Traceback" not in err
    assert main(["check", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read" in capsys.readouterr().err


CANARY = GOOD + """\
    on_inconclusive: revert
    canary:
      analysis:
        prometheus: http://127.0.0.1:9099
        health: {url: "https://app.example.com/healthz"}
        metrics:
          - name: success-rate
            query: sum by (pod) (rate(ok[1m])) / sum by (pod) (rate(all[1m]))
            min: 0.99
            reduce: avg
            no_data: pass
"""


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("prometheus: http://127.0.0.1:9099", "prometheus: 127.0.0.1:9099",
     "hoist.yaml:15: environments[1].canary.analysis.prometheus: '127.0.0.1:9099' is not a URL "
     "with a scheme and a host (http:// or https://): e.g. http://127.0.0.1:9099"),
    ("prometheus: http://127.0.0.1:9099", "prometheus: http://", "hoist.yaml:15: "
     "environments[1].canary.analysis.prometheus: 'http://' is not a URL with a scheme"),
    ("prometheus: http://127.0.0.1:9099", "prometheus: 'ftp://prom:21'", "analysis.prometheus:"),
    ('url: "https://app.example.com/healthz"', "url: app/healthz",
     "hoist.yaml:16: environments[1].canary.analysis.health.url: 'app/healthz' is not a URL"),
    ("prometheus: http://127.0.0.1:9099", "prometheus: 'http://[::1]:9090/prom'", ""),
    ("prometheus: http://127.0.0.1:9099", "prometheus: 'https://u:p@prom.example.com'", ""),
    ("no_data: pass", "no_data: pass\n            on_no_data: fail",
     "metrics[0]: no_data and on_no_data (its former name) disagree"),
    ("no_data: pass", "on_no_data: pass", ""),
    ("reduce: avg", "reduce: median", "metrics[0].reduce: Input should be 'max', 'min', 'avg' "
                                      "or 'sum'"),
    ("on_inconclusive: revert", "on_inconclusive: fail",
     "hoist.yaml:12: environments[1].on_inconclusive: Input should be 'hold' or 'revert'"),
])
def test_analysis_settings_are_checked_with_their_line(old: str, new: str, expected: str) -> None:
    assert old in CANARY
    if not expected:
        load_config(CANARY.replace(old, new, 1))
        return
    with pytest.raises(ConfigError) as info:
        load_config(CANARY.replace(old, new, 1))
    assert any(expected in p for p in info.value.problems), info.value


def test_analysis_defaults_and_the_former_no_data_name() -> None:
    env = load_config(CANARY).environments[1]
    assert env.on_inconclusive == "revert" and load_config(GOOD).environments[1].on_inconclusive \
        == "hold"
    assert env.canary is not None
    [metric] = env.canary.analysis.metrics
    assert (metric.reduce, metric.when_no_data) == ("avg", "pass")
    former = load_config(CANARY.replace("no_data: pass", "on_no_data: fail")).environments[1]
    assert former.canary is not None and former.canary.analysis.metrics[0].when_no_data == "fail"


def test_check_refuses_a_prometheus_without_scheme(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "hoist.yaml"
    bad.write_text(CANARY.replace("http://127.0.0.1:9099", "127.0.0.1:9099"))
    assert main(["check", "--config", str(bad)]) == 2
    assert capsys.readouterr().err.startswith(
        f"{bad}:15: environments[1].canary.analysis.prometheus: '127.0.0.1:9099' is not a URL")


def test_serve_config_flag_reads_a_local_file(tmp_path: Path) -> None:
    from bot.adapters.git import GitRepo
    from bot.wiring import ConfigSource

    local = tmp_path / "hoist.yaml"
    local.write_text(GOOD)
    source = ConfigSource(GitRepo("file:///nowhere", tmp_path / "cache"), "hoist.yaml", local)
    assert [e.name for e in source().environments] == ["dev", "prod"]
    local.write_text(GOOD.replace("approval: manual", "approval: maybe"))
    with pytest.raises(ConfigError, match=f"{local}:10: environments"):
        source()


NO_TAG = "environments: [{name: dev, targets: [{file: a.yaml, image: app}]}]\nimages:\n" \
         "  app:\n    repository: ghcr.io/acme/app\n    tags: "


@pytest.mark.parametrize(("tags", "why"), [
    # Every tag the regex admits is a prerelease, and prereleases are refused explicitly.
    (r"{sort: semver, regex: '^\d+\.\d+\.\d+-release-candidate$', prerelease: false}",
     "is a prerelease"),
    (r"{regex: '^v\d+$', sort: semver}", "not a semantic version"),  # v1 is not SemVer
    ("{semver: '>=2.0.0 <1.0.0'}", "is outside"),  # an empty range
    ("{semver: '>1.2.3 <1.2.4'}", ""),  # only 1.2.4's prereleases, which are refused
    (r"{regex: '^release-(?P<key>[a-z]+)$', sort: numeric}", "no numeric sort key"),
    ("{regex: '^v', ignore: ['.*']}", "is ignored"),
])
def test_check_warns_in_one_line_when_a_policy_admits_no_tag(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], tags: str, why: str) -> None:
    config = tmp_path / "hoist.yaml"
    config.write_text(NO_TAG + tags + "\n")
    assert main(["check", "--config", str(config)]) == 0
    out, err = capsys.readouterr()
    assert "ok (1 images, 1 environments)" in out
    [line] = err.splitlines()
    assert line.startswith(f"{config}:5: images.app.tags: warning: no tag can pass this policy")
    assert why in line


@pytest.mark.parametrize("tags", [
    r"{sort: semver, regex: '^\d+\.\d+\.\d+-release-candidate$'}",  # prerelease unset
    r"{regex: '^main-[0-9a-f]{7}$', sort: pushed}",
    r"{regex: '^build-(?P<key>\d+)$', sort: numeric}",
    "{semver: '>1.2.3 <1.2.4', prerelease: true}",
    "{semver: '~1.4'}", "{sort: alphabetical}", "{}",
])
def test_check_is_quiet_when_some_tag_can_pass(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str],
                                               tags: str) -> None:
    config = tmp_path / "hoist.yaml"
    config.write_text(NO_TAG + tags + "\n")
    assert main(["check", "--config", str(config)]) == 0
    assert capsys.readouterr().err == ""
