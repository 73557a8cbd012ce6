"""The structured result of a verification: one named PASS/FAIL check per contract clause."""

import dataclasses

from hub_export.support.errors import first_line


class Violation(Exception):
  """Raised inside a check to fail it with a one-line explanation."""


@dataclasses.dataclass(frozen=True)
class Check:
  name: str
  passed: bool
  detail: str

  def line(self) -> str:
    return f"{'PASS' if self.passed else 'FAIL'} {self.name}: {self.detail}"


@dataclasses.dataclass
class Report:
  path: str
  kind: str
  checks: list = dataclasses.field(default_factory=list)

  @property
  def ok(self) -> bool:
    return bool(self.checks) and all(c.passed for c in self.checks)

  @property
  def failures(self) -> list:
    return [c for c in self.checks if not c.passed]

  def lines(self) -> list:
    return [c.line() for c in self.checks]

  def to_dict(self) -> dict:
    return {"path": self.path, "kind": self.kind, "ok": self.ok,
            "checks": [dataclasses.asdict(c) for c in self.checks]}


def run_check(name: str, fn) -> Check:
  """Runs `fn()`; its returned text is a PASS detail, a Violation or any error is a FAIL.

  Catching every error keeps one broken clause from hiding the others: a model whose
  pooled_output is missing still gets its `.mlm` and assets checked.
  """
  try:
    return Check(name, True, fn())
  except Violation as e:
    return Check(name, False, first_line(e))
  except Exception as e:  # noqa: BLE001 - any failure of the model under test is a FAIL line
    return Check(name, False, f"{type(e).__name__}: {first_line(e)}")


def require(condition, message: str) -> None:
  if not condition:
    raise Violation(message)
