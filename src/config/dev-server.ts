/**
 * The seat map's development server only (`vite --config src/web/app/vite.config.ts`), not a
 * platform setting: SEATMAP_API is where its `/api` calls go, a running api by default.
 */
export function seatmapApiTarget(env: NodeJS.ProcessEnv = process.env): string {
  return env.SEATMAP_API || 'http://127.0.0.1:8080';
}
