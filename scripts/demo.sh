#!/usr/bin/env bash
# `make demo`: the DLP egress proxy in one minute, all on loopback.
# Starts a local echo API and `kube-dlp proxy` with the sample Protect
# profile, sends an allowed, a blocked and a redacted request through it
# (plus two egress denials), then shows the audit log and the metrics.
# Expects a build (the Makefile builds first); builds nothing itself.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f dist/cli/main.js ]; then
  echo "demo: dist/ is missing; run 'make build' (or 'make demo', which builds first)" >&2
  exit 2
fi

work=$(mktemp -d)
upstream_pid=""
proxy_pid=""
prometheus_pid=""
cleanup() {
  for pid in $prometheus_pid $proxy_pid $upstream_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $prometheus_pid $proxy_pid $upstream_pid; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# Wait (up to 20 s) for a line matching $2 in file $1; print it.
wait_for_line() {
  local file=$1 pattern=$2
  for _ in $(seq 1 200); do
    if grep -q "$pattern" "$file" 2>/dev/null; then grep -m1 "$pattern" "$file"; return 0; fi
    sleep 0.1
  done
  echo "demo: timed out waiting for '$pattern' in $file" >&2
  cat "$file" >&2 || true
  return 1
}
port_of() { grep -o "\"$1\":{[^}]*\"port\":[0-9]*" | grep -o '[0-9]*$'; }

section() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

node scripts/demo-tls-setup.js "$work"
DEMO_TLS_CERT="$work/upstream.crt" DEMO_TLS_KEY="$work/upstream.key" node scripts/demo-upstream.js >"$work/upstream.out" 2>&1 &
upstream_pid=$!
upstream_line=$(wait_for_line "$work/upstream.out" '"port"')
upstream_port=$(echo "$upstream_line" | grep -o '"port":[0-9]*' | grep -o '[0-9]*')
upstream_tls_port=$(echo "$upstream_line" | grep -o '"tlsPort":[0-9]*' | grep -o '[0-9]*')
api="http://127.0.0.1:${upstream_port}"

POD_NAME=demo-checkout-7d9f POD_NAMESPACE=payments KUBEDLP_TENANT=acme \
  node bin/kube-dlp.js proxy \
  --profile config/samples/securityprofile-protect.yaml \
  --listen 127.0.0.1:0 --admin 127.0.0.1:0 \
  --intercept-ca-dir "$work/ca" --upstream-ca-file "$work/upstream-ca.pem" \
  --audit-log "$work/audit.log" 2>"$work/proxy.log" &
proxy_pid=$!
listening=$(wait_for_line "$work/proxy.log" '"proxy listening"')
proxy_port=$(echo "$listening" | port_of listen)
admin_port=$(echo "$listening" | port_of admin)
proxy="http://127.0.0.1:${proxy_port}"

section "kube-dlp proxy on 127.0.0.1:${proxy_port} (admin :${admin_port}), profile config/samples/securityprofile-protect.yaml"
echo "upstream demo API on ${api}; every request below goes through the proxy: curl -x ${proxy}"

send() { # title, then curl arguments
  local title=$1; shift
  section "$title"
  local out
  out=$(curl -sS -x "$proxy" -w '\n%{http_code}' "$@" || true)
  echo "HTTP $(tail -n1 <<<"$out")"
  sed '$d' <<<"$out"
}

send "1. allowed: an ordinary order" \
  -H 'content-type: application/json' --data '{"order":42,"amount":"19.99"}' "${api}/v1/orders"
send "2. blocked: a card number in the body (403, upstream never sees it)" \
  -H 'content-type: application/json' --data '{"customer":"c-981","card":"4111 1111 1111 1111","exp":"12/29"}' "${api}/v1/export"
send "3. redacted: email and SSN masked before they leave (the API echoes what it got)" \
  -H 'content-type: application/json' --data '{"ticket":"T-77","contact":"jane.doe@acme-corp.io","ssn":"536-22-8846"}' "${api}/v1/tickets"
send "4. denied destination: pastebin.com is on the profile's deny list" \
  --data 'dump' "http://pastebin.com/api/api_post.php"

section "5. HTTPS exfiltration blocked: the proxy decrypts it with a leaf from the tenant CA, which curl trusts (CURL_CA_BUNDLE)"
out=$(CURL_CA_BUNDLE="$work/ca/tls.crt" curl -sS -x "$proxy" -w '\n%{http_code}' -H 'content-type: application/json' \
  --data '{"customer":"c-981","card":"4111 1111 1111 1111"}' "https://localhost:${upstream_tls_port}/v1/export" || true)
echo "HTTP $(tail -n1 <<<"$out")"
sed '$d' <<<"$out"

section "6. a client that does not trust the tenant CA fails its handshake, and the proxy counts and audits it"
CURL_CA_BUNDLE="$work/upstream-ca.pem" curl -sS -o /dev/null -x "$proxy" "https://localhost:${upstream_tls_port}/v1/orders" 2>&1 | head -n1 || true

sleep 0.5 # the refusal above is audited when the proxy sees the connection close
section "audit log (JSON lines; evidence is masked, query values dropped)"
cat "$work/audit.log"

section "metrics (curl http://127.0.0.1:${admin_port}/metrics | grep kubedlp_)"
curl -sS "http://127.0.0.1:${admin_port}/metrics" \
  | grep -E '^kubedlp_(proxy_requests_total|findings_total|blocked_bytes_total|scan_bytes_total|config_info|engine_info|bad_requests_total|tls_connections_total)' \
  | grep -v ' 0$' || true

# --- Monitor -> suggest -> Protect, and the compliance report ---------------
# What the sidecar observed (GET /observed: destinations and counts, no
# values) becomes a ready-to-apply profile; a Prometheus scraping the same
# admin port feeds `kube-dlp report`. Both land in $demo_out.
demo_out=${KDLP_DEMO_OUT:-dist/demo}
mkdir -p "$demo_out"

section "7. what the sidecar observed (curl http://127.0.0.1:${admin_port}/observed; values are never kept)"
curl -sS "http://127.0.0.1:${admin_port}/observed" | node -e '
  const s = JSON.parse(require("fs").readFileSync(0, "utf8"));
  for (const d of s.destinations) console.log(`${d.scheme}://${d.host}:${d.port}  ${d.requests} req  ${JSON.stringify(d.decisions)}  ${d.detectors.map((x) => x.detector + " x" + x.count).join(", ")}`);'

section "8. suggested profile for this traffic: kube-dlp profile suggest --from http://127.0.0.1:${admin_port} (saved to $demo_out/suggested-profile.yaml)"
node bin/kube-dlp.js profile suggest --from "http://127.0.0.1:${admin_port}" --name demo-learned | tee "$demo_out/suggested-profile.yaml"

section "9. compliance report: kube-dlp report --prometheus ... --format html (saved to $demo_out/report.html)"
if command -v prometheus >/dev/null; then
  prometheus_port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  printf '%s\n' \
    'global: { scrape_interval: 1s, scrape_timeout: 1s }' \
    'scrape_configs:' \
    '  - job_name: kube-dlp-sidecars' \
    '    static_configs:' \
    "      - targets: [\"127.0.0.1:${admin_port}\"]" \
    '        labels: { namespace: payments, pod: demo-checkout-7d9f }' >"$work/prometheus.yml"
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus" \
    --web.listen-address="127.0.0.1:${prometheus_port}" --log.level=error >"$work/prometheus.log" 2>&1 &
  prometheus_pid=$!
  prom="http://127.0.0.1:${prometheus_port}"
  # A few scrapes, so the report has a window to look at.
  for _ in $(seq 1 100); do
    if curl -sf "$prom/api/v1/query?query=count(kubedlp_proxy_requests_total)" | grep -q '"value"'; then break; fi
    sleep 0.2
  done
  sleep 3
  node bin/kube-dlp.js report --prometheus "$prom" --since 10m --format html --output "$demo_out/report.html"
  node bin/kube-dlp.js report --prometheus "$prom" --since 10m --format json --output "$demo_out/report.json"
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const n of r.namespaces) console.log(`${n.namespace}: ${n.requests} requests, decisions ${JSON.stringify(n.decisions)}, findings ${n.findings.map((f) => f.detector + "/" + f.action + " x" + f.count).join(", ")}`);' "$demo_out/report.json"
  echo "open $demo_out/report.html (inline SVG charts); add --format pdf for a PDF (headless Chromium)"
else
  echo "prometheus is not installed (scripts/ensure-deps.sh installs it): report skipped"
fi

section "stopping (SIGTERM: the proxy drains in-flight requests, then exits)"
