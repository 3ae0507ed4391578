/** The bench's result file and its two renderings: a Markdown table and a hand-written SVG chart. */

import type { HttpHoldsPhase } from './holds-http';
import { waitingRoomTable } from './waiting-room';
import { viewersTable, type ViewersResult } from './viewers-report';
import { profileTable } from './profile';
import { resetCyclesMarkdown, resetCyclesSvgPanel } from './reset-cycles';
import { wrkCeilingsMarkdown } from './wrk-compare';
import { capacityPanelExtra, capacitySvgPanel, capacityTable, type CapacityResult } from './capacity';

export interface ScenarioResult {
  name: string;
  backend: 'redis' | 'sql';
  mode: 'closed' | 'open';
  requests: number;
  /** Answers per second. */
  throughput: number;
  /** Latency in milliseconds (open loop: from the scheduled send time). */
  p50: number;
  p99: number;
  correct: boolean;
  p90: number;
  max: number;
  durationMs: number;
  concurrency: number;
  targetRate?: number;
  sendRate?: number;
  statuses: Record<string, number>;
  description: string;
  problems?: string[];
}

export interface Ceiling {
  throughput: number;
  p50?: number;
  p99?: number;
  requests: number;
  [k: string]: unknown;
}

export interface BenchResult {
  runId: string;
  startedAt: string;
  size: 'quick' | 'full';
  durationSec: number;
  machine: Record<string, unknown>;
  settings: Record<string, unknown>;
  scenarios: ScenarioResult[];
  ceilings: { noopPost: Ceiling; redisScript: Ceiling; redisScriptSuccess?: Ceiling };
  ratios: Record<string, number | null>;
  /** Runs before sequelize was dropped recorded a mysql2-vs-Sequelize comparison here (docs/cqrs.md). */
  sqlDrivers?: unknown[];
  /** The writer and projector consuming during a seed replay (bench/stores.ts). */
  stores?: import('./stores').StoresFigures;
  /** Best-available holds over HTTP (bench/holds-http.ts). */
  holdsHttp?: HttpHoldsPhase[];
  /** The waiting room under a burst (bench/waiting-room.ts). */
  waitingRoom?: import('./waiting-room').WaitingRoomFigures;
  /** Viewers of one zone: change stream against 1 s polling (bench/viewers.ts; its own files `<stamp>-viewers.*`). */
  viewers?: ViewersResult;
  /** Capacity at p99 < 50 ms, api role alone and default start (bench/capacity.ts). */
  capacity?: CapacityResult[];
  /** The api's CPU per purchase by component (`--profile`, bench/profile.ts). */
  profile?: import('./profile').ProfileResult;
  /** The no-op and seed-replay ceilings measured with wrk on the same api (bench/wrk.ts). */
  wrk?: import('./wrk').WrkCeilings | { skipped: string };
  /** Seed replay → reset-event cycles on the default start (bench/reset-cycles.ts). */
  resetCycles?: import('./reset-cycles').ResetCyclesResult;
  /** The phases this run measured (`--only` / `--skip`). */
  phases?: string[];
  correct: boolean;
  /** Measurements that could not be taken (the bench fails). */
  errors?: string[];
}

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || !Number.isFinite(n)
    ? '—'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const label = (s: ScenarioResult) => `${s.name} · ${s.backend} · ${s.mode}${s.mode === 'open' ? ` @ ${fmt(s.targetRate)}/s` : ''}`;

export function findScenario(r: Pick<BenchResult, 'scenarios'>, name: string, backend: string, mode = 'closed') {
  return r.scenarios.find((s) => s.name === name && s.backend === backend && s.mode === mode);
}

/** Redis/SQL and purchases/no-op ratios from one run (aims, not gates: docs/load-lab.md). */
export function ratios(r: Pick<BenchResult, 'scenarios' | 'ceilings' | 'capacity' | 'wrk'>): Record<string, number | null> {
  const ratio = (a?: number, b?: number) => (a && b ? Math.round((a / b) * 100) / 100 : null);
  const replay = findScenario(r, 'seed-replay', 'redis');
  const open = findScenario(r, 'seed-replay', 'redis', 'open');
  const defaultStart = findScenario(r, 'default-start', 'redis');
  const capacityOf = (target: string) => r.capacity?.find((c) => c.target.startsWith(target))?.highestRate ?? undefined;
  const wrk = r.wrk && !('skipped' in r.wrk) ? r.wrk : undefined;
  return {
    replayOverNoopWrk: ratio(wrk?.seedReplay.throughput, wrk?.noop.summary.throughput),
    defaultStartOverApi: ratio(defaultStart?.throughput, replay?.throughput),
    capacityApiOverClosed: ratio(capacityOf('api role'), replay?.throughput),
    capacityDefaultStartOverClosed: ratio(capacityOf('default start'), defaultStart?.throughput),
    hotSeatRedisOverSql: ratio(findScenario(r, 'hot-seat', 'redis')?.throughput, findScenario(r, 'hot-seat', 'sql')?.throughput),
    replayRedisOverSql: ratio(replay?.throughput, findScenario(r, 'seed-replay', 'sql')?.throughput),
    replayOverNoop: ratio(replay?.throughput, r.ceilings.noopPost.throughput),
    openLoopAchievedRate: open ? open.throughput : null,
    openLoopP99: open ? open.p99 : null,
  };
}

/** `viewersChart`: the file name of the viewers chart beside the report (bench/viewers.ts writes it). */
export function toMarkdown(r: BenchResult, viewersChart?: string): string {
  const m = r.machine;
  const lines = [
    `# Load lab run ${r.runId} (${r.size})`,
    '',
    `Measured on ${String(m.cpuModel)} × ${String(m.nproc)} (nproc), ${String(m.memoryGiB)} GiB, Node ${String(m.node)}, Redis ${String(m.redis)}, MariaDB ${String(m.mariadb)}; driver and server share the machine. ${r.correct ? 'Every scenario was correct.' : '**At least one scenario was INCORRECT.**'}`,
    '',
    '| scenario | backend | mode | clients | requests | throughput (req/s) | p50 (ms) | p99 (ms) | correct | statuses |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |',
    ...r.scenarios.map(
      (s) =>
        `| ${s.name} | ${s.backend} | ${s.mode}${s.mode === 'open' ? ` @ ${fmt(s.targetRate)}/s (sent ${fmt(s.sendRate)}/s)` : ''} | ${s.concurrency} | ${fmt(s.requests)} | ${fmt(s.throughput)} | ${fmt(s.p50, 1)} | ${fmt(s.p99, 1)} | ${s.correct ? 'yes' : '**NO**'} | ${Object.entries(
          s.statuses,
        )
          .map(([k, v]) => `${k}×${v}`)
          .join(' ')} |`,
    ),
    '',
    '| ceiling | how | requests | throughput (req/s) | p50 (ms) | p99 (ms) |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    `| no-op POST (same server process) | ${String(r.ceilings.noopPost.how ?? '')} | ${fmt(r.ceilings.noopPost.requests)} | ${fmt(r.ceilings.noopPost.throughput)} | ${fmt(r.ceilings.noopPost.p50, 1)} | ${fmt(r.ceilings.noopPost.p99, 1)} |`,
    `| reserve.lua, ${String(r.ceilings.redisScript.path)} | ${String(r.ceilings.redisScript.tool)} | ${fmt(r.ceilings.redisScript.requests)} | ${fmt(r.ceilings.redisScript.throughput)} | ${fmt(r.ceilings.redisScript.p50, 2)} | ${fmt(r.ceilings.redisScript.p99, 2)} |`,
    ...(r.ceilings.redisScriptSuccess
      ? [
          `| reserve.lua, ${String(r.ceilings.redisScriptSuccess.path)} | ${String(r.ceilings.redisScriptSuccess.tool)} | ${fmt(r.ceilings.redisScriptSuccess.requests)} | ${fmt(r.ceilings.redisScriptSuccess.throughput)} | — | — |`,
        ]
      : []),
    '',
    '| ratio | value | aim |',
    '| --- | ---: | --- |',
    `| hot-seat: Redis / SQL throughput | ${fmt(r.ratios.hotSeatRedisOverSql ?? undefined, 2)} | ≥ 10 |`,
    `| seed replay: Redis / SQL throughput | ${fmt(r.ratios.replayRedisOverSql ?? undefined, 2)} | ≥ 5 |`,
    `| seed replay (Redis) / no-op POST | ${fmt(r.ratios.replayOverNoop ?? undefined, 2)} | ≥ 0.6 |`,
    `| open loop: achieved rate (req/s) | ${fmt(r.ratios.openLoopAchievedRate ?? undefined)} | ${fmt(Number(r.settings.openLoopRate))} |`,
    `| open loop: p99 (ms) | ${fmt(r.ratios.openLoopP99 ?? undefined, 1)} | < 50 |`,
    `| seed replay / no-op POST, both driven by wrk | ${fmt(r.ratios.replayOverNoopWrk ?? undefined, 2)} | ≥ 0.6 |`,
    `| seed replay: default start (npm start) / api role alone | ${fmt(r.ratios.defaultStartOverApi ?? undefined, 2)} | ≥ 0.6 |`,
    `| highest open-loop rate with p99 < 50 ms / closed-loop replay, api role | ${fmt(r.ratios.capacityApiOverClosed ?? undefined, 2)} | ≥ 0.7 |`,
    `| the same, default start | ${fmt(r.ratios.capacityDefaultStartOverClosed ?? undefined, 2)} | — |`,
    '',
    ...(r.capacity?.length ? [...capacityTable(r.capacity), ''] : []),
    ...(r.stores
      ? [
          '| stores during the replay (dynalite, MariaDB) | value | aim |',
          '| --- | ---: | --- |',
          `| tickets stored: DynamoDB / MySQL | ${fmt(r.stores.tickets.dynamodb)} / ${fmt(r.stores.tickets.mysql)} | every sale |`,
          `| writer tickets/s while selling (bounded by the sale rate) | ${fmt(r.stores.writerTicketsPerSec)} | — |`,
          `| writer tickets/s catching up a backlog (2 items each) | ${fmt(r.stores.writerCatchUpTicketsPerSec)} | — |`,
          `| dynalite BatchWriteItem ceiling (items/s) | ${fmt(r.stores.dynaliteCeilingItemsPerSec)} | — |`,
          `| writer catch-up items/s ÷ dynalite ceiling | ${fmt(r.stores.writerShareOfCeiling, 2)} | ≥ 0.8 |`,
          `| dynalite ceiling on the writer's item mix (ticket with 2 GSIs + seat, items/s) | ${fmt(r.stores.dynaliteWriterMixCeilingItemsPerSec)} | — |`,
          `| writer catch-up items/s ÷ the writer-mix ceiling | ${fmt(r.stores.writerShareOfMixCeiling, 2)} | ≥ 0.8 |`,
          `| projector rows/s | ${fmt(r.stores.projectorRowsPerSec)} | — |`,
          `| confirmation → MySQL, p50 / p99 (ms, bucket bounds) | ${fmt(r.stores.readModelLag.p50Ms)} / ${fmt(r.stores.readModelLag.p99Ms)} | — |`,
          `| read model complete after the last sale (ms) | ${fmt(r.stores.completeAfterLastSaleMs.projector)} | ≤ 2,000 |`,
          `| write model complete after the last sale (ms) | ${fmt(r.stores.completeAfterLastSaleMs.writer)} | — |`,
          '',
        ]
      : []),
  ];
  if (r.profile) lines.push(...profileTable(r.profile), '');
  if (r.resetCycles) lines.push('Replay → reset cycles (default start):', '', resetCyclesMarkdown(r.resetCycles), '');
  const replay = findScenario(r, 'seed-replay', 'redis');
  if (r.wrk)
    lines.push(
      wrkCeilingsMarkdown(r.wrk, {
        noop: { throughput: r.ceilings.noopPost.throughput, p99: r.ceilings.noopPost.p99 ?? 0 },
        ...(replay ? { replay } : {}),
      }),
      '',
    );
  if (r.holdsHttp) lines.push(...httpHoldsTable(r.holdsHttp), '');
  if (r.waitingRoom) lines.push(...waitingRoomTable(r.waitingRoom), '');
  if (r.viewers)
    lines.push(
      `Viewers of one ${r.viewers.zone.seats}-seat zone, purchases at ${r.viewers.rate}/s (details: ${viewersChart ? viewersChart.replace(/svg$/, 'md') : 'the viewers report'}):`,
      '',
      ...viewersTable(r.viewers),
      '',
      ...(viewersChart ? [`![viewers: api CPU and 201 → seen](${viewersChart})`, ''] : []),
    );
  for (const h of (r.holdsHttp ?? []).filter((x) => !x.correct))
    lines.push(`Problems of the holds over HTTP, ${h.zone} ${h.phase}:`, '', ...h.problems.map((p) => `- ${p}`), '');
  const failed = r.scenarios.filter((s) => !s.correct);
  for (const s of failed) lines.push(`Problems of ${label(s)}:`, '', ...(s.problems ?? []).map((p) => `- ${p}`), '');
  return lines.join('\n');
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Bars of throughput (linear) and p50/p99 (log scale) per scenario and ceiling. */
export function toSvg(r: BenchResult): string {
  const rows: { name: string; throughput: number; p50?: number; p99?: number; ok: boolean; kind: 'redis' | 'sql' | 'ceiling' }[] = [
    ...r.scenarios.map((s) => ({ name: label(s), throughput: s.throughput, p50: s.p50, p99: s.p99, ok: s.correct, kind: s.backend })),
    {
      name: 'ceiling · no-op POST',
      throughput: r.ceilings.noopPost.throughput,
      ...(r.ceilings.noopPost.p50 === undefined ? {} : { p50: r.ceilings.noopPost.p50 }),
      ...(r.ceilings.noopPost.p99 === undefined ? {} : { p99: r.ceilings.noopPost.p99 }),
      ok: true,
      kind: 'ceiling' as const,
    },
    { name: 'ceiling · reserve.lua (conflict path)', throughput: r.ceilings.redisScript.throughput, ok: true, kind: 'ceiling' as const },
    ...(r.ceilings.redisScriptSuccess
      ? [
          {
            name: 'ceiling · reserve.lua (success path, Node)',
            throughput: r.ceilings.redisScriptSuccess.throughput,
            ok: true,
            kind: 'ceiling' as const,
          },
        ]
      : []),
  ];
  const rowH = 24;
  const top = 56;
  const labelW = 300;
  const barW = 330;
  const gap = 80;
  const latX = labelW + barW + gap + 10;
  const width = latX + barW + 130;
  const capacityTop = top + rows.length * rowH + 70;
  const capacityH = 220;
  const capacity = r.capacity?.length ? capacitySvgPanel(r.capacity, labelW + 10, capacityTop, barW * 2 + gap, capacityH) : [];
  const cyclesTop = top + rows.length * rowH + 40 + (capacity.length ? 70 + capacityH + capacityPanelExtra(r.capacity!) : 0) + 40;
  const cycles = r.resetCycles ? resetCyclesSvgPanel(r.resetCycles, labelW + 10, cyclesTop, barW * 2 + gap, 160) : [];
  const height = cyclesTop + (cycles.length ? 160 + 50 : -40);
  const maxT = Math.max(1, ...rows.map((x) => x.throughput));
  const maxL = Math.max(10, ...rows.map((x) => x.p99 ?? 0));
  const logX = (ms: number) => (Math.log10(Math.max(ms, 0.1) / 0.1) / Math.log10(maxL / 0.1)) * barW;
  const colour = { redis: '#d6336c', sql: '#1c7ed6', ceiling: '#868e96' };
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${esc(`Load lab ${r.runId} (${r.size}) — ${String(r.machine.cpuModel)} × ${String(r.machine.nproc)}`)}</text>`,
    `<text x="${labelW + 10}" y="44" font-weight="bold">throughput (req/s)</text>`,
    `<text x="${latX}" y="44" font-weight="bold">latency p50 (light) / p99 (dark), ms, log scale</text>`,
  ];
  rows.forEach((x, i) => {
    const y = top + i * rowH;
    const tw = Math.max(1, (x.throughput / maxT) * barW);
    out.push(
      `<text x="${labelW}" y="${y + 15}" text-anchor="end" fill="${x.ok ? '#000' : '#e03131'}">${esc(x.name + (x.ok ? '' : ' ✗ INCORRECT'))}</text>`,
    );
    out.push(`<rect x="${labelW + 10}" y="${y + 3}" width="${tw.toFixed(1)}" height="${rowH - 8}" fill="${colour[x.kind]}"/>`);
    out.push(`<text x="${labelW + 14 + tw}" y="${y + 15}">${fmt(x.throughput)}</text>`);
    if (x.p99 !== undefined && x.p50 !== undefined) {
      out.push(`<rect x="${latX}" y="${y + 3}" width="${logX(x.p99).toFixed(1)}" height="${rowH - 8}" fill="${colour[x.kind]}"/>`);
      out.push(`<rect x="${latX}" y="${y + 3}" width="${logX(x.p50).toFixed(1)}" height="${rowH - 8}" fill="#fff" fill-opacity="0.55"/>`);
      out.push(`<text x="${latX + logX(x.p99) + 4}" y="${y + 15}">${fmt(x.p50, 1)} / ${fmt(x.p99, 1)}</text>`);
    }
  });
  const legendY = top + rows.length * rowH + 22;
  out.push(
    `<rect x="10" y="${legendY - 10}" width="12" height="12" fill="${colour.redis}"/><text x="28" y="${legendY}">Redis engine</text>`,
  );
  out.push(
    `<rect x="130" y="${legendY - 10}" width="12" height="12" fill="${colour.sql}"/><text x="148" y="${legendY}">SQL row-locking baseline</text>`,
  );
  out.push(
    `<rect x="320" y="${legendY - 10}" width="12" height="12" fill="${colour.ceiling}"/><text x="338" y="${legendY}">ceilings</text>`,
  );
  out.push(...capacity, ...cycles, '</svg>');
  return out.join('\n');
}

/** The Markdown table of the phases (bench/holds.ts and the load lab's report). */
export function httpHoldsTable(rs: HttpHoldsPhase[]): string[] {
  return [
    '| best-available holds over HTTP | phase | clients | hold calls | holds | holds/s | calls/s | p50 (ms) | p99 (ms) | seats in two holds | free + held = capacity | correct |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
    ...rs.map(
      (r) =>
        `| ${r.zone} | ${r.phase} | ${r.clients} | ${r.attempts.toLocaleString('en-US')} | ${r.holds.toLocaleString('en-US')} | ${r.holdsPerSecond.toLocaleString('en-US')} | ${r.callsPerSecond.toLocaleString('en-US')} | ${r.p50ms} | ${r.p99ms} | ${r.doubleHeld} | ${r.free.toLocaleString('en-US')} + ${r.held.toLocaleString('en-US')} = ${r.capacity.toLocaleString('en-US')} | ${r.correct ? 'yes' : '**NO**'} |`,
    ),
  ];
}
