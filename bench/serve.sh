# Sourced by the bench scripts: serve_export SPEC starts `faultdisk serve` with one export on free
# loopback ports, waits until it serves, and stops it when the script exits. Needs $faultdisk and
# $out (a scratch directory); sets $nbd and $qmp (the ports) and $server (its pid).
serve_export() {
  read -r nbd qmp < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
  $faultdisk --version >/dev/null  # builds the jar if needed, before anything is timed
  $faultdisk serve --export "$@" --nbd "127.0.0.1:$nbd" --qmp "127.0.0.1:$qmp" >"$out/serve.log" 2>&1 &
  server=$!
  trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; rm -rf "$out"' EXIT
  for _ in $(seq 100); do
    grep -q '^Stop with' "$out/serve.log" && break
    sleep 0.1
  done
  grep -q '^Stop with' "$out/serve.log" || { cat "$out/serve.log"; exit 1; }
}
