"""Uploads a dist's Kaggle folders: the model (with its card) if missing, then each variation.

The order keeps a failure honest: nothing is reported as published until kagglehub has
uploaded every file of a variation and Kaggle has created its version; a rerun after a
failure simply adds the version that did not arrive.
"""


from hub_export.kaggle_models import network
from hub_export.kaggle_models.session import kaggle_step, one_user_agent, require_credentials
from hub_export.publishing.kaggle_folders import INSTANCE_METADATA, read_folders
from hub_export.support.log import LOG


# What kagglehub's model_upload does not send: the variation's usage text and its other fields.
_INSTANCE_FIELDS = ("overview", "usage", "fine_tunable", "training_data", "model_instance_type")


def plan(root) -> list:
  """The lines `--dry_run` prints: what would be created and uploaded, byte for byte."""
  model, variations = read_folders(root)
  lines = [f"would create model {model['ownerSlug']}/{model['slug']} if it does not exist "
           f"({'private' if model['isPrivate'] else 'public'}, title {model['title']!r}, "
           f"card {len(model['description'])} characters)"]
  for variation in variations:
    files = variation.files()
    lines.append(f"would upload {variation.handle} ({variation.metadata['licenseName']}): {len(files)} files, "
                 f"{sum(p.stat().st_size for p in files)} bytes, then set its overview and usage")
    lines += [f"  {p.relative_to(variation.path).as_posix()}  {p.stat().st_size}" for p in files]
  return lines


def _client():
  from kagglehub.clients import build_kaggle_client

  return build_kaggle_client()


def _ensure_model(model: dict) -> None:
  from kagglehub.exceptions import KaggleApiHTTPError, handle_call, handle_mutate_call
  from kagglesdk.models.types.model_api_service import ApiCreateModelRequest, ApiGetModelRequest

  owner, slug = model["ownerSlug"], model["slug"]
  with kaggle_step(f"look up model {owner}/{slug}"), _client() as api:
    request = ApiGetModelRequest()
    request.owner_slug, request.model_slug = owner, slug
    try:
      handle_call(lambda: api.models.model_api_client.get_model(request))
      return
    except KaggleApiHTTPError as e:
      if e.response is None or e.response.status_code != 404:
        raise
  with kaggle_step(f"create model {owner}/{slug}"), _client() as api:
    request = ApiCreateModelRequest()
    request.owner_slug, request.slug = owner, slug
    request.title, request.subtitle = model["title"], model["subtitle"]
    request.is_private, request.description = model["isPrivate"], model["description"]
    handle_mutate_call(lambda: api.models.model_api_client.create_model(request))
  LOG.info("created model %s/%s", owner, slug)


def _describe_variation(metadata: dict) -> int:
  """Sets the variation's overview and usage; returns its latest version number."""
  from google.protobuf.field_mask_pb2 import FieldMask
  from kagglehub.enum import to_enum
  from kagglehub.exceptions import handle_call, handle_mutate_call
  from kagglesdk.models.types.model_api_service import ApiGetModelInstanceRequest, ApiUpdateModelInstanceRequest
  from kagglesdk.models.types.model_enums import ModelFramework, ModelInstanceType

  framework = to_enum(ModelFramework, metadata["framework"])
  keys = (metadata["ownerSlug"], metadata["modelSlug"], framework, metadata["instanceSlug"])
  with _client() as api:
    update = ApiUpdateModelInstanceRequest()
    update.owner_slug, update.model_slug, update.framework, update.instance_slug = keys
    update.overview, update.usage = metadata["overview"], metadata["usage"]
    update.fine_tunable, update.training_data = metadata["fineTunable"], metadata["trainingData"]
    update.model_instance_type = to_enum(ModelInstanceType, metadata["modelInstanceType"])
    update.update_mask = FieldMask(paths=list(_INSTANCE_FIELDS))
    handle_mutate_call(lambda: api.models.model_api_client.update_model_instance(update))
    get = ApiGetModelInstanceRequest()
    get.owner_slug, get.model_slug, get.framework, get.instance_slug = keys
    return handle_call(lambda: api.models.model_api_client.get_model_instance(get)).version_number


def upload(root, version_notes: str = "", limits: network.Limits = network.Limits()) -> list:
  """Publishes every variation under `root` (a dist's kaggle folder); returns their versioned handles."""
  import kagglehub

  require_credentials()  # also when called on its own, not only through the command
  model, variations = read_folders(root)
  published = []
  with network.limited(limits), one_user_agent():
    _ensure_model(model)
    for variation in variations:
      with kaggle_step(f"upload {variation.handle}"):
        kagglehub.model_upload(variation.handle, str(variation.path), license_name=variation.metadata["licenseName"],
                               version_notes=version_notes, ignore_patterns=[INSTANCE_METADATA])
      with kaggle_step(f"describe {variation.handle}"):
        version = _describe_variation(variation.metadata)
      handle = f"{variation.handle}/{version}"
      print(handle, flush=True)
      published.append(handle)
  return published
