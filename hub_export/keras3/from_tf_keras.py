"""Weights of the restored tf_keras model -> the Keras 3 task (backbone + head).

The checkpoint readers (`hub_export.checkpoint`) restore any supported layout into the
tf_keras model; this maps that model onto the Keras 3 one variable by variable: the
pre-training network onto `MobileBertMaskedLM`, a task model (`build_mobilebert(config,
TaskHead(...))`) onto `MobileBertQuestionAnswerer` (span head) or `MobileBertTextClassifier`
(classifier head), whose dense kernels hold the heads' `output_weights` transposed. Every
source variable must be used exactly once and every target variable set exactly once,
with equal shapes, or nothing is converted.
"""

from hub_export.support.errors import HubExportError
from hub_export.weight_layout import CLASSIFIER, SPAN

TRANSPOSED = "transposed"  # a pair's `layer` for a head's [num_labels, H] weights read as a [H, num_labels] kernel


def _pairs(source, task):
  """(name, source variable, layer, target variable) for every weight of the network; `layer` picks a block's
  slice of a stacked block variable, or is TRANSPOSED, else None."""
  encoder = source.encoder
  embedding, target_embedding = encoder.embedding, task.backbone.embeddings
  pairs = [
      ("word_embeddings", embedding.word_embeddings, None, target_embedding.token_embedding.embeddings),
      ("position_embeddings", embedding.position_embeddings, None, target_embedding.position_embeddings),
      ("token_type_embeddings", embedding.token_type_embeddings, None, target_embedding.token_type_embeddings),
      ("embedding norm gamma", embedding.norm.gamma, None, target_embedding.norm_gamma),
      ("embedding norm beta", embedding.norm.beta, None, target_embedding.norm_beta),
  ]
  if embedding.projects:
    pairs += [("embedding_transformation kernel", embedding.embedding_transformation.kernel, None,
               target_embedding.transformation_kernel),
              ("embedding_transformation bias", embedding.embedding_transformation.bias, None,
               target_embedding.transformation_bias)]
  for layer, block in enumerate(task.backbone.transformer_layers):
    for name, stacked in encoder.blocks.stacked.items():
      pairs.append((f"block {layer} {name}", stacked, layer, block.block_weights[name]))
  if encoder.config.classifier_activation:
    pooled_dense = task.backbone.pooled_dense
    pairs += [("pooler kernel", encoder.pooler.kernel, None, pooled_dense.kernel),
              ("pooler bias", encoder.pooler.bias, None, pooled_dense.bias)]
  return pairs + _head_pairs(source, task)


def _head_pairs(source, task):
  """The MLM head's pairs for the pre-training network; a task model's head onto its task's dense layer."""
  from hub_export.keras3.tasks import MobileBertMaskedLM, MobileBertQuestionAnswerer, MobileBertTextClassifier

  dense_of = {MobileBertQuestionAnswerer: (SPAN, "span_dense"), MobileBertTextClassifier: (CLASSIFIER, "output_dense")}
  source_head = getattr(source, "task_head", None)
  if source_head is not None and dense_of.get(type(task), (None,))[0] == source_head.kind:
    head, dense = source.head, getattr(task, dense_of[type(task)][1])
    return [("head output_weights", head.output_weights, TRANSPOSED, dense.kernel),
            ("head output_bias", head.output_bias, None, dense.bias)]
  if source_head is not None or not isinstance(task, MobileBertMaskedLM):
    raise HubExportError(f"cannot convert a model with {source_head.kind + ' head' if source_head else 'the MLM head'} "
                         f"to the Keras 3 {type(task).__name__}")
  head, target_head = source.masked_lm, task.masked_lm_head
  return [
      ("mlm transform kernel", head.dense.kernel, None, target_head.transform_kernel),
      ("mlm transform bias", head.dense.bias, None, target_head.transform_bias),
      ("mlm layer_norm gamma", head.layer_norm.gamma, None, target_head.layer_norm_gamma),
      ("mlm layer_norm beta", head.layer_norm.beta, None, target_head.layer_norm_beta),
      ("mlm extra_output_weights", head.extra_output_weights, None, target_head.extra_output_weights),
      ("mlm output_bias", head.output_bias, None, target_head.output_bias),
  ]


def _source_variables(source):
  """Every variable of the tf_keras network; a stacked block variable counts once."""
  head = source.head if getattr(source, "task_head", None) else source.masked_lm
  return {id(v): v for v in source.encoder.weights + head.weights}


def convert_weights(source, task) -> int:
  """Copies the restored tf_keras model into the Keras 3 task (see the module docstring); returns
  the number of target variables set. Raises HubExportError if any weight is unaccounted for."""
  if task.backbone.mobilebert_config != source.config:
    raise HubExportError("cannot convert the model to Keras 3: the backbone's config differs from the checkpoint's")
  pairs = _pairs(source, task)
  used_sources = {id(variable) for _, variable, _, _ in pairs}
  unused = [v.name for key, v in _source_variables(source).items() if key not in used_sources]
  targets = {}
  for name, _, _, target in pairs:
    if id(target) in targets:
      raise HubExportError(f"conversion sets the Keras 3 variable {target.path} twice ({name})")
    targets[id(target)] = target
  unset = [v.path for v in task.weights if id(v) not in targets]

  def shape(variable, layer):
    if layer == TRANSPOSED:
      return tuple(reversed(variable.shape))
    return tuple(variable.shape if layer is None else variable.shape[1:])

  wrong = [f"{name}: {list(shape(variable, layer))} vs {list(target.shape)}" for name, variable, layer, target in pairs
           if shape(variable, layer) != tuple(target.shape)]
  problems = [f"{what}: {', '.join(items[:10])}" for what, items in (
      ("tf_keras variables not converted", unused), ("Keras 3 variables left unset", unset),
      ("shape mismatches", wrong)) if items]
  if problems:
    raise HubExportError("cannot convert the model to Keras 3: " + "; ".join(problems))
  values = {}
  for _, variable, layer, target in pairs:
    value = values.setdefault(id(variable), variable.numpy())
    target.assign(value if layer is None else value.T if layer == TRANSPOSED else value[layer])
  return len(targets)
