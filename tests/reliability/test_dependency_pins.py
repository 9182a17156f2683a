"""Offline dependency audit: every requirement pinned, no pin below a published advisory's fix (security/advisories.json)."""
from __future__ import annotations

import json
import warnings
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from kb.core.config import ROOT

REQUIREMENTS = ROOT / "requirements.txt"
ADVISORIES = ROOT / "security" / "advisories.json"
TORCH_PIN = "2.13.0"  # the CPU build on this machine's disk; any other version pulls a multi-GB CUDA build


def requirement_lines() -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def exact_pin(req: Requirement) -> str | None:
    """The version of a `name==X` requirement, or None when it allows more than one version."""
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        return specs[0].version
    return None


def pins() -> dict[str, str]:
    """Canonical package name -> pinned version, for every exactly pinned requirement."""
    reqs = [Requirement(line) for line in requirement_lines()]
    return {canonicalize_name(r.name): v for r in reqs if (v := exact_pin(r))}


def advisory_data() -> dict[str, dict]:
    data = json.loads(ADVISORIES.read_text(encoding="utf-8"))
    return {canonicalize_name(name): entry for name, entry in data["packages"].items()}


def scoped(scope: str) -> dict[str, dict]:
    return {name: entry for name, entry in advisory_data().items() if entry["scope"] == scope}


def installed(name: str) -> Version | None:
    try:
        return Version(Version(metadata.version(name)).public)  # 2.13.0+cpu is the 2.13.0 pin
    except metadata.PackageNotFoundError:
        return None


def below_floor(name: str, version: Version, entry: dict) -> str | None:
    """Why this version is below the package's safe floor, or None."""
    fixed = [a for a in entry["advisories"] if a["fixed_in"] and version in SpecifierSet(a["affected"])]
    if entry["min_safe"] is None or (version >= Version(entry["min_safe"]) and not fixed):
        return None
    ids = ", ".join(f"{a['id']} (fixed in {a['fixed_in']})" for a in fixed) or "see security/advisories.json"
    return f"{name} {version} is below its safe version {entry['min_safe']}: {ids}"


def unfixed(name: str, version: Version, entry: dict) -> list[str]:
    """Advisories with no fixed release that cover this version."""
    return [f"{name} {version}: {a['id']} ({', '.join(a['aliases']) or '-'}) has no fixed release. {a['exposure']}"
            for a in entry["advisories"] if not a["fixed_in"] and version in SpecifierSet(a["affected"])]


def report(title: str, lines: list[str], capsys: pytest.CaptureFixture) -> None:
    """Print findings that do not fail the build, and repeat them in pytest's warnings summary."""
    if not lines:
        return
    with capsys.disabled():
        print(f"\n[dependency audit] {title}:\n  " + "\n  ".join(lines))
    for line in lines:
        warnings.warn(f"{title}: {line}", UserWarning, stacklevel=2)


def test_every_requirement_is_pinned_to_one_version() -> None:
    loose = [line for line in requirement_lines() if exact_pin(Requirement(line)) is None]
    assert loose == [], f"pin these with ==: {loose}"


def test_torch_stays_on_the_local_cpu_build() -> None:
    assert pins().get("torch") == TORCH_PIN, f"requirements.txt must keep torch=={TORCH_PIN}"


def test_advisory_file_is_well_formed_and_covers_every_pin() -> None:
    data = advisory_data()
    missing = sorted(set(pins()) - set(data))
    stale = sorted(name for name, e in data.items() if e["scope"] == "pinned" and name not in pins())
    assert missing == [], f"review these pins and add them to {ADVISORIES.name} (advisories may be []): {missing}"
    assert stale == [], f"{ADVISORIES.name} lists packages requirements.txt no longer pins: {stale}"
    for name, entry in data.items():
        assert entry["scope"] in ("pinned", "transitive"), name
        fixes = [Version(a["fixed_in"]) for a in entry["advisories"] if a["fixed_in"]]
        assert entry["min_safe"] == (str(max(fixes)) if fixes else None), f"{name}: min_safe must be the highest fixed_in"
        for a in entry["advisories"]:
            assert a["id"] and a["summary"] and isinstance(a["aliases"], list), f"{name}: {a}"
            affected = SpecifierSet(a["affected"])  # raises on a malformed specifier
            if a["fixed_in"]:
                assert Version(a["fixed_in"]) not in affected, f"{name} {a['id']}: fixed_in lies inside affected"
            else:
                assert a.get("exposure"), f"{name} {a['id']}: an advisory with no fix needs an exposure note"


def test_no_pin_is_below_a_published_fix(capsys) -> None:
    entries = scoped("pinned")
    problems = [p for name, v in pins().items() if name in entries and (p := below_floor(name, Version(v), entries[name]))]
    assert problems == [], "\n".join(problems)
    report("pinned packages with advisories that have no fixed release",
           [line for name, v in pins().items() if name in entries for line in unfixed(name, Version(v), entries[name])],
           capsys)


def test_installed_packages_match_the_pins_and_the_floors(capsys) -> None:
    transitive = scoped("transitive")
    found = {name: installed(name) for name in [*pins(), *transitive]}
    problems = [p for name, v in found.items() if name in transitive and v
                and (p := below_floor(name, v, transitive[name]))]
    problems += [p for name in pins() if found[name] and (p := below_floor(name, found[name], advisory_data()[name]))]
    assert problems == [], "installed in .venv:\n" + "\n".join(problems)
    differ = [f"{name}: pinned {pin}, installed {found[name] or 'nothing'}" for name, pin in pins().items()
              if found[name] != Version(pin)]
    report("installed versions that differ from requirements.txt (run: make install)", differ, capsys)
    report("installed transitive packages with advisories that have no fixed release",
           [line for name, v in found.items() if name in transitive and v for line in unfixed(name, v, transitive[name])],
           capsys)
