#!/usr/bin/env python3
"""The production overlay's Deployments, ConfigMaps and Secrets for `podman kube play` on one
machine, changed only where a single host without a cluster must differ:

- images: the ones `make containers` built (localhost/conoceles/<service>:local);
- replicas: 1 (pods share the host's network here, so two replicas would want the same ports);
- Secrets: the placeholder Secrets' keys with this machine's PostgreSQL (a database of its own
  per service), RabbitMQ (an exchange namespace of its own), generated service secrets and a
  generated identity key — given to the containers inline, as `env` in place of each
  `envFrom: secretRef` (podman 4.3 does not read back the Secrets it is given: a Secret in the
  played file, or made with `podman secret create`, fails with "is not valid JSON");
- the endpoints ConfigMap: 127.0.0.1 instead of the Services' names (no Service here);
- init containers: taken out of the play file and written, one JSON line each (image, args,
  env), to the file named as the first argument, for the caller to run first: podman 4.3 tries
  to remove a finished init container while runc still reports it running and aborts the pod
  ("cannot remove container … as it is running"), with or without its "always" annotation;
- container ports: dropped, and the probes' named ports written as numbers (podman maps
  declared ports, which the host's network does not allow).

Everything else — probes, securityContext, init containers, volumes, resources — is kept as the
overlay renders it. Reads the rendered overlay on stdin, writes the play file on stdout.
"""
import base64
import copy
import json
import secrets
import sys

import yaml

SERVICES = ["auth", "identity", "capture", "validation", "publication", "statistics"]
GRPC = {s: 50051 + i for i, s in enumerate(SERVICES)}
PREFIX = "kube"


def main():
    documents = [d for d in yaml.safe_load_all(sys.stdin) if d]
    service_secrets = {s: secrets.token_urlsafe(24) for s in SERVICES}
    shared = ",".join(f"{s}={v}" for s, v in service_secrets.items())
    # The ConfigMap first: the pods read it when they are created.
    play = []
    for doc in documents:
        kind = doc.get("kind")
        if kind == "ConfigMap" and doc["metadata"]["name"] == "conoceles-endpoints":
            cm = copy.deepcopy(doc)
            cm["metadata"].pop("namespace", None)
            for key, value in list(cm["data"].items()):
                if key.endswith("_GRPC_URL"):
                    service = key[: -len("_GRPC_URL")].lower()
                    cm["data"][key] = f"http://127.0.0.1:{GRPC[service]}"
            cm["data"]["BIND_ADDRESS"] = "127.0.0.1"
            cm["data"].pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
            cm["data"]["REDIS_URL"] = "redis://127.0.0.1:6379/"
            cm["data"]["REDIS_KEY_PREFIX"] = f"conoceles-{PREFIX}:"
            cm["data"]["AMQP_NAMESPACE"] = f"conoceles-{PREFIX}"
            play.append(cm)
        elif kind == "Deployment":
            dep = copy.deepcopy(doc)
            dep["metadata"].pop("namespace", None)
            dep["spec"]["replicas"] = 1
            pod = dep["spec"]["template"]["spec"]
            for container in pod.get("initContainers", []) + pod["containers"]:
                numbers = {p["name"]: p["containerPort"] for p in container.pop("ports", []) if "name" in p}
                for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                    for how in ("httpGet", "tcpSocket", "grpc"):
                        check = container.get(probe, {}).get(how)
                        if check and isinstance(check.get("port"), str):
                            check["port"] = numbers[check["port"]]
                name = container["image"].rsplit("/", 1)[-1].split(":")[0]
                container["image"] = f"localhost/conoceles/{name}:local"
                container["imagePullPolicy"] = "Never"
            play.append(dep)
    values = {"conoceles-broker": {"AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/%2f"}}
    for s in SERVICES:
        values[f"conoceles-{s}"] = {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/conoceles_{PREFIX}_{s}",
            "SERVICE_SECRET": service_secrets[s],
        }
    values["conoceles-auth"]["SERVICE_SECRETS"] = shared
    values["conoceles-auth"]["AUTH_SIGNING_KEY"] = base64.b64encode(secrets.token_bytes(32)).decode()
    kek = base64.b64encode(secrets.token_bytes(32)).decode()
    values["conoceles-identity-kek"] = {"IDENTITY_KEK": f"kube-1:{kek}"}
    for dep in (d for d in play if d["kind"] == "Deployment"):
        pod = dep["spec"]["template"]["spec"]
        for container in pod.get("initContainers", []) + pod["containers"]:
            kept = []
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    for key, value in values[source["secretRef"]["name"]].items():
                        container.setdefault("env", []).append({"name": key, "value": value})
                else:
                    kept.append(source)
            container["envFrom"] = kept
    configmaps = [d for d in play if d["kind"] == "ConfigMap"]
    deployments = [d for d in play if d["kind"] == "Deployment"]
    with open(sys.argv[1], "w") as f:
        for dep in deployments:
            pod = dep["spec"]["template"]["spec"]
            for init in pod.pop("initContainers", []):
                env = {}
                for source in init.get("envFrom", []):
                    env.update(configmaps[0]["data"] if "configMapRef" in source else {})
                env.update({e["name"]: e["value"] for e in init.get("env", [])})
                f.write(json.dumps({"image": init["image"], "args": init.get("args", []), "env": env}) + "\n")
    yaml.safe_dump_all(configmaps + deployments, sys.stdout, sort_keys=False)


main()
