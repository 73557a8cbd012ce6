# Worker image for `python -m hub_export.embed_corpus --runner=DataflowRunner` (see README):
# Beam's own SDK image, the same Beam version as the `beam` extra, plus this project.
FROM apache/beam_python3.11_sdk:2.77.0
WORKDIR /opt/mobilebert-hub-export
COPY pyproject.toml README.md ./
COPY hub_export ./hub_export
RUN pip install --no-cache-dir '.[beam]'
