"""``pricegraph serve``: the GraphQL API under uvicorn."""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Annotated

import typer

from ._common import app, clear_errors, console, load_settings, open_store

if TYPE_CHECKING:
    from ..config import ApiConfig
    from ..settings import Settings


def example_ids(settings: Settings) -> tuple[str, str]:
    """A customer with purchases and a product they have not bought, from the graph."""
    with open_store(settings) as store:
        customer, product = store.example_pair()
    return customer or "<customer-id>", product or "<product-id>"


def example_queries(url: str, key: str | None, customer: str, product: str) -> str:
    """Copy-paste examples against the running server."""
    header = f' -H "X-API-Key: {key}"' if key else ' -H "X-API-Key: <your pricing key>"'
    queries = [
        "{ products(first: 3) { edges { node { key name listPrice brand { name } } } } }",
        '{ similarProducts(text: \\"black leather shoulder bag\\", first: 3) '
        "{ score product { key name } } }",
        f'{{ recommendations(customerId: \\"{customer}\\", first: 3) {{ rank key reason }} }}',
        f'{{ personalizedPrice(customerId: \\"{customer}\\", productId: \\"{product}\\") '
        "{ price listPrice isPersonalized rationale boundRules { rule delta } } }",
        f'{{ whatIf(productIds: [\\"{product}\\"], kind: PERCENT_OFF, value: 20, weeks: 4) '
        "{ totals { part unitsUplift profitUplift } } }",
    ]
    lines = [f"GraphQL at {url} (GraphiQL: set PRICEGRAPH_API__IS_GRAPHIQL_ENABLED=true)."]
    lines += ["Try, in another terminal:"]
    for query in queries:
        lines.append(
            f"  curl -s {url} -H 'Content-Type: application/json'{header} "
            f'-d \'{{"query": "{query}"}}\''
        )
    return "\n".join(lines)


def check_servers(settings: Settings) -> None:
    """Check that the graph and vector servers, and the records database server when
    one is configured, answer before any worker starts.

    Each store is opened and closed at once (a connection and a schema check; one
    connection to the records database), so a server that is down is one error naming
    it, instead of uvicorn workers that die at startup and are restarted without a word.

    Raises:
        GraphStoreError, VectorStoreError, PricegraphError: One line naming every
            server that did not answer (of the class of the first).
    """
    from ...embeddings.vector_factory import make_vector_store
    from ...errors import PricegraphError
    from ...graph import make_graph_store

    checks = [
        lambda: make_graph_store(settings.graph).close(),
        lambda: make_vector_store(settings.vectors).close(),
    ]
    if settings.pricing.database_url is not None:
        from ...pricing.records.postgres import check_server

        url = settings.pricing.database_url.get_secret_value()
        checks.append(lambda: check_server(url))
    failures: list[PricegraphError] = []
    for check in checks:
        try:
            check()
        except PricegraphError as exc:
            failures.append(exc)
    if failures:
        message = "; ".join(" ".join(str(exc).split()) for exc in failures)
        raise type(failures[0])(f"cannot start the API workers: {message}") from failures[0]


def run_server(settings: Settings, config: ApiConfig) -> None:
    """Run uvicorn in the foreground: one process over ``settings``' stores, or several
    workers (over Neo4j and a Qdrant server) built from the environment; the workers
    share the data directory (models, and the audit log, approvals and saved guardrails
    unless a records database server holds those), each loads the models when it starts
    and reads the saved guardrails' version before each quote request.

    The services open before uvicorn starts, so that a configured model, policy or
    guardrails file that is missing is a one-line error with exit code 2 (through the
    command's ``clear_errors``) rather than a startup traceback.

    Raises:
        ConfigError, ModelError, GraphStoreError, VectorStoreError: As
            :func:`~pricegraph.api.services.open_services`.
    """
    import uvicorn

    from ..services import check_deployment, open_services

    check_deployment(settings, config)
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "auto"
    http = "httptools" if importlib.util.find_spec("httptools") else "auto"
    if config.workers > 1:
        open_services(settings, config).close()  # fail here once, not in every worker
        uvicorn.run(
            "pricegraph.api.server:app_from_environment",
            factory=True,
            host=config.host,
            port=config.port,
            workers=config.workers,
            loop=loop,
            http=http,
        )
        return
    from ..server import create_app

    services = open_services(settings, config)
    try:
        uvicorn.run(
            create_app(settings, config=config, services=services),
            host=config.host,
            port=config.port,
            loop=loop,
            http=http,
        )
    finally:
        services.close()


@app.command()
@clear_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Interface (default: api.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: api.port).")] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Worker processes; > 1 needs Neo4j and a Qdrant URL."),
    ] = None,
) -> None:
    """Serve the GraphQL API at /graphql, with /healthz and /metrics."""
    from ..services import api_section, check_deployment

    settings = load_settings()
    changes = {"host": host, "port": port, "workers": workers}
    config = api_section(settings).model_copy(
        update={k: v for k, v in changes.items() if v is not None}
    )
    check_deployment(settings, config)
    if config.workers > 1:
        check_servers(settings)
    customer, product = example_ids(settings) if config.workers == 1 else ("<id>", "<id>")
    url = f"http://{config.host}:{config.port}/graphql"
    console.print(
        example_queries(url, None, customer, product), highlight=False, markup=False, soft_wrap=True
    )
    run_server(settings, config)
