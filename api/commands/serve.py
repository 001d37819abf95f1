"""``pricegraph serve``: the GraphQL API under uvicorn."""

from __future__ import annotations

import importlib.util
from typing import Annotated

import typer

from ..services import api_section, check_deployment
from ._common import app, clear_errors, console, load_settings

EXAMPLES = (
    'Example queries (POST {{"query": ...}} to http://{host}:{port}/graphql, header X-API-Key):\n'
    "  {{ products(first: 5, filter: {{isInStock: true}}) "
    "{{ edges {{ node {{ key name listPrice brand {{ name }} }} }} }} }}\n"
    '  {{ similarProducts(text: "black leather shoulder bag", first: 5) '
    "{{ score product {{ key name }} }} }}\n"
    '  {{ personalizedPrice(customerId: "C00017", productId: "P00042") '
    "{{ price listPrice isPersonalized rationale }} }}\n"
    '  {{ recommendations(customerId: "C00017", first: 5) {{ rank key reason }} }}\n'
)


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
    import uvicorn

    settings = load_settings()
    changes = {"host": host, "port": port, "workers": workers}
    config = api_section(settings).model_copy(
        update={k: v for k, v in changes.items() if v is not None}
    )
    check_deployment(settings, config)
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "auto"
    http = "httptools" if importlib.util.find_spec("httptools") else "auto"
    console.print(EXAMPLES.format(host=config.host, port=config.port), highlight=False)
    if config.workers > 1:
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

    uvicorn.run(
        create_app(settings, config=config),
        host=config.host,
        port=config.port,
        loop=loop,
        http=http,
    )
