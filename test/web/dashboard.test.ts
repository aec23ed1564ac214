/**
 * The dashboard end to end in Debian's Chromium (issue 6; dfs-architecture.md, "Frontend Web":
 * a dashboard of the cluster's key figures, file management with an upload progress bar,
 * downloads, deletion with confirmation, chunk and replica details, and a node view with each
 * node's state). Real processes: a registry, a DFS master, three datanodes and `tessera web`.
 * Checked: every page opens and shows its data; a file uploaded through the browser comes back
 * byte-identical through the browser's download; a delete asks first; a SIGKILLed datanode
 * turns inactive on the Nodes page without a reload; a failing DFS master shows a message
 * where its data would be. A screenshot of every page lands in test-results/web/.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DfsCluster } from '../helpers/dfs-cluster.js';
import { startTessera, waitFor, type RunningProcess } from '../helpers/processes.js';
import { ensureAppBuilt, ensureChromium, launchChromium, SCREENSHOT_DIR } from './browser.js';

const CHUNK_SIZE_BYTES = 64 * 1024;

describe('tessera web in Chromium', { timeout: 120_000 }, () => {
  // Datanodes are started here, all at once, rather than one by one by `start()`.
  const cluster = new DfsCluster({
    datanodes: 0,
    extraMetaArgs: ['--chunk-size', String(CHUNK_SIZE_BYTES)],
  });
  let web: RunningProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  before(
    async () => {
      ensureChromium();
      ensureAppBuilt();
      const started = cluster.start();
      const registryUrl = await waitFor('the registry', () => cluster.registry?.url);
      const startWeb = startTessera([
        'web',
        ...['--port', '0', '--registry', registryUrl, '--data-dir', join(cluster.dir.path, 'web')],
        ...['--heartbeat-interval', '0.5', '--sample-interval', '1'],
      ]);
      const startDatanodes = started.then(async () => {
        await Promise.all([0, 1, 2].map((index) => cluster.startDatanode(index)));
        await cluster.waitForDatanodes(3);
      });
      [web, browser] = await Promise.all([startWeb, launchChromium(), startDatanodes]);
      context = await browser.newContext({
        viewport: { width: 1280, height: 800 },
        acceptDownloads: true,
      });
      page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
    },
    { timeout: 15 * 60_000 },
  );

  after(async () => {
    await browser?.close();
    await web?.kill();
    await cluster.stop();
  });

  const open = async (route: string): Promise<void> => {
    await page.goto(`${web.url}/#${route}`);
  };
  const shoot = (name: string): Promise<Buffer> =>
    page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });

  test('every page opens and shows its data', async () => {
    await open('/overview');
    await page.getByTestId('role-datanode').getByText('3/3 active').waitFor();
    await page.getByTestId('stat-files').waitFor();
    await page.getByTestId('chart-rate').locator('canvas').waitFor();
    await shoot('overview');

    await open('/files');
    await page.getByText('This directory is empty').waitFor();
    await shoot('files-empty');

    await open('/nodes');
    const table = page.getByTestId('nodes-table');
    await table.locator('tr[data-status="active"]').nth(4).waitFor(); // meta, 3 datanodes, web
    await page.getByTestId('datanodes').locator('tbody tr').nth(2).waitFor();
    await shoot('nodes');

    await page.getByTestId('filter-role').selectOption('datanode');
    await waitForCount(table.locator('tbody tr'), 3);
    assert.match(page.url(), /role=datanode/);

    await open('/search');
    await page.getByText('The Search page arrives with issue 4.').waitFor();
    await shoot('search');
    await open('/jobs');
    await page.getByText('The Jobs page arrives with issue 5.').waitFor();
    await shoot('jobs');

    await page.setViewportSize({ width: 390, height: 844 });
    await open('/overview');
    await page.getByTestId('role-datanode').getByText('3/3 active').waitFor();
    // A string, since this file is type-checked without the DOM's types.
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    assert.ok(width <= 390, `the overview fits a phone's width (scroll width ${width})`);
    await shoot('overview-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
    assert.deepEqual(pageErrors, []);
  });

  test('a file uploaded through the browser downloads byte-identical, with its chunks shown', async () => {
    const bytes = randomBytes(5 * CHUNK_SIZE_BYTES + 1234);
    const local = join(cluster.dir.path, 'upload.bin');
    await writeFile(local, bytes);
    await open('/files?dir=/uploads');
    await page.getByTestId('upload-input').setInputFiles(local);
    await page.getByTestId('upload-button').click();
    await page.locator('[data-testid="upload-row"][data-status="done"]').waitFor();
    assert.equal(
      await page.locator('[data-testid="upload-row"] progress').getAttribute('value'),
      '1',
    );
    const row = page.getByTestId('file-/uploads/upload.bin');
    await row.waitFor();
    await shoot('files-uploaded');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row.getByTestId('download').click(),
    ]);
    const saved = join(cluster.dir.path, 'downloaded.bin');
    await download.saveAs(saved);
    assert.equal(sha256(await readFile(saved)), sha256(bytes));
    assert.equal(download.suggestedFilename(), 'upload.bin');

    await row.getByRole('link', { name: 'upload.bin' }).click();
    const chunks = page.getByTestId('chunk-row');
    await waitForCount(chunks, 6);
    await waitForCount(page.getByTestId('replica'), 18);
    await shoot('file-details');
    const stored = await cluster.client.stat('/uploads/upload.bin');
    assert.equal(stored.size, bytes.length);
  });

  test('delete asks for confirmation, then removes the file', async () => {
    await cluster.client.putBuffer('short-lived', '/uploads/delete-me.txt');
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
    await assert.rejects(cluster.client.stat('/uploads/delete-me.txt'), /404/);
  });

  test('a SIGKILLed datanode turns inactive on the Nodes page without a reload', async () => {
    await open('/nodes');
    const url = cluster.datanodeUrl(2);
    const row = page.locator(`[data-testid="nodes-table"] tr[data-url="${url}"]`);
    await row.and(page.locator('[data-status="active"]')).waitFor();
    await cluster.datanodes[2]?.kill('SIGKILL');
    const startedMs = Date.now();
    await row.and(page.locator('[data-status="inactive"]')).waitFor({ timeout: 15_000 });
    const seenAfterMs = Date.now() - startedMs;
    assert.ok(seenAfterMs < 15_000, `inactive shown ${seenAfterMs} ms after the kill`);
    await page.getByTestId('filter-status').selectOption('inactive');
    await waitForCount(page.locator('[data-testid="nodes-table"] tbody tr'), 1);
    await shoot('nodes-datanode-killed');
  });

  test('a failing DFS master shows a message where its data would be', async () => {
    await cluster.meta.kill('SIGKILL');
    await open('/files?dir=/uploads');
    await page.getByTestId('files-browser').getByTestId('error-note').waitFor();
    await shoot('files-master-down');
    await open('/overview');
    await page.getByTestId('overview-storage').getByTestId('error-note').waitFor();
    await page.getByTestId('role-datanode').waitFor();
    await shoot('overview-master-down');
    assert.deepEqual(pageErrors, []);
  });
});

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Waits until a locator matches exactly `count` elements. */
async function waitForCount(locator: ReturnType<Page['locator']>, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  let seen = -1;
  while (Date.now() < deadline) {
    seen = await locator.count();
    if (seen === count) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(seen, count);
}
