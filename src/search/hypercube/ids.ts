/**
 * Hypercube ids (distrisearch-architecture.md, "Topología Hipercubo"): a node's id is an
 * integer in [0, 2^d); its neighbours are the ids one bit flip away.
 */

/** Largest supported dimension: ids stay non-negative 31-bit integers, so bit operators are safe. */
export const MAX_DIMENSIONS = 30;

/** The seed's default dimension (a 4-bit cube, 16 slots). */
export const DEFAULT_DIMENSIONS = 4;

/** True when `d` is a supported dimension (an integer in [1, MAX_DIMENSIONS]). */
export function isValidDimensions(d: number): boolean {
  return Number.isInteger(d) && d >= 1 && d <= MAX_DIMENSIONS;
}

/** True when `id` is a slot of a `d`-dimensional cube. */
export function isValidId(id: number, d: number): boolean {
  return isValidDimensions(d) && Number.isInteger(id) && id >= 0 && id < 2 ** d;
}

/** Throws a RangeError when `id` is not a slot of a `d`-dimensional cube (a programmer mistake). */
export function assertValidId(id: number, d: number): void {
  if (!isValidDimensions(d))
    throw new RangeError(`dimensions must be an integer in 1..${MAX_DIMENSIONS}, got ${d}`);
  if (!isValidId(id, d)) throw new RangeError(`id ${id} is not in 0..${2 ** d - 1} (d=${d})`);
}

/** The number of slots of a `d`-dimensional cube, 2^d. */
export function slotCount(d: number): number {
  return 2 ** d;
}

/** The id as a `d`-character bit string, most significant bit first: `binaryId(2, 3) === '010'`. */
export function binaryId(id: number, d: number): string {
  assertValidId(id, d);
  return id.toString(2).padStart(d, '0');
}

/** The ids one bit flip away from `id`, bit 0 first: `neighbors(0, 3)` is `[1, 2, 4]`. */
export function neighbors(id: number, d: number): number[] {
  assertValidId(id, d);
  const result: number[] = [];
  for (let bit = 0; bit < d; bit++) result.push(id ^ (1 << bit));
  return result;
}

/** True when `a` and `b` differ in exactly one bit. */
export function areNeighbors(a: number, b: number): boolean {
  return popcount(a ^ b) === 1;
}

/** The XOR distance of the seed's routing: `a ^ b`, read as an unsigned integer. */
export function xorDistance(a: number, b: number): number {
  return (a ^ b) >>> 0;
}

/** The number of set bits; `popcount(a ^ b)` is the hop distance of `a` and `b` on a full cube. */
export function popcount(value: number): number {
  let v = value >>> 0;
  let count = 0;
  while (v !== 0) {
    v &= v - 1;
    count++;
  }
  return count;
}

/** The index of the most significant bit where `a` and `b` differ, or -1 when they are equal. */
export function highestDifferingBit(a: number, b: number): number {
  const diff = xorDistance(a, b);
  return diff === 0 ? -1 : 31 - Math.clz32(diff);
}
