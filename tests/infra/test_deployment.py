"""The Dockerfile, the compose file and the k8s manifests, checked without a container engine.

Every ``PRICEGRAPH_*`` variable they set is a real setting, every image is the one
the Dockerfile builds, every command they run exists (CLI commands and their
options, ``-m`` modules and their arguments), the probes ask a real route, and the
files the image build needs are in the build context. The GNN Job exports,
trains, and publishes the encoder where the API loads it. The API runs as several
replicas because its records (audit log, approvals, saved guardrails) are in the
PostgreSQL server beside it, whose URL names that server's service, port, user,
password and database.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import secrets
import shlex
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import typer
import yaml
from pydantic import BaseModel, ValidationError

from pricegraph.api.cli import app
from pricegraph.api.config import Role
from pricegraph.api.server import PATHS
from pricegraph.api.settings import Settings
from pricegraph.pricing.records import is_server_url

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = yaml.safe_load((INFRA / "docker-compose.yml").read_text(encoding="utf-8"))
MANIFESTS = {
    path.name: [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    for path in sorted((INFRA / "k8s").glob("*.yaml"))
}
IMAGE = "pricegraph"
DATABASE_URL = "PRICEGRAPH_PRICING__DATABASE_URL"
POSTGRES_IMAGE = "postgres:16"
SPECIAL_VARIABLES = {"PRICEGRAPH_CONFIG"}  # the TOML file's path, read by Settings itself
CLI = typer.main.get_command(app)


def is_setting(variable: str) -> bool:
    """Whether ``variable`` names a field of :class:`Settings` (``__`` between sections)."""
    if variable in SPECIAL_VARIABLES:
        return True
    model: Any = Settings
    for part in variable.removeprefix("PRICEGRAPH_").lower().split("__"):
        if model is None or part not in model.model_fields:
            return False
        annotation = model.model_fields[part].annotation
        is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        model = annotation if is_model else None
    return True


def check_command(command: list[str]) -> None:
    """Fail unless ``command`` runs a CLI command with known options, or a real module."""
    if command[0] == "pricegraph":
        name = command[1]
        assert name in CLI.commands, f"no CLI command {name!r}"  # type: ignore[attr-defined]
        known = {opt for p in CLI.commands[name].params for opt in p.opts}  # type: ignore[attr-defined]
        for arg in command[2:]:
            if arg.startswith("--"):
                assert arg.split("=")[0] in known, f"pricegraph {name}: no option {arg}"
        return
    if command[0] in ("python", "torchrun"):
        module = command[command.index("-m") + 1]
        assert module.startswith("pricegraph."), module
        spec = importlib.util.find_spec(module)
        assert spec is not None and spec.origin, f"no module {module}"
        source = Path(spec.origin).read_text(encoding="utf-8")
        assert 'if __name__ == "__main__":' in source, f"{module} has no entry point"
        if module == "pricegraph.gnn.ddp":
            from pricegraph.gnn.ddp import _parse_args

            _parse_args(command[command.index("-m") + 2 :])  # exits on an unknown argument
        return
    raise AssertionError(f"unexpected command {command}")


def containers(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The containers and init containers of a Deployment, StatefulSet or Job."""
    pod = document.get("spec", {}).get("template", {}).get("spec", {})
    return [*pod.get("initContainers", []), *pod.get("containers", [])]


def pricegraph_containers() -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, c)
        for name, documents in MANIFESTS.items()
        for d in documents
        for c in containers(d)
        if c["image"].split(":")[0] == IMAGE
    ]


# -- the helpers themselves ------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "expected"),
    [
        ("PRICEGRAPH_GRAPH__NEO4J_URI", True),
        ("PRICEGRAPH_DATA_DIR", True),
        ("PRICEGRAPH_API__HOST", True),
        ("PRICEGRAPH_PRICING__DATABASE_URL", True),
        ("PRICEGRAPH_PRICING__DATABASE_URI", False),
        ("PRICEGRAPH_DATABASE_URL", False),
        ("PRICEGRAPH_GRAPH__NEO4J_URL", False),
        ("PRICEGRAPH_GRAPH", True),
        ("PRICEGRAPH_DATA_DIR__X", False),
        ("PRICEGRAPH_NEO4J_URI", False),
    ],
)
def test_is_setting(variable: str, expected: bool) -> None:
    assert is_setting(variable) is expected


def test_check_command_refuses_what_does_not_exist() -> None:
    with pytest.raises(AssertionError, match="no CLI command"):
        check_command(["pricegraph", "serve-all"])
    with pytest.raises(AssertionError, match="no option --threads"):
        check_command(["pricegraph", "serve", "--threads", "2"])
    with pytest.raises(AssertionError, match="no module"):
        check_command(["torchrun", "-m", "pricegraph.gnn.missing"])


# -- Dockerfile ------------------------------------------------------------------------


def _instructions(name: str) -> list[str]:
    text = DOCKERFILE.replace("\\\n", " ")
    return [line.split(None, 1)[1] for line in text.splitlines() if line.startswith(f"{name} ")]


def test_dockerfile_builds_cpu_torch_by_default_and_takes_a_cuda_index() -> None:
    args = dict(a.split("=", 1) for a in _instructions("ARG") if "=" in a)
    assert args["TORCH_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
    assert re.fullmatch(r"\d+\.\d+\.\d+", args["TORCH_VERSION"])
    assert len(_instructions("FROM")) == 2 and "AS build" in _instructions("FROM")[0]
    assert any('pip install ".[neo4j,postgres]"' in r for r in _instructions("RUN"))
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert {"neo4j", "postgres"} <= set(extras["optional-dependencies"])


def test_dockerfile_runs_serve_as_a_non_root_user_with_a_health_check() -> None:
    (user,) = _instructions("USER")
    assert user not in ("root", "0")
    (cmd,) = _instructions("CMD")
    check_command(yaml.safe_load(cmd))
    assert yaml.safe_load(cmd)[:2] == ["pricegraph", "serve"]
    (health,) = _instructions("HEALTHCHECK")
    assert "/healthz" in health and "/healthz" in PATHS


def test_dockerfile_environment_is_settings_and_the_data_dir_is_the_volume() -> None:
    names = re.findall(r"\b(PRICEGRAPH_\w+)=(\S+)", " ".join(_instructions("ENV")))
    assert names and all(is_setting(n) for n, _ in names)
    (volume,) = _instructions("VOLUME")
    assert yaml.safe_load(volume) == [dict(names)["PRICEGRAPH_DATA_DIR"]]


def test_the_build_context_keeps_what_pip_install_needs() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    needed = ["pyproject.toml", "README.md", *setuptools["package-data"]["pricegraph"]]
    needed += [
        p.removeprefix("pricegraph").lstrip(".").replace(".", "/") or "."
        for p in setuptools["packages"]
    ]
    for path in needed:
        assert (ROOT / path).exists(), path
        assert path.split("/")[0] not in ignored, f"{path} is needed but in .dockerignore"


# -- docker-compose.yml ----------------------------------------------------------------


def test_compose_builds_and_runs_the_image_beside_its_servers() -> None:
    service = COMPOSE["services"]["pricegraph"]
    assert service["image"].split(":")[0] == IMAGE
    context = (INFRA / service["build"]["context"]).resolve()
    assert (context / service["build"]["dockerfile"]).read_text() == DOCKERFILE
    check_command(service["command"])
    assert service["depends_on"] == {
        name: {"condition": "service_healthy"} for name in ("neo4j", "qdrant", "postgres")
    }
    env = service["environment"]
    assert env["PRICEGRAPH_GRAPH__NEO4J_URI"].split("//")[1].split(":")[0] == "neo4j"
    assert env["PRICEGRAPH_VECTORS__URL"].split("//")[1].split(":")[0] == "qdrant"
    assert urlsplit(env[DATABASE_URL]).hostname == "postgres"
    for name in COMPOSE["services"]:
        assert "healthcheck" in COMPOSE["services"][name] or name == "pricegraph"


def test_compose_variables_are_settings() -> None:
    for name, service in COMPOSE["services"].items():
        for variable in service.get("environment", {}):
            if variable.startswith("PRICEGRAPH_"):
                assert is_setting(variable), f"compose service {name}: {variable}"


def test_every_pricegraph_variable_named_in_compose_and_k8s_is_a_setting() -> None:
    """Comments included: what they tell people to set must exist too."""
    files = [INFRA / "docker-compose.yml", *sorted((INFRA / "k8s").glob("*.yaml"))]
    for path in files:
        text = path.read_text(encoding="utf-8")
        names = set(re.findall(r"\bPRICEGRAPH_[A-Z0-9_]*[A-Z0-9]", text))
        for name in names:
            assert is_setting(name), f"{path.name}: {name}"
        if path.name in ("docker-compose.yml", "api.yaml"):
            assert DATABASE_URL in names, path.name


def _url_parts(url: str) -> tuple[str | None, int | None, str, str, str]:
    """Host, port, user, password and database of a ``postgresql://`` URL."""
    parts = urlsplit(url)
    assert parts.scheme == "postgresql", url
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    return parts.hostname, parts.port, user, password, parts.path.lstrip("/")


@pytest.mark.parametrize("shell", [{}, {"POSTGRES_PASSWORD": secrets.token_hex(24)}])
def test_compose_api_url_names_the_postgres_service_and_its_credentials(
    shell: dict[str, str],
) -> None:
    postgres = COMPOSE["services"]["postgres"]
    assert postgres["image"] == POSTGRES_IMAGE
    db_env = {
        name: _interpolate(str(value), shell) for name, value in postgres["environment"].items()
    }
    assert db_env["POSTGRES_USER"] == db_env["POSTGRES_DB"] == "pricegraph"
    assert db_env["POSTGRES_PASSWORD"] == shell.get("POSTGRES_PASSWORD", "pricegraph-dev")
    container_ports = {int(str(p).split(":")[-1]) for p in postgres["ports"]}
    url = _interpolate(COMPOSE["services"]["pricegraph"]["environment"][DATABASE_URL], shell)
    assert _url_parts(url) == (
        "postgres",
        5432,
        db_env["POSTGRES_USER"],
        db_env["POSTGRES_PASSWORD"],
        db_env["POSTGRES_DB"],
    )
    assert 5432 in container_ports
    # kept across restarts in a named volume; healthy once pg_isready says so
    (volume,) = postgres["volumes"]
    name, path = volume.split(":")[:2]
    assert name in COMPOSE["volumes"] and path == "/var/lib/postgresql/data"
    assert "pg_isready" in postgres["healthcheck"]["test"]


# -- k8s -------------------------------------------------------------------------------


def test_manifests_are_kubernetes_objects() -> None:
    for name, documents in MANIFESTS.items():
        assert documents, name
        for document in documents:
            assert {"apiVersion", "kind", "metadata"} <= set(document), name
            assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", document["metadata"]["name"])


def test_manifest_containers_use_the_image_settings_and_commands_that_exist() -> None:
    found = pricegraph_containers()
    assert {name for name, _ in found} == {"api.yaml", "gnn-train-job.yaml"}
    for name, container in found:
        check_command(container["command"])
        for variable in container.get("env", []):
            assert is_setting(variable["name"]), f"{name}: {variable['name']}"


def test_every_secret_reference_names_a_key_of_the_secret_template() -> None:
    secrets = {d["metadata"]["name"]: d for d in MANIFESTS["secret.yaml"] if d["kind"] == "Secret"}
    for name, documents in MANIFESTS.items():
        for document in documents:
            for container in containers(document):
                for variable in container.get("env", []):
                    ref = variable.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        assert ref["name"] in secrets, f"{name}: {ref}"
                        assert ref["key"] in secrets[ref["name"]]["stringData"], f"{name}: {ref}"


def test_stateful_sets_are_served_by_a_service_and_mount_their_claims() -> None:
    for name, documents in MANIFESTS.items():
        services = {d["metadata"]["name"]: d for d in documents if d["kind"] == "Service"}
        for document in documents:
            if document["kind"] != "StatefulSet":
                continue
            spec = document["spec"]
            service = services[spec["serviceName"]]
            labels = spec["template"]["metadata"]["labels"]
            assert spec["selector"]["matchLabels"].items() <= labels.items(), name
            assert service["spec"]["selector"].items() <= labels.items(), name
            ports = {p["name"] for c in containers(document) for p in c.get("ports", [])}
            assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports, name
            volumes = {v["name"] for v in _pod(document).get("volumes", [])}
            volumes |= {t["metadata"]["name"] for t in spec.get("volumeClaimTemplates", [])}
            for container in containers(document):
                for mount in container.get("volumeMounts", []):
                    assert mount["name"] in volumes, f"{name}: {mount}"


def test_api_probes_ask_healthz_and_livez_on_the_served_port() -> None:
    """Readiness asks /healthz (the stores answer); liveness only /livez (the process
    answers), so a server that is down makes the pods unready, not restarted."""
    (deployment,) = [d for d in MANIFESTS["api.yaml"] if d["kind"] == "Deployment"]
    (container,) = containers(deployment)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    command = container["command"]
    assert ports["http"] == int(command[command.index("--port") + 1])
    for probe, path in (("readinessProbe", "/healthz"), ("livenessProbe", "/livez")):
        get = container[probe]["httpGet"]
        assert get["path"] == path and get["path"] in PATHS and get["port"] in ports


def _gnn_job_steps() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The GNN Job's export-graph and train (init containers, in this order) and publish
    (its one container): each starts only when the one before succeeded."""
    (job,) = MANIFESTS["gnn-train-job.yaml"]
    export, train = _pod(job)["initContainers"]
    (publish,) = _pod(job)["containers"]
    return export, train, publish


def test_gnn_job_exports_the_snapshot_that_torchrun_trains_on() -> None:
    export, train, _ = _gnn_job_steps()
    snapshot = export["command"][-1]
    assert export["command"][:2] == ["pricegraph", "export-graph"]
    assert train["command"][0] == "torchrun" and "pricegraph.gnn.ddp" in train["command"]
    assert train["command"][train["command"].index("--snapshot") + 1] == snapshot
    mounts = {m["name"]: m["mountPath"] for m in export["volumeMounts"]}
    assert snapshot.startswith(mounts["data"] + "/")
    assert shlex.join(train["command"])  # plain strings only


# -- state: the data directory on shared claims -------------------------------------


def _pod(document: dict[str, Any]) -> dict[str, Any]:
    return document["spec"]["template"]["spec"]


def _claims() -> dict[str, dict[str, Any]]:
    return {
        d["metadata"]["name"]: d
        for documents in MANIFESTS.values()
        for d in documents
        if d["kind"] == "PersistentVolumeClaim"
    }


def _mounted_claims(document: dict[str, Any], container: dict[str, Any]) -> dict[str, str]:
    """Mount path -> claim name of the container's volumes that are claims."""
    volumes = {
        v["name"]: v["persistentVolumeClaim"]["claimName"]
        for v in _pod(document).get("volumes", [])
        if "persistentVolumeClaim" in v
    }
    return {
        m["mountPath"]: volumes[m["name"]]
        for m in container.get("volumeMounts", [])
        if m["name"] in volumes
    }


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {v["name"]: v.get("value", v.get("valueFrom")) for v in container.get("env", [])}


def test_api_and_gnn_job_mount_the_same_claim_at_the_data_dir() -> None:
    (deployment,) = [d for d in MANIFESTS["api.yaml"] if d["kind"] == "Deployment"]
    (job,) = MANIFESTS["gnn-train-job.yaml"]
    claims = _claims()
    data_claims = set()
    for document in (deployment, job):
        for container in containers(document):
            data_dir = _env(container)["PRICEGRAPH_DATA_DIR"]
            mounted = _mounted_claims(document, container)
            assert data_dir in mounted, f"{container['name']}: no claim at {data_dir}"
            data_claims.add(mounted[data_dir])
            for mount in container["volumeMounts"]:  # no scratch space under it
                if Path(mount["mountPath"]).is_relative_to(data_dir):
                    assert mount["mountPath"] in mounted, f"{container['name']}: {mount}"
    (claim,) = data_claims
    # the GNN Job runs where the GPU is, maybe not on the API's node
    assert claims[claim]["spec"]["accessModes"] == ["ReadWriteMany"]


def test_the_gnn_job_writes_under_the_data_dir() -> None:
    _, train, _ = _gnn_job_steps()
    data_dir = _env(train)["PRICEGRAPH_DATA_DIR"]
    out = train["command"][train["command"].index("--out") + 1]
    assert out.startswith(data_dir + "/models/")


SERVER_VARIABLES = (
    "PRICEGRAPH_GRAPH__BACKEND",
    "PRICEGRAPH_GRAPH__NEO4J_URI",
    "PRICEGRAPH_GRAPH__NEO4J_USER",
    "PRICEGRAPH_GRAPH__NEO4J_PASSWORD",
    "PRICEGRAPH_VECTORS__URL",
    "PRICEGRAPH_DATA_DIR",
)


def test_the_gnn_job_publishes_its_checkpoint_where_the_api_loads_the_encoder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from pricegraph.api.commands.publish_encoder import encoder_dir
    from pricegraph.api.config import ApiConfig

    _, train, publish = _gnn_job_steps()
    check_command(publish["command"])
    out = train["command"][train["command"].index("--out") + 1]
    assert publish["command"] == ["pricegraph", "publish-encoder", f"{out}/checkpoint.pt"]
    # the graph, the vectors and the data directory the API uses
    (deployment,) = [d for d in MANIFESTS["api.yaml"] if d["kind"] == "Deployment"]
    (api,) = containers(deployment)
    api_env, job_env = _env(api), _env(publish)
    for variable in SERVER_VARIABLES:
        assert job_env[variable] == api_env[variable], variable
    (job,) = MANIFESTS["gnn-train-job.yaml"]
    data_dir = api_env["PRICEGRAPH_DATA_DIR"]
    assert _mounted_claims(job, publish)[data_dir] == _mounted_claims(deployment, api)[data_dir]
    # publish-encoder writes latest.pt where the API's encoder_path default points
    assert "PRICEGRAPH_API__ENCODER_PATH" not in api_env
    served = ApiConfig().resolved(Path(data_dir)).encoder_path
    values = {
        name: value if isinstance(value, str) else "from-a-secret"
        for name, value in job_env.items()
    }
    settings = _settings(values, monkeypatch, tmp_path)
    assert encoder_dir(settings) / "latest.pt" == served
    assert served.is_relative_to(Path(data_dir) / "models" / "encoder")


# -- the records database: API replicas over PostgreSQL --------------------------------


def check_replicas(
    document: dict[str, Any], claims: dict[str, dict[str, Any]] | None = None
) -> None:
    """Fail when a Deployment of several replicas keeps records of its own: it must set
    the records database URL, and mount no ReadWriteOnce claim (one node at a time).
    ``claims``: name -> PersistentVolumeClaim (default: those of the manifests)."""
    if document["kind"] != "Deployment" or document["spec"].get("replicas", 1) <= 1:
        return
    claims = _claims() if claims is None else claims
    for container in containers(document):
        if container["image"].split(":")[0] != IMAGE:
            continue
        name = f"{document['metadata']['name']}/{container['name']}"
        assert DATABASE_URL in _env(container), f"{name}: several replicas without {DATABASE_URL}"
    for volume in _pod(document).get("volumes", []):
        if "persistentVolumeClaim" in volume:
            claim = volume["persistentVolumeClaim"]["claimName"]
            modes = claims[claim]["spec"]["accessModes"]
            assert "ReadWriteOnce" not in modes, f"several replicas mount ReadWriteOnce {claim}"


def test_check_replicas_refuses_records_of_their_own() -> None:
    (deployment,) = [d for d in MANIFESTS["api.yaml"] if d["kind"] == "Deployment"]
    check_replicas(deployment)
    no_url = copy.deepcopy(deployment)
    for container in containers(no_url):
        container["env"] = [v for v in container["env"] if v["name"] != DATABASE_URL]
    with pytest.raises(AssertionError, match="several replicas without"):
        check_replicas(no_url)
    check_replicas(no_url | {"spec": no_url["spec"] | {"replicas": 1}})
    on_rwo = copy.deepcopy(deployment)
    _pod(on_rwo)["volumes"][0]["persistentVolumeClaim"]["claimName"] = "records"
    rwo = {"records": {"spec": {"accessModes": ["ReadWriteOnce"]}}}
    with pytest.raises(AssertionError, match="ReadWriteOnce records"):
        check_replicas(on_rwo, _claims() | rwo)


def test_replicated_deployments_keep_no_records_of_their_own() -> None:
    deployments = [d for docs in MANIFESTS.values() for d in docs if d["kind"] == "Deployment"]
    assert deployments
    for deployment in deployments:
        check_replicas(deployment)
    # the API mounts the data directory's claim only: none is left for a SQLite audit log
    (api,) = [d for d in MANIFESTS["api.yaml"] if d["kind"] == "Deployment"]
    (container,) = containers(api)
    mounted = _mounted_claims(api, container)
    assert list(mounted) == [_env(container)["PRICEGRAPH_DATA_DIR"]]
    assert "pricegraph-audit" not in _claims()


def test_the_api_runs_replicas_replaced_one_at_a_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (deployment,) = [d for d in MANIFESTS["api.yaml"] if d["kind"] == "Deployment"]
    spec = deployment["spec"]
    assert spec["replicas"] >= 2
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
    }
    (container,) = containers(deployment)
    env = _env(container)
    ref = env[DATABASE_URL]["secretKeyRef"]  # a password: from the Secret, not inline
    # the real settings take the template's URL as the records database
    values = {
        name: value if isinstance(value, str) else _secret_value(value["secretKeyRef"])
        for name, value in env.items()
    }
    keys = [{"name": "admin", "key": secrets.token_hex(24), "role": "admin"}]
    settings = _settings(values | {"PRICEGRAPH_API__KEYS": json.dumps(keys)}, monkeypatch, tmp_path)
    target = settings.pricing.records_target()
    assert is_server_url(target) and target == _secret_value(ref)


def _postgres() -> tuple[dict[str, Any], dict[str, Any]]:
    """The Service and the StatefulSet of postgres.yaml."""
    documents = MANIFESTS["postgres.yaml"]
    (service,) = [d for d in documents if d["kind"] == "Service"]
    (stateful_set,) = [d for d in documents if d["kind"] == "StatefulSet"]
    return service, stateful_set


def test_postgres_runs_one_server_on_its_own_claim_with_a_secret_password() -> None:
    service, stateful_set = _postgres()
    spec = stateful_set["spec"]
    assert spec["replicas"] == 1 and spec["serviceName"] == service["metadata"]["name"]
    (container,) = containers(stateful_set)
    assert container["image"] == POSTGRES_IMAGE
    env = _env(container)
    assert env["POSTGRES_PASSWORD"]["secretKeyRef"]["name"] == "pricegraph-postgres"
    (template,) = spec["volumeClaimTemplates"]
    assert template["spec"]["accessModes"] == ["ReadWriteOnce"]
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == template["metadata"]["name"]]
    assert Path(env.get("PGDATA", mount["mountPath"])).is_relative_to(mount["mountPath"])
    for probe in ("readinessProbe", "livenessProbe"):
        assert "pg_isready" in " ".join(container[probe]["exec"]["command"]), probe


def test_the_api_url_names_the_postgres_service_and_its_credentials() -> None:
    service, stateful_set = _postgres()
    (deployment,) = [d for d in MANIFESTS["api.yaml"] if d["kind"] == "Deployment"]
    (api,) = containers(deployment)
    url = _secret_value(_env(api)[DATABASE_URL]["secretKeyRef"])
    host, port, user, password, database = _url_parts(url)
    assert host == service["metadata"]["name"]
    (service_port,) = service["spec"]["ports"]
    assert port == service_port["port"]
    (db,) = containers(stateful_set)
    db_env = _env(db)
    container_ports = {p["name"]: p["containerPort"] for p in db["ports"]}
    assert container_ports[service_port["targetPort"]] == 5432
    assert user == _secret_value(db_env["POSTGRES_USER"]["secretKeyRef"])
    assert password == _secret_value(db_env["POSTGRES_PASSWORD"]["secretKeyRef"])
    assert database == db_env["POSTGRES_DB"]


# -- API keys and production -----------------------------------------------------------


def _secret_value(ref: dict[str, str]) -> str:
    (secret,) = [
        d
        for d in MANIFESTS["secret.yaml"]
        if d["kind"] == "Secret" and d["metadata"]["name"] == ref["name"]
    ]
    return str(secret["stringData"][ref["key"]])


def _settings(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    """The real settings model over exactly ``env`` (no .env or TOML file around)."""
    for name in list(os.environ):
        if name.startswith("PRICEGRAPH_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


def test_api_manifest_runs_in_prod_with_keys_from_a_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (deployment,) = [d for d in MANIFESTS["api.yaml"] if d["kind"] == "Deployment"]
    (container,) = containers(deployment)
    env = _env(container)
    assert env["PRICEGRAPH_API__ENVIRONMENT"] == "prod"
    keys_ref = env["PRICEGRAPH_API__KEYS"]["secretKeyRef"]
    template = _secret_value(keys_ref)
    values = {
        name: value if isinstance(value, str) else _secret_value(value["secretKeyRef"])
        for name, value in env.items()
    }
    # The template's placeholder is refused in prod: the API does not start with it.
    with pytest.raises(ValidationError, match="shorter than 24 characters"):
        _settings(values, monkeypatch, tmp_path)
    # The same list with real keys (as `openssl rand -hex 24` makes) parses as keys.
    keys = json.loads(template)
    for key in keys:
        key["key"] = secrets.token_hex(24)
    settings = _settings(values | {"PRICEGRAPH_API__KEYS": json.dumps(keys)}, monkeypatch, tmp_path)
    assert settings.api.environment == "prod"
    assert [(k.name, k.role) for k in settings.api.keys] == [(k["name"], k["role"]) for k in keys]
    assert settings.api.keys[0].level == Role.ADMIN


def _interpolate(value: str, shell: dict[str, str]) -> str:
    """Compose's ``${NAME:-default}`` interpolation."""
    pattern = r"\$\{(\w+):-([^}]*)\}"
    return re.sub(pattern, lambda m: shell.get(m.group(1)) or m.group(2), value)


def test_compose_api_has_an_admin_key_the_settings_parse(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = COMPOSE["services"]["pricegraph"]["environment"]
    values = {name: _interpolate(str(value), {}) for name, value in env.items()}
    settings = _settings(values, monkeypatch, tmp_path)
    assert settings.api.environment == "dev"
    (key,) = settings.api.keys
    assert key.role == "admin" and key.key.get_secret_value() == "change-me"
    # prod refuses the placeholder, and takes a key of 24+ characters from the shell
    prod = {"PRICEGRAPH_API__ENVIRONMENT": "prod"}
    with pytest.raises(ValidationError, match="shorter than 24 characters"):
        _settings({n: _interpolate(str(v), prod) for n, v in env.items()}, monkeypatch, tmp_path)
    shell = prod | {"API_ADMIN_KEY": secrets.token_hex(24)}
    values = {name: _interpolate(str(value), shell) for name, value in env.items()}
    settings = _settings(values, monkeypatch, tmp_path)
    assert settings.api.environment == "prod"
    assert settings.api.keys[0].key.get_secret_value() == shell["API_ADMIN_KEY"]


def test_setup_and_the_image_take_torch_from_the_same_cpu_index() -> None:
    setup = (ROOT / "scripts" / "setup").read_text(encoding="utf-8")
    (default,) = re.findall(r'TORCH_INDEX_URL="\$\{TORCH_INDEX_URL-([^}]*)\}"', setup)
    args = dict(a.split("=", 1) for a in _instructions("ARG") if "=" in a)
    assert default == args["TORCH_INDEX_URL"]
    (spec,) = re.findall(r'TORCH_SPEC="\$\{TORCH_SPEC-torch==([^}]*)\}"', setup)
    assert spec == args["TORCH_VERSION"]
