/**
 * Strings that break naive servers: path traversal (plain and percent-encoded), NUL and other
 * control characters, right-to-left overrides, emoji, lone UTF-16 surrogates, very long text.
 * They go into path parameters, query values, JSON strings and header values.
 */
import fc from 'fast-check';

/** Path traversal in the forms a server might decode at different layers. */
export const TRAVERSALS: readonly string[] = [
  '../',
  '../../etc/passwd',
  '..%2f..%2fetc%2fpasswd',
  '%2e%2e/%2e%2e/etc/passwd',
  '%2e%2e%2f',
  '..\\..\\windows',
  '/../../',
  '....//....//',
  '%252e%252e%252f',
  '.',
  '..',
];

/** Unicode that is valid JSON but odd: NUL, RTL override, zero-width, emoji, combining marks. */
export const ODD_UNICODE: readonly string[] = [
  '\u0000',
  'a\u0000b',
  '\u202eevil\u202c',
  '\u200b\u200d\ufeff',
  '😀🧨👩‍👩‍👧',
  'e\u0301\u0301\u0301',
  '\uffff\ufffe',
  '\r\n',
  '\t\u001b[31m',
  'ǅ𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
];

/** Lone surrogates: not encodable as UTF-8, so each layer has to choose what to do with them. */
export const LONE_SURROGATES: readonly string[] = ['\ud800', 'a\udfffb', '\udc00\ud800'];

/** Any of the hostile strings above, sometimes with a prefix or suffix, sometimes very long. */
export function hostileString(): fc.Arbitrary<string> {
  const base = fc.constantFrom(...TRAVERSALS, ...ODD_UNICODE, ...LONE_SURROGATES);
  return fc.oneof(
    { weight: 4, arbitrary: base },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.string({ maxLength: 8 }), base, fc.string({ maxLength: 8 }))
        .map((parts) => parts.join('')),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(base, fc.integer({ min: 1_000, max: 20_000 }))
        .map(([text, times]) => text.repeat(Math.ceil(times / Math.max(1, text.length)))),
    },
  );
}

/**
 * Percent-encodes text for a URL, byte by byte, as a browser would; a lone surrogate (which
 * `encodeURIComponent` refuses) becomes the bytes of its WTF-8 form, which is invalid UTF-8.
 * Characters in `keep` are left as they are (e.g. `/` and `.` to send a raw `../`).
 */
export function percentEncode(text: string, keep = ''): string {
  let out = '';
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    const char = text[i] ?? '';
    if (keep.includes(char) || /[A-Za-z0-9\-_.~]/.test(char)) {
      out += char;
      continue;
    }
    const isHigh = code >= 0xd800 && code <= 0xdbff;
    const next = text.charCodeAt(i + 1);
    if (isHigh && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(text.slice(i, i + 2));
      i += 1;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      out += wtf8(code);
    } else {
      out += encodeURIComponent(char);
    }
  }
  return out;
}

function wtf8(code: number): string {
  const bytes = [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)];
  return bytes.map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}
