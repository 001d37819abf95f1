"""The Dockerfile, the compose file and the k8s manifests, checked without a container engine.

Every ``PRICEGRAPH_*`` variable they set is a real setting, every image is the one
the Dockerfile builds, every command they run exists (CLI commands and their
options, ``-m`` modules and their arguments), the probes ask a real route, and the
files the image build needs are in the build context.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from pydantic import BaseModel

from pricegraph.api.cli import app
from pricegraph.api.server import PATHS
from pricegraph.api.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = yaml.safe_load((INFRA / "docker-compose.yml").read_text(encoding="utf-8"))
MANIFESTS = {
    path.name: [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    for path in sorted((INFRA / "k8s").glob("*.yaml"))
}
IMAGE = "pricegraph"
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
    assert any('pip install ".[neo4j]"' in r for r in _instructions("RUN"))
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "neo4j" in extras["optional-dependencies"]


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
    assert set(service["depends_on"]) == {"neo4j", "qdrant"}
    env = service["environment"]
    assert env["PRICEGRAPH_GRAPH__NEO4J_URI"].split("//")[1].split(":")[0] == "neo4j"
    assert env["PRICEGRAPH_VECTORS__URL"].split("//")[1].split(":")[0] == "qdrant"
    for name in COMPOSE["services"]:
        assert "healthcheck" in COMPOSE["services"][name] or name == "pricegraph"


def test_compose_variables_are_settings() -> None:
    for name, service in COMPOSE["services"].items():
        for variable in service.get("environment", {}):
            if variable.startswith("PRICEGRAPH_"):
                assert is_setting(variable), f"compose service {name}: {variable}"


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
    secrets = {d["metadata"]["name"]: d for d in MANIFESTS["secret.yaml"] if d["kind"] == "Secret"}
    for name, container in found:
        check_command(container["command"])
        for variable in container.get("env", []):
            assert is_setting(variable["name"]), f"{name}: {variable['name']}"
            ref = variable.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["key"] in secrets[ref["name"]].get("stringData", {}), ref


def test_api_probes_ask_healthz_on_the_served_port() -> None:
    (deployment,) = [d for d in MANIFESTS["api.yaml"] if d["kind"] == "Deployment"]
    (container,) = containers(deployment)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    command = container["command"]
    assert ports["http"] == int(command[command.index("--port") + 1])
    for probe in ("readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert get["path"] == "/healthz" and get["path"] in PATHS and get["port"] in ports


def test_gnn_job_exports_the_snapshot_that_torchrun_trains_on() -> None:
    (job,) = MANIFESTS["gnn-train-job.yaml"]
    (export,) = job["spec"]["template"]["spec"]["initContainers"]
    (train,) = job["spec"]["template"]["spec"]["containers"]
    snapshot = export["command"][-1]
    assert export["command"][:2] == ["pricegraph", "export-graph"]
    assert train["command"][0] == "torchrun" and "pricegraph.gnn.ddp" in train["command"]
    assert train["command"][train["command"].index("--snapshot") + 1] == snapshot
    mounts = {m["name"]: m["mountPath"] for m in export["volumeMounts"]}
    assert snapshot.startswith(mounts["artifacts"] + "/")
    assert shlex.join(train["command"])  # plain strings only
