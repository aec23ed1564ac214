// Rule checked (DESIGN.md rule 9; issue 2, "Documentation"): the configuration reference of
// docs/operations.md is generated from the services' config schemas, so every flag, environment
// variable and default it shows is the one the code reads. This test fails when the section
// between the config-reference markers differs from what scripts/gen-config-docs.ts would
// write (regenerate with `node --import tsx scripts/gen-config-docs.ts`).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { option, type ConfigSchema } from '../../src/core/config.js';
import {
  documentedSchemas,
  END_MARKER,
  escapeCodePipes,
  isUpToDate,
  OPERATIONS_DOC_PATH,
  renderConfigReference,
  spliceSection,
  START_MARKER,
} from '../../scripts/gen-config-docs.js';

const doc = readFileSync(OPERATIONS_DOC_PATH, 'utf8');

/** The text between the markers of `text`. */
function section(text: string): string {
  const start = text.indexOf(START_MARKER);
  const end = text.indexOf(END_MARKER);
  assert.ok(start >= 0 && end > start, 'markers missing');
  return text.slice(start + START_MARKER.length, end);
}

describe('docs/operations.md configuration reference', () => {
  test('is up to date with the config schemas', async () => {
    assert.ok(
      await isUpToDate(doc),
      'docs/operations.md is stale: run node --import tsx scripts/gen-config-docs.ts',
    );
  });

  test('lists every flag, environment variable and description of every documented schema', () => {
    const reference = section(doc);
    for (const { schema } of documentedSchemas) {
      for (const spec of Object.values(schema)) {
        assert.ok(reference.includes(`\`--${spec.flag}`), `--${spec.flag} missing`);
        for (const name of spec.env)
          assert.ok(reference.includes(`\`${name}\``), `${name} missing`);
        assert.ok(reference.includes(spec.description), `description of --${spec.flag} missing`);
      }
    }
  });

  test('the check notices a changed default', async () => {
    const at = doc.indexOf(START_MARKER);
    const tail = doc.slice(at).replace(/\| 30s(\s+)\|/, '| 45s$1|');
    const edited = doc.slice(0, at) + tail;
    assert.notEqual(edited, doc, 'the heartbeat-timeout default was not found in the reference');
    assert.equal(await isUpToDate(edited), false);
  });

  test('the check notices a new option in a schema', async () => {
    const extra: ConfigSchema = {
      probe: option.int({ flag: 'probe-count', defaultValue: 3, description: 'A new knob.' }),
    };
    const schemas = [...documentedSchemas, { heading: 'probe', summary: 'Probe.', schema: extra }];
    assert.equal(await isUpToDate(doc, schemas), false);
    assert.match(renderConfigReference(schemas), /`--probe-count <n>`/);
  });

  test('the check notices a hand edit inside the section', async () => {
    const edited = doc.replace(END_MARKER, `one more line\n\n${END_MARKER}`);
    assert.equal(await isUpToDate(edited), false);
  });
});

describe('gen-config-docs helpers', () => {
  test('pipes inside code spans are escaped, cell separators are not', () => {
    assert.equal(
      escapeCodePipes('| `--log-level <info|debug>` | `X` | a |'),
      '| `--log-level <info\\|debug>` | `X` | a |',
    );
    assert.equal(escapeCodePipes('| `a\\|b` |'), '| `a\\|b` |');
  });

  test('splicing replaces only what lies between the markers', () => {
    const text = `head\n${START_MARKER}\nold\n${END_MARKER}\ntail\n`;
    const spliced = spliceSection(text, 'new');
    assert.equal(spliced, `head\n${START_MARKER}\n\nnew\n\n${END_MARKER}\ntail\n`);
  });

  test('a document without the markers is an error, not a silent no-op', () => {
    assert.throws(() => spliceSection('no markers here', 'x'), /config-reference:start/);
    assert.throws(
      () => spliceSection(`${END_MARKER}\n${START_MARKER}`, 'x'),
      /config-reference:start/,
    );
  });
});
