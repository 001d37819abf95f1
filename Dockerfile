# The Pricegraph image: `pricegraph serve` (GraphQL at :8000, /healthz, /metrics) and
# every other command, e.g. `pricegraph export-graph` or `torchrun -m pricegraph.gnn.ddp`.
#
#   docker build -t pricegraph:latest .                               # CPU torch
#   docker build -t pricegraph:cuda \
#     --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128 .  # CUDA torch
#
# The embedded stores (LadybugDB, Qdrant Edge) live in the volume /var/lib/pricegraph
# (PRICEGRAPH_DATA_DIR); with Neo4j and a Qdrant server (infra/docker-compose.yml) it
# holds only model files, the saved guardrails, the audit log and the approval queue.

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
# torch comes first, from its own index: the CPU build unless TORCH_INDEX_URL says otherwise.
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
RUN pip install --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}"
# The repository root is the package `pricegraph` (pyproject.toml: package-dir "."),
# with the Neo4j driver and its Rust extension (faster Bolt decoding, same API) and
# psycopg for a PostgreSQL records database (PRICEGRAPH_PRICING__DATABASE_URL).
WORKDIR /src/pricegraph
COPY . .
RUN pip install ".[neo4j,postgres]"

FROM python:${PYTHON_VERSION}-slim
RUN useradd --create-home --uid 10001 pricegraph \
    && mkdir -p /var/lib/pricegraph \
    && chown pricegraph:pricegraph /var/lib/pricegraph
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PRICEGRAPH_DATA_DIR=/var/lib/pricegraph \
    PRICEGRAPH_API__HOST=0.0.0.0 \
    PRICEGRAPH_API__PORT=8000
USER pricegraph
WORKDIR /var/lib/pricegraph
VOLUME ["/var/lib/pricegraph"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["pricegraph", "serve"]
