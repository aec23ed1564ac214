/**
 * Builds the dashboard's single-page app (React + Chart.js) into dist/web/public, where the
 * web server (src/web/server.ts) serves it. `npx vite --config src/web/app/vite.config.ts`
 * runs a dev server that sends /api to a running `tessera web` (TESSERA_WEB_URL, default
 * http://127.0.0.1:8080).
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: './',
  plugins: [react()],
  build: {
    outDir: here('../../../dist/web/public'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    proxy: { '/api': process.env['TESSERA_WEB_URL'] ?? 'http://127.0.0.1:8080' },
  },
});
