/**
 * The `sh -c` wrapper of a discovery attempt. The tap's standard output goes to a file in the
 * scratch directory; when the tap exits 0 and the file is within the limit, the wrapper prints
 * a marker line and the file. Standard error is joined to standard output first, so the log is
 * strictly ordered: the tap's own log lines, the marker, the catalog. The controller reads it
 * back with controller/catalog/discovery-output.ts. Like the pair's wrappers the script is a
 * constant and the tap's command reaches it as "$@".
 */
import { discoveryEndMarker, discoveryMarker } from '../../catalog/discovery-output.js';
import { SCRATCH_DIR } from './layout.js';

/** The largest catalog a tap may print, in bytes; over it the attempt fails with CatalogTooLarge. */
export const DISCOVERY_CATALOG_LIMIT = 8 * 1024 * 1024;

/** Exit code of a discovery whose catalog is over the limit (the tap itself exited 0). */
export const CATALOG_TOO_LARGE_EXIT_CODE = 124;

export const DISCOVERY_ENV = {
  out: 'FLEXCORE_CATALOG_OUT',
  limit: 'FLEXCORE_CATALOG_LIMIT',
  marker: 'FLEXCORE_CATALOG_MARKER',
  end: 'FLEXCORE_CATALOG_END',
} as const;

/**
 * How long the wrapper stays after the end line. containerd (1.6 here) may drop what a
 * container wrote just before it exited from the log (containerd/containerd#7289): a catalog of
 * 260 KB printed at once lost its last 2 KB on a real node, every time, until the wrapper paused.
 */
export const DRAIN_SECONDS = 2;

// The tap runs in the background so the shell, PID 1, can pass on SIGTERM (PID 1 has no
// default signal actions). `wait` returns early (over 128) when the trap ran: wait again for
// the tap's own status.
export const DISCOVERY_WRAPPER = `exec 2>&1
out="$${DISCOVERY_ENV.out}"
"$@" >"$out" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT
wait "$child"
code=$?
while kill -0 "$child" 2>/dev/null; do wait "$child"; code=$?; done
[ "$code" -eq 0 ] || exit "$code"
size=$(($(wc -c <"$out")))
if [ "$size" -gt "$${DISCOVERY_ENV.limit}" ]; then
  echo "flexcore: the catalog is $size bytes, over the limit of $${DISCOVERY_ENV.limit} bytes"
  exit ${CATALOG_TOO_LARGE_EXIT_CODE}
fi
printf '%s\\n' "$${DISCOVERY_ENV.marker}"
cat "$out" || exit 1
printf '\\n%s\\n' "$${DISCOVERY_ENV.end}"
sleep ${DRAIN_SECONDS}
`;

/** The container command of a discovery attempt running `argv`. */
export function discoveryCommand(argv: readonly string[]): string[] {
  return ['/bin/sh', '-c', DISCOVERY_WRAPPER, 'flexcore-discover', ...argv];
}

/** The wrapper's environment for the discovery Pod `pod`. */
export function discoveryEnv(pod: string): { name: string; value: string }[] {
  return [
    { name: DISCOVERY_ENV.out, value: `${SCRATCH_DIR}/flexcore-catalog.json` },
    { name: DISCOVERY_ENV.limit, value: String(DISCOVERY_CATALOG_LIMIT) },
    { name: DISCOVERY_ENV.marker, value: discoveryMarker(pod) },
    { name: DISCOVERY_ENV.end, value: discoveryEndMarker(pod) },
  ];
}
