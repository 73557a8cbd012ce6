"""The TF-Hub SavedModel format as publishing and verification both see it.

The tarball layout (written by `publishing`, unpacked safely by `verification`), the
SHA256SUMS manifests (written by one, checked by the other), and reading an export the
way TF-Hub users do; kept here so neither of those packages imports the other.
"""
