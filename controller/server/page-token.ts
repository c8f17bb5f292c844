/**
 * Opaque page tokens: the keyset position of the last item of a page, bound to the filters and
 * order it was issued for (a token replayed with other filters would skip or repeat items, so
 * it is refused). base64url of a small JSON document; nothing in it is secret.
 */
import { createHash } from 'node:crypto';
import { badRequest } from './problem.js';

interface TokenBody {
  readonly v: 1;
  /** The keyset position. */
  readonly k: readonly string[];
  /** Hash of the filters and order. */
  readonly f: string;
}

/** A short hash of what a list was asked for, less its paging parameters. */
export function filterHash(query: Record<string, unknown>): string {
  const { limit: _limit, pageToken: _token, ...rest } = query;
  const canonical = JSON.stringify(
    Object.keys(rest)
      .sort()
      .map((k) => [k, rest[k] ?? null]),
  );
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

export function encodePageToken(key: readonly string[], query: Record<string, unknown>): string {
  const body: TokenBody = { v: 1, k: key, f: filterHash(query) };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

/** The keyset position in `token`, checked against the request's filters; 400 when it does not fit. */
export function decodePageToken(token: string, query: Record<string, unknown>, size: number): string[] {
  let body: Partial<TokenBody> | undefined;
  try {
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<TokenBody>;
  } catch {
    body = undefined;
  }
  const key = body?.k;
  if (
    body?.v !== 1 ||
    !Array.isArray(key) ||
    key.length !== size ||
    !key.every((k) => typeof k === 'string')
  ) {
    throw badRequest([{ in: 'query', name: 'pageToken', reason: 'is not a page token of this list' }]);
  }
  if (body.f !== filterHash(query)) {
    throw badRequest([
      {
        in: 'query',
        name: 'pageToken',
        reason: 'was issued for other filters or order: repeat them, or start over',
      },
    ]);
  }
  return key;
}
