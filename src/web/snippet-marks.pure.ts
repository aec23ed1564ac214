/**
 * Search snippets arrive as HTML-escaped text with the query terms wrapped in `<mark>…</mark>`
 * (src/search/index/snippet.ts). The dashboard never hands that string to `innerHTML`: it
 * splits it here into plain-text parts, each marked or not, and the app renders each part as
 * a text node (inside a `<mark>` element when marked). Only the exact tags `<mark>` and
 * `</mark>` mean anything; any other markup, escaped or not, stays visible text. Pure; imports
 * nothing, so the browser app and the tests share it.
 */

/** A run of snippet text, highlighted or not. */
export interface SnippetPart {
  readonly text: string;
  readonly marked: boolean;
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
};

/** Decodes the character references an HTML escaper produces; anything else stays as it is. */
export function unescapeHtml(text: string): string {
  return text.replace(
    /&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,6});/g,
    (whole, body: string) => {
      if (body.startsWith('#')) {
        const code =
          body[1] === 'x' || body[1] === 'X'
            ? parseInt(body.slice(2), 16)
            : parseInt(body.slice(1), 10);
        return Number.isInteger(code) &&
          code > 0 &&
          code <= 0x10ffff &&
          (code < 0xd800 || code > 0xdfff)
          ? String.fromCodePoint(code)
          : whole;
      }
      return NAMED_ENTITIES[body] ?? whole;
    },
  );
}

/**
 * Splits a highlighted snippet into parts. Nested marks count as one; a stray `</mark>` is
 * dropped; adjacent parts with the same highlight are merged; empty parts are left out.
 */
export function parseSnippet(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  const push = (raw: string, marked: boolean): void => {
    const text = unescapeHtml(raw);
    if (text === '') return;
    const last = parts[parts.length - 1];
    if (last !== undefined && last.marked === marked)
      parts[parts.length - 1] = { text: last.text + text, marked };
    else parts.push({ text, marked });
  };
  let depth = 0;
  let cursor = 0;
  const tags = /<\/?mark>/g;
  for (let match = tags.exec(snippet); match !== null; match = tags.exec(snippet)) {
    push(snippet.slice(cursor, match.index), depth > 0);
    depth = match[0] === '<mark>' ? depth + 1 : Math.max(0, depth - 1);
    cursor = match.index + match[0].length;
  }
  push(snippet.slice(cursor), depth > 0);
  return parts;
}
