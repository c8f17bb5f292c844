/**
 * Python's fnmatch, which Meltano matches select, metadata and schema patterns with: `*` any
 * run of characters (dots included), `?` one character, `[abc]`/`[a-z]` a set, `[!abc]` its
 * complement; an unclosed `[` is a literal. Case-sensitive, as fnmatch is on Linux.
 */

const SPECIAL = /[\\^$.|+(){}]/g;

/** A character as a class member: `\\`, `]`, `^` and `-` are escaped, so none is special there. */
const member = (c: string): string => c.replace(/[\\\]^-]/, '\\$&');

function setClass(body: string): string {
  const negate = body.startsWith('!');
  const chars = negate ? body.slice(1) : body;
  // `x-y` is a range; like fnmatch, a reversed one (`z-a`) is dropped rather than an error, and a
  // `-` first or last is a member.
  let members = '';
  for (let k = 0; k < chars.length; k++) {
    const c = chars[k]!;
    if (chars[k + 1] === '-' && k + 2 < chars.length) {
      const end = chars[k + 2]!;
      if (c <= end) members += `${member(c)}-${member(end)}`;
      k += 2;
    } else members += member(c);
  }
  // fnmatch: an empty set never matches, a negated empty set matches any one character.
  if (members === '') return negate ? '.' : '(?!)';
  return `[${negate ? '^' : ''}${members}]`;
}

/** The regular-expression source of one glob, anchored at both ends. */
export function globSource(glob: string): string {
  let out = '';
  let i = 0;
  while (i < glob.length) {
    const c = glob[i]!;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      let j = i + 1;
      if (glob[j] === '!') j++;
      if (glob[j] === ']') j++;
      while (j < glob.length && glob[j] !== ']') j++;
      if (j >= glob.length) out += '\\[';
      else {
        out += setClass(glob.slice(i + 1, j));
        i = j;
      }
    } else out += c.replace(SPECIAL, '\\$&').replace(/[[\]*?]/g, '\\$&');
    i++;
  }
  return `^${out}$`;
}

const cache = new Map<string, RegExp>();

/** True when `value` matches `glob` as a whole (the `s` flag: `*` crosses newlines too). */
export function globMatch(value: string, glob: string): boolean {
  let re = cache.get(glob);
  if (!re) {
    re = new RegExp(globSource(glob), 's');
    if (cache.size > 4096) cache.clear();
    cache.set(glob, re);
  }
  return re.test(value);
}
