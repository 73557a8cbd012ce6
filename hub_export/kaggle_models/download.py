"""Downloads a published variation with kagglehub, as its users do."""

from pathlib import Path

from hub_export.kaggle_models import network
from hub_export.kaggle_models.handles import VariationHandle
from hub_export.kaggle_models.session import kaggle_step, one_user_agent


def download(handle: VariationHandle, limits: network.Limits = network.Limits()) -> Path:
  """`kagglehub.model_download`: the cached folder of the version (the latest when none is given).

  Always fetched afresh, so a check runs on what Kaggle serves now, not on an older copy.
  Public models need no credentials; kagglehub sends them when it finds some.
  """
  import kagglehub

  with network.limited(limits), one_user_agent(), kaggle_step(f"download {handle}"):
    return Path(kagglehub.model_download(str(handle), force_download=True))
