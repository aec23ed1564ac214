/**
 * What the dashboard's browser tests need: Debian's Chromium (installed through
 * scripts/system-deps.sh when missing; no browser download), the built app (built with Vite
 * when missing or older than its sources), a headless Chromium driven by playwright-core, and
 * small checks the tests share.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../helpers/processes.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(PROJECT_ROOT, 'test-results', 'web');
const APP_DIR = join(PROJECT_ROOT, 'src', 'web', 'app');
const BUILT_INDEX = join(PROJECT_ROOT, 'dist', 'web', 'public', 'index.html');
/** Files outside the app's folder that the app imports (src/web/...). */
const SHARED_SOURCES = ['api-types.ts', 'snippet-marks.pure.ts'];

/**
 * Flags of a headless Chromium on this machine: as root it needs --no-sandbox, and without
 * the background-networking flags it keeps dialling hosts a closed network refuses.
 */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Installs Debian's `chromium` through scripts/system-deps.sh when it is not there. */
export function ensureChromium(): void {
  if (existsSync(CHROMIUM_PATH)) return;
  const result = spawnSync('bash', [join(PROJECT_ROOT, 'scripts', 'system-deps.sh')], {
    env: { ...process.env, TESSERA_SYSTEM_PACKAGES: 'chromium' },
    stdio: 'inherit',
    timeout: 15 * 60_000,
  });
  if (result.status !== 0 || !existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `could not install chromium with scripts/system-deps.sh (exit ${result.status})`,
    );
  }
}

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtimeMs(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds the app with Vite unless dist/web/public is newer than every source of it. */
export function ensureAppBuilt(): void {
  const sourcesMs = Math.max(
    newestMtimeMs(APP_DIR),
    ...SHARED_SOURCES.map((name) => statSync(join(PROJECT_ROOT, 'src', 'web', name)).mtimeMs),
  );
  if (existsSync(BUILT_INDEX) && statSync(BUILT_INDEX).mtimeMs >= sourcesMs) return;
  const vite = join(PROJECT_ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const result = spawnSync(
    process.execPath,
    [vite, 'build', '--config', join(APP_DIR, 'vite.config.ts'), '--logLevel', 'warn'],
    { cwd: PROJECT_ROOT, stdio: 'inherit', timeout: 120_000 },
  );
  if (result.status !== 0) throw new Error(`vite build failed (exit ${result.status})`);
}

/** A headless Debian Chromium. */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/** Hex SHA-256 of bytes. */
export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Waits until a locator matches exactly `count` elements. */
export async function waitForCount(
  locator: Locator,
  count: number,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = -1;
  while (Date.now() < deadline) {
    seen = await locator.count();
    if (seen === count) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(seen, count);
}

/** Asserts that the page needs no horizontal scrolling at its current width. */
export async function assertFitsWidth(page: Page, width: number, what: string): Promise<void> {
  // A string, since this file is type-checked without the DOM's types.
  const scrollWidth = await page.evaluate<number>('document.documentElement.scrollWidth');
  assert.ok(scrollWidth <= width, `${what} fits ${width} px (scroll width ${scrollWidth})`);
}

/**
 * Word count computed without the engine, as the built-in job defines words: lower-cased
 * runs of ASCII letters (`tr -cs A-Za-z '\n' | tr A-Z a-z`), sorted by word.
 */
export function independentWordCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const word of text.toLowerCase().split(/[^a-z]+/)) {
    if (word !== '') counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return new Map([...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
