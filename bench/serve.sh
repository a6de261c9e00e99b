# Sourced by the bench scripts: serve_export SPEC starts `faultdisk serve` with one export on free
# loopback ports, waits until it serves, and stops it when the script exits. Needs $faultdisk and
# $out (a scratch directory); sets $nbd and $qmp (the ports) and $server (its pid).
# free_ports N prints N loopback TCP ports free at the time, on one line.
free_ports() {
  python3 -c '
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])' "$1"
}
# await_port PORT: returns once something accepts on 127.0.0.1:PORT, or fails after 20 s.
await_port() {
  for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}
serve_export() {
  read -r nbd qmp < <(free_ports 2)
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
