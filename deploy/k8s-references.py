#!/usr/bin/env python3
"""Checks, without a cluster, what refers to what in a rendered overlay — the part of a
cluster's behaviour a schema cannot see:

- each Service selects the pods of one Deployment, and its targetPorts are ports (by number or
  name) of that Deployment's containers;
- each PodDisruptionBudget selects the pods of one Deployment;
- each HorizontalPodAutoscaler scales an existing Deployment;
- each probe's port is a port its container declares;
- each ConfigMap and Secret a container reads (envFrom) exists in the overlay, unless the
  overlay says where they are made apart (the production Secrets, made from the secret store
  with the names and keys of k8s/placeholder-secrets: --external-from that file).

    python3 deploy/k8s-references.py rendered.yaml [--external-from k8s/placeholder-secrets/secrets.yaml]
"""
import argparse
import sys

import yaml


def matches(selector, labels):
    return all(labels.get(k) == v for k, v in (selector or {}).items())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("rendered")
    parser.add_argument("--external-from", help="a file of the Secrets created outside the overlay")
    args = parser.parse_args()
    external = set()
    if args.external_from:
        external = {o["metadata"]["name"] for o in yaml.safe_load_all(open(args.external_from)) if o and o["kind"] == "Secret"}
    objects = [o for o in yaml.safe_load_all(open(args.rendered)) if o]
    deployments = [o for o in objects if o["kind"] in ("Deployment", "StatefulSet")]
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    problems = []

    def selected(selector, what):
        found = [d for d in deployments if matches(selector, d["spec"]["template"]["metadata"].get("labels", {}))]
        if len(found) != 1:
            problems.append(f"{what} selects {len(found)} workloads ({selector})")
        return found[0] if len(found) == 1 else None

    def ports_of(workload):
        ports = set()
        for c in workload["spec"]["template"]["spec"]["containers"]:
            for p in c.get("ports", []):
                ports.add(p["containerPort"])
                if "name" in p:
                    ports.add(p["name"])
        return ports

    for o in objects:
        kind, name = o["kind"], o["metadata"]["name"]
        if kind == "Service" and o["spec"].get("selector"):
            workload = selected(o["spec"]["selector"], f"Service {name}")
            if workload:
                for p in o["spec"].get("ports", []):
                    target = p.get("targetPort", p["port"])
                    if target not in ports_of(workload):
                        problems.append(f"Service {name} targets port {target}, which {workload['metadata']['name']} does not declare")
        elif kind == "PodDisruptionBudget":
            selected(o["spec"]["selector"].get("matchLabels"), f"PodDisruptionBudget {name}")
        elif kind == "HorizontalPodAutoscaler":
            ref = o["spec"]["scaleTargetRef"]
            if (ref["kind"], ref["name"]) not in names:
                problems.append(f"HorizontalPodAutoscaler {name} scales {ref['kind']} {ref['name']}, which does not exist")
    for d in deployments:
        spec = d["spec"]["template"]["spec"]
        for c in spec.get("initContainers", []) + spec["containers"]:
            declared = {p["containerPort"] for p in c.get("ports", [])} | {p["name"] for p in c.get("ports", []) if "name" in p}
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                for how in ("httpGet", "tcpSocket", "grpc"):
                    port = c.get(probe, {}).get(how, {}).get("port")
                    if port is not None and port not in declared:
                        problems.append(f"{d['metadata']['name']}/{c['name']}: {probe} uses port {port}, not declared")
            for source in c.get("envFrom", []):
                for ref_kind, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                    if ref_kind in source:
                        ref = source[ref_kind]["name"]
                        if (kind, ref) not in names and ref not in external:
                            problems.append(f"{d['metadata']['name']}/{c['name']} reads {kind} {ref}, which the overlay does not have")
    for p in problems:
        print(p, file=sys.stderr)
    sys.exit(1 if problems else 0)


main()
