/** Kubernetes resource quantities as numbers, precise enough to compare requests with limits. */

const SUFFIXES: Readonly<Record<string, number>> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const SHAPE = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|([a-zA-Z]*))$/;

/** The value of a quantity such as `500m`, `2Gi`, `1e3` or `4`; undefined when malformed. */
export function parseQuantity(quantity: string | number): number | undefined {
  if (typeof quantity === 'number') return Number.isFinite(quantity) ? quantity : undefined;
  const match = SHAPE.exec(quantity.trim());
  if (!match) return undefined;
  const [, digits = '', exponent, suffix = ''] = match;
  if (exponent !== undefined) return Number(`${digits}${exponent}`);
  const factor = SUFFIXES[suffix];
  return factor === undefined ? undefined : Number(digits) * factor;
}
