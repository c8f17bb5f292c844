/**
 * Where a tap step's catalog comes from (pure), by what the step asks for and what its plugin
 * declares. Capabilities the plugin does not declare are never used: no `--discover` without
 * `discover`, no catalog file without `catalog` or `properties`.
 */
import type { CatalogConfigMapRef, CatalogRules, FlexPlugin, Step } from '../../api/v1alpha1/index.js';
import { effectiveProtocol } from '../../api/v1alpha1/index.js';
import { catalogKey } from '../catalog/catalog-key.js';
import { mergeCatalogRules } from '../catalog/catalog-rules.js';

export type CatalogFlag = '--catalog' | '--properties';

export type CatalogNeed =
  /** The step runs without a catalog file (not a Singer tap, or a tap that takes none). */
  | { readonly kind: 'none' }
  /** A whole catalog from a ConfigMap; the rules the step and plugin give apply over it. */
  | {
      readonly kind: 'configMap';
      readonly ref: CatalogConfigMapRef;
      readonly flag: CatalogFlag;
      readonly rules: CatalogRules;
    }
  /** The tap's own --discover output, cached by `key`; the rules apply over it. */
  | {
      readonly kind: 'discover';
      readonly key: string;
      readonly flag: CatalogFlag;
      readonly rules: CatalogRules;
    }
  /** The step cannot run as written: a status reason and a message for humans. */
  | { readonly kind: 'problem'; readonly reason: string; readonly message: string };

function hasRules(rules: CatalogRules): boolean {
  return (
    rules.select !== undefined ||
    Object.keys(rules.metadata ?? {}).length > 0 ||
    Object.keys(rules.schema ?? {}).length > 0
  );
}

/** The flag that passes a catalog to `plugin`, or undefined when it declares neither capability. */
function catalogFlag(plugin: FlexPlugin): CatalogFlag | undefined {
  const caps = plugin.spec.capabilities ?? [];
  if (caps.includes('catalog')) return '--catalog';
  if (caps.includes('properties')) return '--properties';
  return undefined;
}

/** What the step's tap needs for its catalog. */
export function catalogNeed(step: Step, plugin: FlexPlugin): CatalogNeed {
  if (plugin.spec.type !== 'tap' || effectiveProtocol(plugin.spec) !== 'singer') {
    if (step.catalog === undefined) return { kind: 'none' };
    const message = `step ${step.name}: catalog is only for Singer taps; ${plugin.metadata.name} is not one`;
    return { kind: 'problem', reason: 'CatalogUnsupported', message };
  }
  const name = plugin.metadata.name ?? '';
  const flag = catalogFlag(plugin);
  const ref = step.catalog?.configMapRef;
  const rules = mergeCatalogRules(plugin.spec.catalog, step.catalog);
  if (!flag) {
    if (ref === undefined && !hasRules(rules)) return { kind: 'none' };
    const message = `step ${step.name}: tap ${name} declares neither the catalog nor the properties capability, so it cannot be given a catalog`;
    return { kind: 'problem', reason: 'CatalogUnsupported', message };
  }
  if (ref) return { kind: 'configMap', ref, flag, rules };
  if (!(plugin.spec.capabilities ?? []).includes('discover')) {
    const message = `step ${step.name}: tap ${name} takes a catalog (${flag}) but does not declare the discover capability; give the step a catalog from a ConfigMap (catalog.configMapRef)`;
    return { kind: 'problem', reason: 'DiscoveryUnsupported', message };
  }
  if ((plugin.spec.command ?? []).length === 0) {
    const message = `step ${step.name}: tap ${name} has no command; discovery runs it behind a wrapper that must know what to run`;
    return { kind: 'problem', reason: 'CommandRequired', message };
  }
  return { kind: 'discover', key: catalogKey(plugin, step), flag, rules };
}
