#!/usr/bin/env bash
# The production overlay's Deployments run as pods with `podman kube play` on this machine, with
# the overlay's ConfigMap, probes and securityContext; the Secrets' keys given from generated
# values (deploy/containers/kube-local.py says what changes for one host without a cluster, and
# why). Each pod must pass its own startup, readiness and liveness probes — run here as the
# kubelet would, since podman 4.3 runs none of them but an httpGet liveness probe — and run as
# the manifests say: user 65532, read-only root, no capabilities, no new privileges. Then the
# pods and databases are removed. What needs a cluster is listed in docs/operations.md.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PYTHON="$ROOT/.run/python/bin/python"
WORK="$ROOT/.run/containers/kube"
SERVICES=(auth identity capture validation publication statistics)

log() { printf '[kube] %s\n' "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

"$ROOT/deploy/local-infra.sh" up >/dev/null
[ -x "$PYTHON" ] || "$ROOT/deploy/python-deps.sh" >/dev/null
for port in 9051 9052 9053 9054 9055 9056 50051 50052 50053 50054 50055 50056 8080 8081 8082; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    fail "port $port is in use (is 'make run' up?): the pods use the services' own ports on the host's network"
  fi
done
mkdir -p "$WORK"
databases() {
  for s in "${SERVICES[@]}"; do
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS conoceles_kube_$s WITH (FORCE)" >/dev/null 2>&1 || true
    [ "$1" = create ] && psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE conoceles_kube_$s" >/dev/null
  done
  return 0
}
cleanup() {
  podman kube down "$WORK/play.yaml" >/dev/null 2>&1 || true
  databases drop
}
trap cleanup EXIT
databases create

"$PYTHON" "$ROOT/deploy/render-k8s.py" "$ROOT/k8s/overlays/production" |
  "$PYTHON" "$ROOT/deploy/containers/kube-local.py" "$WORK/init-containers.jsonl" > "$WORK/play.yaml"

log "init containers (migrate), with the pods' securityContext"
"$PYTHON" - "$WORK/init-containers.jsonl" <<'PY'
import json, subprocess, sys
for line in open(sys.argv[1]):
    init = json.loads(line)
    env = [a for k, v in init["env"].items() for a in ("-e", f"{k}={v}")]
    subprocess.run(["podman", "run", "--rm", "--network", "host", "--read-only", "--cap-drop=ALL",
                    "--security-opt=no-new-privileges", "--user", "65532:65532", *env,
                    init["image"], *init["args"]], check=True, stdout=subprocess.DEVNULL)
PY

log "podman kube play (production overlay: ConfigMap and the six Deployments)"
podman kube play --network host "$WORK/play.yaml" >/dev/null 2>"$WORK/play.log" || { cat "$WORK/play.log" >&2; fail "kube play"; }

"$PYTHON" - "$WORK/play.yaml" <<'PY'
import subprocess, sys, time, urllib.request
import grpc, yaml

def probe_ok(probe):
    if "httpGet" in probe:
        get = probe["httpGet"]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{get['port']}{get['path']}", timeout=probe.get("timeoutSeconds", 1)) as r:
                return 200 <= r.status < 400
        except Exception:
            return False
    if "grpc" in probe:
        check = grpc.insecure_channel(f"127.0.0.1:{probe['grpc']['port']}").unary_unary(
            "/grpc.health.v1.Health/Check", request_serializer=lambda b: b, response_deserializer=lambda b: b)
        try:
            return check(b"", timeout=probe.get("timeoutSeconds", 1)) == b"\x08\x01"
        except grpc.RpcError:
            return False
    raise SystemExit(f"a probe of a kind this check does not run: {probe}")

def status_of(pid):
    fields = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status") if ":" in line)
    return {k: v.strip() for k, v in fields.items()}

failed = False
for dep in yaml.safe_load_all(open(sys.argv[1])):
    if not dep or dep["kind"] != "Deployment":
        continue
    name = dep["metadata"]["name"]
    pod = dep["spec"]["template"]["spec"]
    for c in pod["containers"]:
        container = f"{name}-pod-0-{c['name']}"
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            probe = c.get(kind)
            if not probe:
                continue
            deadline = time.time() + max(60, probe.get("failureThreshold", 3) * probe.get("periodSeconds", 10))
            while not probe_ok(probe):
                if time.time() > deadline:
                    print(f"[kube] {container}: {kind} never passed", file=sys.stderr)
                    failed = True
                    break
                time.sleep(1)
        pid = subprocess.run(["podman", "inspect", "--format", "{{.State.Pid}}", container],
                             capture_output=True, text=True, check=True).stdout.strip()
        readonly = subprocess.run(["podman", "inspect", "--format", "{{.HostConfig.ReadonlyRootfs}}", container],
                                  capture_output=True, text=True, check=True).stdout.strip()
        st = status_of(pid)
        uid = st["Uid"].split()[0]
        context = f"uid {uid}, read-only root {readonly}, CapEff {st['CapEff']}, NoNewPrivs {st['NoNewPrivs']}"
        if uid != "65532" or readonly != "true" or int(st["CapEff"], 16) != 0 or st["NoNewPrivs"] != "1":
            print(f"[kube] {container}: not as the manifest says: {context}", file=sys.stderr)
            failed = True
        else:
            print(f"[kube] {container}: startup, readiness and liveness probes pass; {context}", file=sys.stderr)
sys.exit(1 if failed else 0)
PY
log "passed"
