/**
 * A search snippet with its highlighted terms. The snippet's markup is never parsed by the
 * browser: `parseSnippet` splits it into text runs, and React renders each as a text node,
 * inside `<mark>` when highlighted. A document holding `<img onerror=…>` shows those characters.
 */
import { useMemo, type ReactNode } from 'react';
import { parseSnippet } from '../../snippet-marks.pure.js';

export function Highlighted(props: { snippet: string }): ReactNode {
  const parts = useMemo(() => parseSnippet(props.snippet), [props.snippet]);
  return (
    <>
      {parts.map((part, index) =>
        part.marked ? <mark key={index}>{part.text}</mark> : <span key={index}>{part.text}</span>,
      )}
    </>
  );
}
