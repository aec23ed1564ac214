// Rule (issue 2, "Foundation"; issue 6: "`npm run build` builds it, `npm start` serves the built
// files"): the README's quickstart is `npm ci && npm start`, so installing must build everything
// `npm start` serves, the dashboard included. npm runs `prepare` after `npm ci`; it must run the
// whole build, whose last step builds the dashboard with Vite.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as {
  scripts: Record<string, string>;
};

test('npm ci builds what npm start serves, the dashboard included', () => {
  const { prepare, build, start } = manifest.scripts;
  assert.equal(prepare, 'npm run build');
  assert.match(build ?? '', /tsc -p tsconfig\.build\.json/);
  assert.match(build ?? '', /vite build --config src\/web\/app\/vite\.config\.ts/);
  assert.match(start ?? '', /bin\/tessera\.js up/);
  const readme = readFileSync('README.md', 'utf8');
  assert.ok(readme.includes('npm ci && npm start'), 'the README shows the quickstart line');
});
