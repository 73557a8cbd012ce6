"""Checks that an export honours the TF-Hub text API contract (facts section 5).

`verify_path` takes an export directory or a published tarball and returns a `Report`;
the `verify` command prints it, and exporters call it on what they just wrote.
"""

from hub_export.verification.contract import verify_path, verify_saved_model
from hub_export.verification.report import Check, Report

__all__ = ["Check", "Report", "verify_path", "verify_saved_model"]
