/**
 * Kubernetes label selectors in their string form, as `kubectl -l` takes them:
 * `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, joined by commas.
 */

export type Requirement =
  | { readonly key: string; readonly op: 'in' | 'notin'; readonly values: readonly string[] }
  | { readonly key: string; readonly op: 'exists' | 'absent' };

export class LabelSelectorError extends Error {
  override name = 'LabelSelectorError';
}

const KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

function key(text: string): string {
  const k = text.trim();
  if (!KEY.test(k) || k.length > 317) throw new LabelSelectorError(`"${k}" is not a label key`);
  return k;
}

function value(text: string): string {
  const v = text.trim();
  if (!VALUE.test(v)) throw new LabelSelectorError(`"${v}" is not a label value`);
  return v;
}

/** Splits on commas outside parentheses. */
function terms(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(selector.slice(start, i));
      start = i + 1;
    }
    if (depth < 0 || depth > 1) throw new LabelSelectorError('unbalanced parentheses');
  }
  if (depth !== 0) throw new LabelSelectorError('unbalanced parentheses');
  out.push(selector.slice(start));
  return out.map((t) => t.trim());
}

function requirement(term: string): Requirement {
  if (term === '') throw new LabelSelectorError('empty requirement');
  const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(term);
  if (set) {
    const values = set[3]!.split(',').map(value);
    return { key: key(set[1]!), op: set[2] as 'in' | 'notin', values };
  }
  const cmp = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
  if (cmp) return { key: key(cmp[1]!), op: cmp[2] === '!=' ? 'notin' : 'in', values: [value(cmp[3]!)] };
  if (term.startsWith('!')) return { key: key(term.slice(1)), op: 'absent' };
  return { key: key(term), op: 'exists' };
}

/** Parses a selector; the empty string selects everything. Throws LabelSelectorError. */
export function parseLabelSelector(selector: string): Requirement[] {
  if (selector.trim() === '') return [];
  return terms(selector).map(requirement);
}

/** Whether `labels` satisfy every requirement. */
export function matchesLabels(
  requirements: readonly Requirement[],
  labels: Readonly<Record<string, string>> = {},
): boolean {
  return requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'absent':
        return !has;
      case 'in':
        return has && r.values.includes(labels[r.key]!);
      case 'notin':
        return !has || !r.values.includes(labels[r.key]!);
    }
  });
}
