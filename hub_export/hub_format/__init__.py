"""The TF-Hub SavedModel format as publishing and verification both see it.

The tarball layout (written by `publishing`, unpacked safely by `reading` for verify and finetune), the
SHA256SUMS manifests (written by one, checked by the other), reading an export the
way TF-Hub users do, and a task model's `assets/task.json` (written by `tasks`, read by
`publishing` and `verification` too); kept here so none of those packages imports another.
"""
