#!/usr/bin/env python3
"""Renders a kustomization under k8s/ the way `kustomize build` does, without kustomize.

    python3 deploy/render-k8s.py k8s/overlays/production > production.yaml
    python3 deploy/render-k8s.py k8s/overlays/dev --compare dev-from-kustomize.yaml

kustomize is a Go binary that no Python package ships, and the lint must run offline on a
machine with nothing but Python. This script implements exactly the part of kustomize that the
kustomizations of k8s/ use, and refuses anything else, so they stay simple enough for it and
valid for the real kustomize (`kubectl kustomize` gives the same objects; deploy/lint-ops.sh
checks that whenever kubectl or kustomize is installed):

- `resources`: YAML files (several documents each) and directories holding a kustomization;
- `namespace`: set on every namespaced object;
- `labels`: `pairs` added to every object's labels, and to pod templates (and a StatefulSet's
  volume claim templates) with `includeTemplates: true` (`includeSelectors` is not supported);
- `replicas`: `name` and `count`, for Deployments and StatefulSets;
- `images`: `name` with `newName`, `newTag` and/or `digest`;
- `patches`: `path` to strategic-merge patches naming their target by kind and name (several
  documents per file), including `$patch: delete` of a whole object. Lists merge by key for
  containers, initContainers, env, volumes, volumeMounts and ports; other lists are replaced.

The objects come out in kustomize's default ("legacy") order. Needs PyYAML.
"""

import argparse
import copy
import os
import sys

import yaml

SUPPORTED_FIELDS = {"apiVersion", "kind", "namespace", "labels", "resources", "replicas", "images", "patches"}
CLUSTER_SCOPED = {
    "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume",
    "StorageClass", "PriorityClass", "IngressClass", "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration", "APIService",
}
WORKLOADS_WITH_TEMPLATE = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"}
SCALABLE = {"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"}
# kustomize's legacy output order: these kinds first, in this order; then every other kind by
# name; then these last.
ORDER_FIRST = [
    "Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition", "ServiceAccount",
    "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ConfigMap",
    "Secret", "Endpoints", "Service", "LimitRange", "PriorityClass", "PersistentVolume",
    "PersistentVolumeClaim", "Deployment", "StatefulSet", "CronJob", "PodDisruptionBudget",
]
ORDER_LAST = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]
# Strategic-merge keys of the lists our patches touch.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "ports": ("containerPort", "port"),
}


class RenderError(Exception):
    pass


def load_documents(path):
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    for d in docs:
        if not isinstance(d, dict) or "kind" not in d or "metadata" not in d:
            raise RenderError(f"{path}: every document must be a Kubernetes object with kind and metadata")
    return docs


def find_kustomization(directory):
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    raise RenderError(f"{directory}: no kustomization.yaml")


def object_id(obj):
    meta = obj.get("metadata", {})
    return (obj.get("kind"), meta.get("namespace"), meta.get("name"))


def describe(obj):
    kind, namespace, name = object_id(obj)
    return f"{kind}/{name}" + (f" in {namespace}" if namespace else "")


def build(directory):
    path = find_kustomization(directory)
    with open(path, encoding="utf-8") as f:
        k = yaml.safe_load(f) or {}
    unsupported = set(k) - SUPPORTED_FIELDS
    if unsupported:
        raise RenderError(f"{path}: fields this renderer does not implement: {', '.join(sorted(unsupported))}")
    if k.get("kind", "Kustomization") != "Kustomization":
        raise RenderError(f"{path}: only kind Kustomization is supported")

    objects = []
    for entry in k.get("resources", []):
        target = os.path.normpath(os.path.join(directory, entry))
        if os.path.isdir(target):
            objects.extend(build(target))
        elif os.path.isfile(target):
            objects.extend(load_documents(target))
        else:
            raise RenderError(f"{path}: resource {entry!r} does not exist")
    seen = set()
    for obj in objects:
        key = object_id(obj)
        if key in seen:
            raise RenderError(f"{path}: {describe(obj)} is defined twice")
        seen.add(key)

    for patch in k.get("patches", []):
        objects = apply_patch_entry(objects, patch, directory, path)
    if "namespace" in k:
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = k["namespace"]
    for spec in k.get("labels", []):
        apply_labels(objects, spec, path)
    for spec in k.get("replicas", []):
        apply_replicas(objects, spec, path)
    for spec in k.get("images", []):
        apply_image(objects, spec, path)
    return objects


def apply_patch_entry(objects, entry, directory, kpath):
    if set(entry) - {"path", "patch"} or ("path" in entry) == ("patch" in entry):
        raise RenderError(f"{kpath}: a patch needs exactly one of path or patch (targets are not supported)")
    if "path" in entry:
        patches = load_documents(os.path.join(directory, entry["path"]))
    else:
        patches = [d for d in yaml.safe_load_all(entry["patch"]) if d is not None]
    for patch in patches:
        kind = patch.get("kind")
        name = patch.get("metadata", {}).get("name")
        namespace = patch.get("metadata", {}).get("namespace")
        matches = [
            o for o in objects
            if o["kind"] == kind and o["metadata"].get("name") == name
            and (namespace is None or o["metadata"].get("namespace") == namespace)
        ]
        if len(matches) != 1:
            raise RenderError(f"{kpath}: patch of {kind}/{name} matches {len(matches)} objects, not one")
        if patch.get("$patch") == "delete":
            objects = [o for o in objects if o is not matches[0]]
        else:
            body = {key: value for key, value in patch.items() if key not in ("apiVersion", "kind")}
            strategic_merge(matches[0], body)
    return objects


def strategic_merge(base, patch):
    for key, value in patch.items():
        if key == "$patch":
            continue
        if value is None:
            base.pop(key, None)
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            strategic_merge(base[key], value)
        elif isinstance(value, list) and key in MERGE_KEYS and isinstance(base.get(key), list):
            base[key] = merge_list(base[key], value, MERGE_KEYS[key])
        else:
            base[key] = copy.deepcopy(value)


def merge_list(base, patch, keys):
    keys = keys if isinstance(keys, tuple) else (keys,)
    merged = copy.deepcopy(base)
    for item in patch:
        key = next((k for k in keys if isinstance(item, dict) and k in item), None)
        if key is None:
            raise RenderError(f"a patched list item has none of the merge keys {keys}: {item!r}")
        existing = next((m for m in merged if isinstance(m, dict) and m.get(key) == item[key]), None)
        if existing is None:
            merged.append(copy.deepcopy(item))
        elif item.get("$patch") == "delete":
            merged.remove(existing)
        else:
            strategic_merge(existing, item)
    return merged


def apply_labels(objects, spec, kpath):
    unsupported = set(spec) - {"pairs", "includeTemplates", "includeSelectors"}
    if unsupported or spec.get("includeSelectors"):
        raise RenderError(f"{kpath}: labels support only pairs and includeTemplates")
    pairs = spec.get("pairs", {})
    for obj in objects:
        obj["metadata"].setdefault("labels", {}).update(pairs)
        if spec.get("includeTemplates") and obj["kind"] in WORKLOADS_WITH_TEMPLATE:
            template = obj.get("spec", {}).get("template")
            if template is not None:
                template.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
            for claim in obj.get("spec", {}).get("volumeClaimTemplates", []):
                claim.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)


def apply_replicas(objects, spec, kpath):
    matches = [o for o in objects if o["kind"] in SCALABLE and o["metadata"].get("name") == spec["name"]]
    if not matches:
        raise RenderError(f"{kpath}: replicas for {spec['name']!r}, which is no Deployment or StatefulSet")
    for obj in matches:
        obj.setdefault("spec", {})["replicas"] = spec["count"]


def split_image(image):
    digest = None
    if "@" in image:
        image, digest = image.split("@", 1)
    tag = None
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        image, tag = image[:colon], image[colon + 1:]
    return image, tag, digest


def pod_specs(obj):
    spec = obj.get("spec", {})
    if obj["kind"] == "Pod":
        yield spec
    if "template" in spec:
        yield spec["template"].get("spec", {})
    if "jobTemplate" in spec:
        yield spec["jobTemplate"].get("spec", {}).get("template", {}).get("spec", {})


def apply_image(objects, spec, kpath):
    unsupported = set(spec) - {"name", "newName", "newTag", "digest"}
    if unsupported:
        raise RenderError(f"{kpath}: images support name, newName, newTag and digest")
    for obj in objects:
        for pod in pod_specs(obj):
            for field in ("initContainers", "containers"):
                for container in pod.get(field, []):
                    name, tag, digest = split_image(container["image"])
                    if name != spec["name"]:
                        continue
                    name = spec.get("newName", name)
                    if "digest" in spec:
                        container["image"] = f"{name}@{spec['digest']}"
                        continue
                    tag = spec.get("newTag", tag)
                    container["image"] = name + (f":{tag}" if tag else "") + (f"@{digest}" if digest and "newTag" not in spec else "")


def sort_key(obj):
    kind = obj["kind"]
    if kind in ORDER_FIRST:
        rank = (0, ORDER_FIRST.index(kind), "")
    elif kind in ORDER_LAST:
        rank = (2, ORDER_LAST.index(kind), "")
    else:
        rank = (1, 0, kind)
    meta = obj["metadata"]
    return rank + (meta.get("namespace") or "", meta.get("name") or "")


def canonical(objects):
    return {object_id(o): o for o in objects}


def compare(ours, other_path):
    with open(other_path, encoding="utf-8") as f:
        theirs = [d for d in yaml.safe_load_all(f) if d is not None]
    a, b = canonical(ours), canonical(theirs)
    problems = []
    for key in sorted(set(a) | set(b), key=lambda k: tuple(str(x) for x in k)):
        if key not in b:
            problems.append(f"only here: {key[0]}/{key[2]}")
        elif key not in a:
            problems.append(f"only in {other_path}: {key[0]}/{key[2]}")
        elif a[key] != b[key]:
            problems.append(f"differs: {key[0]}/{key[2]}")
    return problems


class Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data):
        return True


def represent_str(dumper, data):
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


Dumper.add_representer(str, represent_str)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", help="a directory holding a kustomization.yaml")
    parser.add_argument("-o", "--output", help="write here instead of standard output")
    parser.add_argument("--compare", metavar="FILE",
                        help="instead of printing, check that FILE (e.g. kubectl kustomize's output) holds the same objects")
    args = parser.parse_args()
    try:
        objects = sorted(build(args.directory), key=sort_key)
    except (RenderError, OSError, yaml.YAMLError) as e:
        print(f"render-k8s: {e}", file=sys.stderr)
        return 1
    if args.compare:
        problems = compare(objects, args.compare)
        for p in problems:
            print(f"render-k8s: {p}", file=sys.stderr)
        return 1 if problems else 0
    text = "---\n".join(
        yaml.dump(o, Dumper=Dumper, sort_keys=True, default_flow_style=False, allow_unicode=True, width=100)
        for o in objects
    )
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
