"""Tests that need ../shared skip without it on a workstation and fail under CI=true."""

import re

import pytest

from conftest import REPO, require_fixture, shared_path

ABSENT = "fixtures/no_such_fixture_here"


def test_absent_shared_material_skips_outside_ci(monkeypatch):
  monkeypatch.delenv("CI", raising=False)
  with pytest.raises(pytest.skip.Exception, match="no_such_fixture_here"):
    shared_path(ABSENT)


@pytest.mark.parametrize("value", ["true", "True", "1"])
def test_absent_shared_material_fails_under_ci(monkeypatch, value):
  monkeypatch.setenv("CI", value)
  with pytest.raises(pytest.fail.Exception, match="no_such_fixture_here.*CI=true requires it"):
    shared_path(ABSENT)
  with pytest.raises(pytest.fail.Exception, match="saved_model.pb"):
    require_fixture(REPO.parent / "shared" / ABSENT)


def test_every_shared_skip_goes_through_the_helper():
  """No test module decides on its own to skip for missing shared material."""
  offenders = []
  for path in sorted((REPO / "tests").rglob("*.py")):
    if path.name in ("conftest.py", "test_shared_requirement.py"):
      continue
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
      if re.search(r"pytest\.(skip|importorskip)\b|skipif\(", line) and re.search(r"shared|SHARED|VOCAB|FIXTURE|TINY", line):
        offenders.append(f"{path.name}:{number}: {line.strip()}")
  assert not offenders, offenders
