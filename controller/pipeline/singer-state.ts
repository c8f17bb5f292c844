/**
 * The last Singer STATE in a target's output (pure). Targets print the state they have
 * committed as a JSON object per line on stdout (Singer spec); some wrap it in a STATE
 * message. The last such line wins; non-JSON lines (logs on stderr) are ignored.
 */

function asState(line: string): Record<string, unknown> | undefined {
  const text = line.trim();
  if (!text.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const message = value as Record<string, unknown>;
  if (message.type === 'STATE') {
    const inner = message.value;
    return typeof inner === 'object' && inner !== null && !Array.isArray(inner)
      ? (inner as Record<string, unknown>)
      : undefined;
  }
  // Other Singer messages (RECORD, SCHEMA, ...) are not state.
  return typeof message.type === 'string' ? undefined : message;
}

/** The last state object in `log`, or undefined when it printed none. */
export function lastSingerState(log: string): Record<string, unknown> | undefined {
  const lines = log.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const state = asState(lines[i]!);
    if (state) return state;
  }
  return undefined;
}
