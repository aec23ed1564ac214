/**
 * The dashboard end to end in Debian's Chromium (issue 6; dfs-architecture.md, "Frontend Web":
 * a dashboard of the cluster's key figures, file management with an upload progress bar,
 * downloads, deletion with confirmation, chunk and replica details, and a node view with each
 * node's state; poneglyph-reduce.md: a dashboard of jobs, breakers and the dead-letter queue;
 * distrisearch: ranked results, the hypercube and the leader). Real processes: a registry, the
 * DFS (master and three datanodes), three search nodes, the MapReduce master and two workers,
 * and `tessera web`, one cluster for the whole file. Checked: every page opens and shows its
 * data (also at phone width); a file uploaded through the browser comes back byte-identical;
 * a delete asks first; a search shows the ranked results with safe highlights; a word count
 * submitted through the browser finishes with the right counts; a dead-lettered task is
 * recovered with the Recover button once its input is fixed; SIGKILLed datanodes and search
 * nodes show as such without a reload; a failing service shows a message where its data would
 * be. A screenshot of every page lands in test-results/web/.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { SeededRandom } from '../../src/core/random.js';
import { generateText, parseCounts } from '../helpers/mapreduce-cluster.js';
import { WebCluster } from '../helpers/web-cluster.js';
import {
  assertFitsWidth,
  ensureAppBuilt,
  ensureChromium,
  independentWordCounts,
  launchChromium,
  SCREENSHOT_DIR,
  sha256,
  waitForCount,
} from './browser.js';

const CHUNK_SIZE_BYTES = 64 * 1024;
const WING_REPORT = '/docs/wing-report.txt';
const WING_TEXT =
  'Measurements of the heat transfer on a swept wing at supersonic speed.\n' +
  'The heated wing shows a thicker boundary layer near the root.\n';
const XSS_TEXT = 'Flux notes <img src=x onerror="window.__xss=1"> & <b>bold</b> near the root.';

/** Generated documents for the search index: short, with a few shared words. */
function searchDocuments(): {
  doc_id: string;
  content: string;
  metadata: Record<string, unknown>;
}[] {
  const random = new SeededRandom(42);
  const words = ['heat', 'wing', 'flow', 'tail', 'engine', 'lift', 'drag', 'cold', 'pressure'];
  const docs = Array.from({ length: 40 }, (_, index) => ({
    doc_id: `doc-${index}`,
    content: Array.from({ length: 6 + random.int(10) }, () => words[random.int(words.length)]).join(
      ' ',
    ),
    metadata: {},
  }));
  return [
    ...docs,
    { doc_id: WING_REPORT, content: WING_TEXT, metadata: { path: WING_REPORT } },
    { doc_id: 'note-xss', content: XSS_TEXT, metadata: {} },
  ];
}

/** An attribute of every element a locator matches, in document order. */
async function attributes(locator: Locator, name: string): Promise<(string | null)[]> {
  const values: (string | null)[] = [];
  for (const item of await locator.all()) values.push(await item.getAttribute(name));
  return values;
}

const POISON_MAPPER = [
  'export function map(path, line, emit) {',
  "  if (line.includes('POISON')) throw new Error('poisoned record');",
  '  for (const w of line.toLowerCase().split(/[^a-z]+/)) if (w) emit(w, 1);',
  '}',
].join('\n');
const SUM_REDUCER =
  'export function reduce(key, values, emit) { emit(key, values.reduce((a, b) => a + Number(b), 0)); }';

describe('tessera web in Chromium', { timeout: 240_000 }, () => {
  const cluster = new WebCluster({ chunkSizeBytes: CHUNK_SIZE_BYTES });
  const documents = searchDocuments();
  let browser: Browser | undefined;
  let launching: Promise<Browser> | undefined;
  let page: Page;
  let leaderId: number;
  const pageErrors: string[] = [];

  before(
    async () => {
      ensureChromium();
      ensureAppBuilt();
      // Kept apart so that `after` can close a browser whose launch outlived a failed start.
      launching = launchChromium().then((launched) => (browser = launched));
      const [, launched] = await Promise.all([cluster.start(), launching]);
      leaderId = await cluster.search.waitForLeader();
      await Promise.all([
        cluster.index(documents),
        cluster.dfs.client.putBuffer(WING_TEXT, WING_REPORT),
      ]);
      const context = await launched.newContext({
        viewport: { width: 1280, height: 800 },
        acceptDownloads: true,
      });
      page = await context.newPage();
      page.setDefaultTimeout(20_000);
      page.on('pageerror', (error) => pageErrors.push(error.message));
    },
    { timeout: 15 * 60_000 },
  );

  after(async () => {
    await launching?.catch(() => undefined);
    await browser?.close();
    await cluster.stop();
  });

  const open = async (route: string): Promise<void> => {
    await page.goto(`${cluster.web.url}/#${route}`);
  };
  const shoot = async (name: string): Promise<void> => {
    // From the top: a full-page shot of a scrolled page draws the sticky bar mid-page.
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
  };

  test('every page opens and shows its data, at 1280x800 and at phone width', async () => {
    await open('/overview');
    await page.getByTestId('role-datanode').getByText('3/3 active').waitFor();
    await page.getByTestId('role-search-node').getByText('3/3 active').waitFor();
    await page.getByTestId('stat-files').waitFor();
    await page.getByTestId('stat-jobs-running').getByText('0').waitFor();
    await page.getByTestId('stat-search-docs').getByText(String(documents.length)).waitFor();
    await page.getByTestId('stat-search-leader').getByText(`node ${leaderId}`).waitFor();
    await page.getByTestId('chart-rate').locator('canvas').waitFor();
    await shoot('overview');

    await open('/files');
    await page.getByTestId('dir-/docs').waitFor();
    await shoot('files');

    await open('/nodes');
    const table = page.getByTestId('nodes-table');
    // meta, 3 datanodes, 3 search nodes, the MapReduce master, 2 workers, web
    await table.locator('tr[data-status="active"]').nth(10).waitFor();
    await page.getByTestId('datanodes').locator('tbody tr').nth(2).waitFor();
    await shoot('nodes');
    await page.getByTestId('filter-role').selectOption('datanode');
    await waitForCount(table.locator('tbody tr'), 3);
    assert.match(page.url(), /role=datanode/);

    await open('/search');
    const cube = page.getByTestId('hypercube');
    await waitForCount(cube.locator('[data-testid="cube-node"][data-state="live"]'), 3);
    await waitForCount(cube.locator('[data-testid="cube-node"]'), 16);
    const leader = cube.locator('[data-testid="cube-node"][data-leader="true"]');
    assert.equal(await leader.getAttribute('data-node-id'), String(leaderId));
    await page.getByTestId('balancer-docs').getByText(String(documents.length)).waitFor();
    await waitForCount(page.locator('[data-testid="search-node-row"][data-state="live"]'), 3);
    await shoot('search');

    await open('/jobs');
    await page.getByTestId('job-form').waitFor();
    for (const worker of ['worker-0', 'worker-1']) {
      await page.getByTestId(`breaker-${worker}`).getByText('CLOSED').waitFor();
      await page.getByTestId(`worker-${worker}`).getByText('active').waitFor();
    }
    await page.getByTestId('mr-dlq').getByText('The dead-letter queue is empty').waitFor();
    await shoot('jobs');

    await page.setViewportSize({ width: 375, height: 812 });
    await open('/overview');
    await page.getByTestId('role-datanode').getByText('3/3 active').waitFor();
    await assertFitsWidth(page, 375, 'the overview');
    await shoot('overview-phone');
    await open('/search');
    await page.getByTestId('hypercube').waitFor();
    await assertFitsWidth(page, 375, 'the search page');
    await open('/jobs');
    await page.getByTestId('mr-workers').getByText('worker-0').waitFor();
    await assertFitsWidth(page, 375, 'the jobs page');
    await shoot('jobs-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
    assert.deepEqual(pageErrors, []);
  });

  test('a file uploaded through the browser downloads byte-identical, with its chunks shown', async () => {
    const bytes = randomBytes(5 * CHUNK_SIZE_BYTES + 1234);
    const local = join(cluster.dfs.dir.path, 'upload.bin');
    await writeFile(local, bytes);
    await open('/files?dir=/uploads');
    await page.getByTestId('upload-input').setInputFiles(local);
    await page.getByTestId('upload-button').click();
    const done = page.locator('[data-testid="upload-row"][data-status="done"]');
    await done.waitFor();
    assert.equal(await done.locator('progress').getAttribute('value'), '1');
    const row = page.getByTestId('file-/uploads/upload.bin');
    await row.waitFor();
    await shoot('files-uploaded');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row.getByTestId('download').click(),
    ]);
    const saved = join(cluster.dfs.dir.path, 'downloaded.bin');
    await download.saveAs(saved);
    assert.equal(sha256(await readFile(saved)), sha256(bytes));
    assert.equal(download.suggestedFilename(), 'upload.bin');

    await row.getByRole('link', { name: 'upload.bin' }).click();
    await waitForCount(page.getByTestId('chunk-row'), 6);
    await waitForCount(page.getByTestId('replica'), 18);
    await shoot('file-details');
  });

  test('delete asks for confirmation, then removes the file', async () => {
    await cluster.dfs.client.putBuffer('short-lived', '/uploads/delete-me.txt');
    await open('/files?dir=/uploads');
    const row = page.getByTestId('file-/uploads/delete-me.txt');
    await row.getByTestId('delete').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('/uploads/delete-me.txt').waitFor();
    await shoot('files-delete-confirm');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await row.count(), 1, 'Cancel keeps the file');
    await row.getByTestId('delete').click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await row.waitFor({ state: 'detached' });
    await assert.rejects(cluster.dfs.client.stat('/uploads/delete-me.txt'), /404/);
  });

  test('a search shows the ranked results with their terms highlighted, never as markup', async () => {
    await open('/search');
    await page.getByTestId('search-input').fill('heat wing');
    await page.getByTestId('search-button').click();
    const results = page.getByTestId('search-results').getByTestId('search-result');
    await results.nth(4).waitFor();
    assert.match(page.url(), /q=heat\+wing/);
    const expected = await cluster.http.getJson<{
      results: { doc_id: string }[];
      nodes_queried: number[];
    }>(`${cluster.web.url}/api/search?q=heat+wing&k=10`);
    const shown = await attributes(results, 'data-doc-id');
    assert.deepEqual(
      shown,
      expected.results.map((result) => result.doc_id),
    );
    const scores = (await page.getByTestId('result-score').allTextContents()).map((text) =>
      Number(text.replace('score ', '')),
    );
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
      'ranked by score',
    );
    const marks = await page.getByTestId('search-results').locator('mark').allTextContents();
    assert.ok(marks.length >= shown.length, 'every snippet highlights a term');
    for (const mark of marks) assert.match(mark.toLowerCase(), /^(heat|wing)/);
    await page
      .getByTestId('search-nodes')
      .getByText(`nodes answered: ${expected.nodes_queried.join(', ')}`)
      .waitFor();
    await shoot('search-results');

    await page.getByTestId('search-input').fill('flux notes');
    await page.getByTestId('search-button').click();
    const note = page.locator('[data-testid="search-result"][data-doc-id="note-xss"]');
    await note.waitFor();
    const snippet = await note.getByTestId('result-snippet').textContent();
    assert.match(snippet ?? '', /<img src=x onerror="window.__xss=1"> & <b>bold<\/b>/);
    assert.equal(await page.getByTestId('search-results').locator('img, b').count(), 0);
    assert.equal(await page.evaluate<unknown>('window.__xss'), undefined);
    assert.deepEqual(await note.locator('mark').allTextContents(), ['Flux', 'notes']);
  });

  test('the Files page finds files by their content', async () => {
    await open('/files');
    await page.getByTestId('content-query').fill('swept wing boundary');
    await page.getByTestId('content-search-button').click();
    const found = page.getByTestId('content-results').getByTestId('search-result');
    await found.first().waitFor();
    const ids = await attributes(found, 'data-doc-id');
    assert.deepEqual(ids, [WING_REPORT], 'only DFS files are listed');
    assert.ok((await found.locator('mark').count()) >= 3);
    await shoot('files-content-search');
    await found.getByRole('link', { name: WING_REPORT }).click();
    await page.getByRole('heading', { name: 'wing-report.txt' }).waitFor();
    await waitForCount(page.getByTestId('chunk-row'), 1);
    assert.match(page.url(), /files\/detail\?path=%2Fdocs%2Fwing-report\.txt/);
  });

  test('a word count submitted through the browser finishes with the right counts', async () => {
    const text = generateText(150_000, 5);
    const local = join(cluster.dfs.dir.path, 'books.txt');
    await writeFile(local, text);
    await open('/files?dir=/books');
    await page.getByTestId('upload-input').setInputFiles(local);
    await page.getByTestId('upload-button').click();
    await page
      .locator('[data-testid="upload-row"][data-status="done"]')
      .filter({ hasText: '/books/books.txt' })
      .waitFor();

    await open('/jobs');
    await page.getByTestId('job-browse').click();
    const picker = page.getByTestId('input-picker');
    await picker.getByRole('button', { name: 'books/' }).click();
    await picker.getByTestId('pick-/books/books.txt').click();
    assert.equal(await page.getByTestId('job-input').inputValue(), '/books/books.txt');
    await page.getByTestId('job-output').fill('/out/wc-browser');
    await page.getByTestId('job-reducers').fill('2');
    await page.getByTestId('job-submit').click();
    await page.waitForURL(/#\/jobs\/detail\?id=job-/);
    const id = new URL(page.url().replace('#/', '')).searchParams.get('id') ?? '';
    await page.locator('[data-testid="job-summary"][data-state="succeeded"]').waitFor({
      timeout: 60_000,
    });
    const chunks = Math.ceil(Buffer.byteLength(text) / CHUNK_SIZE_BYTES);
    await page.getByTestId('progress-map').getByText(`map: ${chunks} of ${chunks} tasks`).waitFor();
    await page.getByTestId('progress-reduce').getByText('reduce: 2 of 2 tasks').waitFor();
    await page.getByTestId('output-files').getByText('/out/wc-browser/_SUCCESS').waitFor();
    const records = await page.getByTestId('counter-map_input_records').locator('td').textContent();
    assert.equal(Number(records?.replaceAll(',', '')), text.split('\n').length - 1);
    await waitForCount(
      page.locator('[data-testid="task-row"][data-state="succeeded"]'),
      chunks + 2,
    );
    await shoot('job-wordcount');

    const output = parseCounts(await cluster.readOutput('/out/wc-browser'));
    assert.deepEqual(new Map([...output].sort()), independentWordCounts(text));
    await open('/jobs');
    await page.locator(`[data-testid="job-${id}"][data-state="succeeded"]`).waitFor();
  });

  test('a dead-lettered task is recovered with the Recover button once its input is fixed', async () => {
    const poisoned = generateText(30_000, 11).replace(/\n/, '\nPOISON pill here\n');
    await cluster.dfs.client.putBuffer(poisoned, '/in/poison.txt');
    await open('/jobs');
    await page.getByTestId('kind-js').check();
    await page.getByTestId('job-mapper').fill(POISON_MAPPER);
    await page.getByTestId('job-reducer').fill(SUM_REDUCER);
    await page.getByTestId('job-input').fill('/in/poison.txt');
    await page.getByTestId('job-output').fill('/out/poison');
    await page.getByTestId('job-submit').click();
    await page.waitForURL(/#\/jobs\/detail\?id=job-/);
    await page.locator('[data-testid="job-summary"][data-state="failed"]').waitFor();
    const entry = page.getByTestId('job-dlq').getByTestId('dlq-entry');
    await entry.getByText('user-code').waitFor();
    await entry.getByText('POISON pill here').waitFor();
    await page.locator('[data-testid="task-row"][data-state="dead-lettered"]').waitFor();
    await shoot('job-dead-lettered');

    // The same length: a recovered task reads the byte range its split was planned with.
    const fixed = poisoned.replace('POISON pill here', 'ANTIDO pill here');
    await cluster.dfs.client.putBuffer(fixed, '/in/poison.txt', { overwrite: true });
    await entry.getByTestId('recover').click();
    await page.locator('[data-testid="job-summary"][data-state="succeeded"]').waitFor();
    await page.getByTestId('job-dlq').getByText('No task of this job is in the').waitFor();
    const retries = await page.getByTestId('counter-retries').locator('td').textContent();
    assert.ok(Number(retries) >= 3, `retries shown: ${retries}`);
    await shoot('job-recovered');
    const output = parseCounts(await cluster.readOutput('/out/poison'));
    assert.deepEqual(new Map([...output].sort()), independentWordCounts(fixed));
  });

  test('a SIGKILLed datanode turns inactive on the Nodes page without a reload', async () => {
    await open('/nodes');
    const url = cluster.dfs.datanodeUrl(2);
    const row = page.locator(`[data-testid="nodes-table"] tr[data-url="${url}"]`);
    await row.and(page.locator('[data-status="active"]')).waitFor();
    await cluster.dfs.datanodes[2]?.kill('SIGKILL');
    const startedMs = Date.now();
    await row.and(page.locator('[data-status="inactive"]')).waitFor({ timeout: 15_000 });
    const seenAfterMs = Date.now() - startedMs;
    assert.ok(seenAfterMs < 15_000, `inactive shown ${seenAfterMs} ms after the kill`);
    await page.getByTestId('filter-status').selectOption('inactive');
    await waitForCount(page.locator('[data-testid="nodes-table"] tbody tr'), 1);
    await shoot('nodes-datanode-killed');
  });

  test('a SIGKILLed search node is drawn dead, and searches still answer', async () => {
    const victim = cluster.search.running().find((index) => index !== leaderId) ?? 0;
    await cluster.search.kill(victim);
    await open('/search?q=heat+wing');
    const node = page.locator(`[data-testid="cube-node"][data-node-id="${victim}"]`);
    await node.and(page.locator('[data-state="dead"]')).waitFor();
    await page.getByTestId('search-results').getByTestId('search-result').first().waitFor();
    await page.getByTestId('search-input').fill('heat');
    await page.getByTestId('search-button').click();
    await page.getByTestId('search-results').getByTestId('search-result').nth(2).waitFor();
    await shoot('search-node-killed');
  });

  test('failing services show a message where their data would be', async () => {
    await Promise.all([
      cluster.dfs.meta.kill('SIGKILL'),
      cluster.master.kill('SIGKILL'),
      ...cluster.search.running().map((index) => cluster.search.kill(index)),
    ]);
    await open('/files?dir=/uploads');
    await page.getByTestId('files-browser').getByTestId('error-note').waitFor();
    await shoot('files-master-down');

    await open('/jobs');
    for (const panel of ['job-list', 'mr-workers', 'mr-dlq']) {
      await page.getByTestId(panel).getByText('MapReduce master not available').waitFor();
    }
    await page.getByTestId('job-form').waitFor();
    await shoot('jobs-master-down');

    await open('/search?q=wing');
    await page.getByTestId('search-panel').getByText('Search not available').waitFor();
    await page.getByTestId('search-balancer').getByTestId('error-note').waitFor();
    await shoot('search-nodes-down');

    await open('/overview');
    await page.getByTestId('overview-storage').getByTestId('error-note').waitFor();
    await page.getByTestId('overview-jobs').getByText('MapReduce master not available').waitFor();
    await page.getByTestId('overview-search').getByText('Search not available').waitFor();
    await page.getByTestId('role-datanode').waitFor();
    await shoot('overview-services-down');
    assert.deepEqual(pageErrors, []);
  });
});
