/**
 * What a discovery attempt printed (pure). The discovery wrapper (render/discovery-wrapper.ts)
 * sends the tap's stderr and stdout through one stream, in order: first the tap's own log
 * lines, then a marker line, then the catalog the tap wrote. The marker is unique per
 * attempt, so no catalog text can be mistaken for it.
 */
import { createHash } from 'node:crypto';
import { CatalogInvalidError, parseCatalog, type SingerCatalog } from './singer-catalog.js';

/** The line that separates the tap's log from its catalog in a discovery Pod's log. */
export function discoveryMarker(pod: string): string {
  return `--- flexcore: catalog of ${pod} follows ---`;
}

/** The line after the catalog: without it the log was not read (or not written) in full. */
export function discoveryEndMarker(pod: string): string {
  return `--- flexcore: end of the catalog of ${pod} ---`;
}

export type DiscoveryOutput =
  | {
      readonly ok: true;
      /** The tap's log before the catalog (kept like any log tail). */
      readonly log: string;
      readonly catalog: SingerCatalog;
      /** The catalog as compact JSON, and its SHA-256: what the store keeps. */
      readonly text: string;
      readonly digest: string;
    }
  | {
      readonly ok: false;
      readonly log: string;
      readonly reason: 'CatalogMissing' | 'CatalogIncomplete' | 'CatalogInvalid';
      readonly message: string;
    };

/** SHA-256 of catalog text, hex: the catalog's identity in the store. */
export function catalogDigest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Splits a discovery log at its marker and parses the catalog after it. */
export function readDiscoveryOutput(logText: string, pod: string): DiscoveryOutput {
  const marker = `${discoveryMarker(pod)}\n`;
  const at = logText.lastIndexOf(marker);
  if (at < 0) {
    const message =
      'the discovery log has no catalog: the tap exited 0 without one, or the log could not be read in full';
    return { ok: false, log: logText, reason: 'CatalogMissing', message };
  }
  const log = logText.slice(0, at);
  const end = logText.indexOf(`\n${discoveryEndMarker(pod)}\n`, at);
  if (end < 0) {
    const message =
      'the discovery log ends before the catalog does: it was over the read limit, or the container runtime lost its end';
    return { ok: false, log, reason: 'CatalogIncomplete', message };
  }
  try {
    const catalog = parseCatalog(logText.slice(at + marker.length, end));
    const text = JSON.stringify(catalog);
    return { ok: true, log, catalog, text, digest: catalogDigest(text) };
  } catch (err) {
    if (!(err instanceof CatalogInvalidError)) throw err;
    return {
      ok: false,
      log,
      reason: 'CatalogInvalid',
      message: `the tap's --discover output: ${err.message}`,
    };
  }
}
