import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { seatmapApiTarget } from '../../config/dev-server';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The seat map builds into dist/web, which the api role serves at `/` (src/runtime/platform.ts).
 * Relative asset URLs so the app also works behind a path prefix.
 */
export default defineConfig({
  root: here,
  base: './',
  build: {
    outDir: path.resolve(here, '../../../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
  server: {
    // `vite --config src/web/app/vite.config.ts` during development: API calls go to a running platform.
    proxy: { '/api': seatmapApiTarget() },
  },
});
