#!/usr/bin/env python3
"""Checks, without a cluster, the production platform's objects (k8s/overlays/production/platform),
which the Kubernetes API schemas alone cannot: most are operators' custom resources.

- the Kubernetes API's own kinds are written to --core-output, for kubernetes-validate;
- every other object is of an operator's API this project documents (docs/operations.md §1.3),
  with the fields that operator needs to act on it;
- every metric an alert's expression names is one the services export (a literal in their
  sources; histograms also as _bucket, _sum, _count) or one of the cluster's own exporters;
- every PodMonitor of the services' namespace selects the pods of a service Deployment of the
  production overlay and scrapes a port its containers name;
- every HTTPRoute sends traffic to a Service of the production overlay, on a port it has.

    python3 deploy/k8s-operators.py platform.yaml --services production.yaml \\
        --sources crates services --core-output platform.core.yaml
"""
import argparse
import pathlib
import re
import sys

import yaml

# The operators' kinds the platform may use, by apiVersion, with the spec fields each needs
# (`a|b`: either).
OPERATOR_KINDS = {
    ("postgresql.cnpg.io/v1", "Cluster"): ["instances", "storage"],
    ("postgresql.cnpg.io/v1", "ScheduledBackup"): ["schedule", "cluster"],
    ("postgresql.cnpg.io/v1", "Database"): ["name", "owner", "cluster"],
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): ["replicas"],
    ("rabbitmq.com/v1beta1", "User"): ["rabbitmqClusterReference"],
    ("rabbitmq.com/v1beta1", "Permission"): ["vhost", "user|userReference", "permissions", "rabbitmqClusterReference"],
    ("gateway.networking.k8s.io/v1", "Gateway"): ["gatewayClassName", "listeners"],
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): ["parentRefs", "rules"],
    ("cert-manager.io/v1", "ClusterIssuer"): [],
    ("cert-manager.io/v1", "Issuer"): [],
    ("cert-manager.io/v1", "Certificate"): ["secretName", "issuerRef"],
    ("trust.cert-manager.io/v1alpha1", "Bundle"): ["sources", "target"],
    ("monitoring.coreos.com/v1", "PrometheusRule"): ["groups"],
    ("monitoring.coreos.com/v1", "PodMonitor"): ["selector", "podMetricsEndpoints"],
    ("external-secrets.io/v1", "ExternalSecret"): ["secretStoreRef", "target"],
    ("external-secrets.io/v1", "SecretStore"): ["provider"],
    ("external-secrets.io/v1", "ClusterSecretStore"): ["provider"],
}

# Series of the cluster's exporters (kube-state-metrics, cAdvisor, Prometheus itself, the
# operators' own exporters), not of the services.
EXTERNAL_PREFIXES = ("kube_", "container_", "up", "cnpg_", "rabbitmq_", "redis_", "pgbouncer_",
                     "certmanager_", "node_", "ALERTS")

# Words of PromQL that look like metric names.
PROMQL_WORDS = {
    "sum", "max", "min", "avg", "count", "rate", "irate", "increase", "histogram_quantile", "by",
    "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
    "abs", "absent", "clamp_min", "clamp_max", "time", "delta", "deriv", "offset", "topk",
    "bottomk", "avg_over_time", "max_over_time", "min_over_time", "sum_over_time", "label_replace",
    "vector", "scalar", "le", "quantile", "predict_linear",
}


def matches(selector, labels):
    return all(labels.get(k) == v for k, v in (selector or {}).items())


def of_kubernetes(o):
    """Whether an object is of the Kubernetes API itself (v1, apps/v1, networking.k8s.io/v1...);
    the Gateway API's group ends in .k8s.io too but is installed as CRDs."""
    group = o["apiVersion"].split("/")[0] if "/" in o["apiVersion"] else ""
    return group == "" or "." not in group or (group.endswith(".k8s.io") and group != "gateway.networking.k8s.io")


def exported_names(roots):
    """Every string literal of the services' Rust sources that looks like a metric name."""
    names = set()
    for root in roots:
        for path in pathlib.Path(root).rglob("*.rs"):
            names.update(re.findall(r'"([a-z][a-z0-9_]*)"', path.read_text(encoding="utf-8")))
    return names


def metrics_of(expr):
    """The series an expression selects: identifiers followed by `{`, `[`, or standing alone,
    outside label matchers and strings."""
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    without_matchers = re.sub(r"\{[^}]*\}", "{}", without_strings)
    without_ranges = re.sub(r"\[[^\]]*\]", "[]", without_matchers)
    without_groupings = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", without_ranges)
    names = set()
    for match in re.finditer(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", without_groupings):
        word = match.group(1)
        if word in PROMQL_WORDS or re.fullmatch(r"\d.*|e", word):
            continue
        names.add(word)
    return names


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("rendered", help="the rendered platform")
    parser.add_argument("--services", required=True, help="the rendered production overlay")
    parser.add_argument("--sources", nargs="+", required=True, help="directories of the services' Rust sources")
    parser.add_argument("--core-output", required=True, help="where to write the Kubernetes API's own objects")
    args = parser.parse_args()

    objects = [o for o in yaml.safe_load_all(open(args.rendered)) if o]
    services = [o for o in yaml.safe_load_all(open(args.services)) if o]
    exported = exported_names(args.sources)
    problems = []

    core = [o for o in objects if of_kubernetes(o)]
    operators = [o for o in objects if not of_kubernetes(o)]
    with open(args.core_output, "w") as out:
        yaml.safe_dump_all(core, out, sort_keys=False)

    for o in operators:
        key = (o["apiVersion"], o["kind"])
        where = f"{o['kind']} {o['metadata'].get('namespace', '')}/{o['metadata']['name']}"
        if key not in OPERATOR_KINDS:
            problems.append(f"{where}: {o['apiVersion']} {o['kind']} is not an operator API the platform documents")
            continue
        spec = o.get("spec") or {}
        for field in OPERATOR_KINDS[key]:
            if not any(f in spec for f in field.split("|")):
                problems.append(f"{where}: spec.{field} is missing")

    # Alerts name series that exist.
    for rule_set in (o for o in operators if o["kind"] == "PrometheusRule"):
        for group in rule_set["spec"]["groups"]:
            for rule in group.get("rules", []):
                for name in sorted(metrics_of(str(rule.get("expr", "")))):
                    base = re.sub(r"_(bucket|sum|count)$", "", name)
                    if name in exported or base in exported or name.startswith(EXTERNAL_PREFIXES):
                        continue
                    problems.append(f"alert {rule.get('alert')}: no service exports the series {name}")

    # PodMonitors of the services' namespace scrape a named port of a service's pods (those of
    # other namespaces watch pods an operator makes).
    deployments = [o for o in services if o["kind"] == "Deployment"]
    namespaces = {d["metadata"].get("namespace") for d in deployments}
    for monitor in (o for o in operators if o["kind"] == "PodMonitor" and o["metadata"].get("namespace") in namespaces):
        selector = monitor["spec"]["selector"].get("matchLabels", {})
        found = [d for d in deployments if matches(selector, d["spec"]["template"]["metadata"].get("labels", {}))]
        if len(found) != 1:
            problems.append(f"PodMonitor {monitor['metadata']['name']}: selects {len(found)} Deployments of the production overlay")
            continue
        ports = {p.get("name") for c in found[0]["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
        for endpoint in monitor["spec"]["podMetricsEndpoints"]:
            if endpoint.get("port") not in ports:
                problems.append(f"PodMonitor {monitor['metadata']['name']}: the pods name no port {endpoint.get('port')!r}")

    # Routes lead to Services that exist, on their ports.
    service_ports = {(o["metadata"]["name"], o["metadata"].get("namespace")): {p["port"] for p in o["spec"].get("ports", [])}
                     for o in services + core if o["kind"] == "Service"}
    for route in (o for o in operators if o["kind"] == "HTTPRoute"):
        for rule in route["spec"]["rules"]:
            for ref in rule.get("backendRefs", []):
                if ref.get("kind", "Service") != "Service":
                    continue
                namespace = ref.get("namespace", route["metadata"].get("namespace"))
                ports = service_ports.get((ref["name"], namespace))
                if ports is None:
                    problems.append(f"HTTPRoute {route['metadata']['name']}: no Service {namespace}/{ref['name']}")
                elif ref.get("port") not in ports:
                    problems.append(f"HTTPRoute {route['metadata']['name']}: Service {ref['name']} has no port {ref.get('port')}")

    for p in problems:
        print(f"  {p}", file=sys.stderr)
    if problems:
        sys.exit(1)
    kinds = sorted({o["kind"] for o in operators})
    print(f"{len(operators)} operator objects ({', '.join(kinds)}); {len(core)} of the Kubernetes API")


if __name__ == "__main__":
    main()
