import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { HttpApp } from '../core/http-server.js';
import type { Logger } from '../core/logger.js';

/**
 * Where the built app is looked for when `--static-dir` is not given: next to the compiled
 * server (`dist/web/public`), else the checkout's `dist/web/public` when the server runs from
 * its TypeScript sources.
 */
export function defaultStaticDirs(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  return [join(here, 'public'), resolve(here, '..', '..', 'dist', 'web', 'public')];
}

/** The first directory holding an `index.html`, or undefined. */
export function findStaticDir(candidates: readonly string[]): string | undefined {
  return candidates.find((dir) => existsSync(join(dir, 'index.html')));
}

/**
 * Serves the single-page app: hashed assets cached for good, `index.html` never cached. When
 * the app was not built, `/` answers a page that says how to build it (the API still works).
 * The app's files are public even with `--auth`: they hold no data, and the app must load to
 * show its sign-in panel.
 */
export async function registerStaticFiles(
  app: HttpApp,
  staticDir: string | undefined,
  logger: Logger,
): Promise<void> {
  if (staticDir === undefined) {
    logger.warn('the dashboard app is not built (npm run build); serving the API only');
    app.get('/', { schema: { hide: true }, config: PUBLIC }, async (_request, reply) =>
      reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE),
    );
    return;
  }
  await app.register(async (scope) => {
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, ...PUBLIC };
    });
    await scope.register(fastifyStatic, {
      root: staticDir,
      prefix: '/',
      decorateReply: false,
      index: ['index.html'],
      setHeaders(response, path) {
        const immutable = /[\\/]assets[\\/]/.test(path);
        response.setHeader(
          'cache-control',
          immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    });
  });
}

/** Route config that opens a route to callers without a token (docs/security.md). */
const PUBLIC = { access: { role: 'public' } } as const;

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tessera dashboard not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>The Tessera dashboard is not built</h1>
<p>Build it with <code>npm run build</code> (or <code>npx vite build --config src/web/app/vite.config.ts</code>)
and reload this page. Its API answers under <code>/api</code> meanwhile.</p>
</body></html>`;
