/**
 * The `Range` request header of chunk reads (RFC 9110 §14.1.2), restricted to what a chunk
 * read needs: one range of bytes. Pure.
 */

/** A `Range` header, parsed (RFC 9110 §14.1.2; one range of bytes only). */
export type ByteRange =
  | { readonly kind: 'none' }
  | { readonly kind: 'from'; readonly start: number; readonly end?: number }
  | { readonly kind: 'suffix'; readonly length: number }
  | { readonly kind: 'invalid'; readonly reason: string };

/** Parses `bytes=a-b`, `bytes=a-` or `bytes=-n`; anything else is `invalid`. */
export function parseRangeHeader(header: string | undefined): ByteRange {
  if (header === undefined) return { kind: 'none' };
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (match === null) {
    return { kind: 'invalid', reason: 'expected bytes=<first>-<last>, one range' };
  }
  const [first, last] = [match[1] ?? '', match[2] ?? ''];
  const toInt = (digits: string): number | undefined => {
    const value = Number(digits);
    return digits.length <= 16 && Number.isSafeInteger(value) ? value : undefined;
  };
  if (first === '') {
    const length = last === '' ? undefined : toInt(last);
    if (length === undefined) return { kind: 'invalid', reason: 'expected bytes=-<length>' };
    return { kind: 'suffix', length };
  }
  const start = toInt(first);
  const end = last === '' ? undefined : toInt(last);
  if (start === undefined || (last !== '' && end === undefined)) {
    return { kind: 'invalid', reason: 'positions must be integers' };
  }
  if (end !== undefined && end < start) return { kind: 'invalid', reason: 'last is before first' };
  return end === undefined ? { kind: 'from', start } : { kind: 'from', start, end };
}
