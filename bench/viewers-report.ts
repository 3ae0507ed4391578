/** The viewers benchmark's result (bench/viewers.ts) and its renderings: a Markdown table and an SVG chart in the style of bench/report.ts. */
import type { ViewersPhaseResult } from './viewers-phase';

export interface ViewersResult {
  runId: string;
  startedAt: string;
  size: 'quick' | 'full' | 'against';
  durationSec: number;
  machine: Record<string, unknown>;
  zone: { seats: number; layout: string };
  /** Purchases per second during every phase, and how many per phase. */
  rate: number;
  purchasesPerPhase: number;
  /** The soft open-files limit the api and viewer processes ran with. */
  fdLimit: number;
  phases: ViewersPhaseResult[];
  notes: string[];
  correct: boolean;
}

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || !Number.isFinite(n)
    ? '—'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const statuses = (st: Record<string, number>) =>
  Object.entries(st)
    .map(([k, v]) => `${k}×${fmt(v)}`)
    .join(' ');
/** A latency, or what a null one means: some viewer never saw the seat before the drain ended. */
const ms = (v: number | null) => (v === null ? 'not seen' : fmt(v));
/** No viewers, or no purchase answered 201: nothing to time. */
const noLatency = (p: ViewersPhaseResult) => p.mode === 'none' || p.purchases === 0;
const how = (p: ViewersPhaseResult) => (p.mode === 'stream' ? 'stream (SSE)' : p.mode === 'poll' ? 'polling 1 s' : 'purchases only');

/** The purchases-only phase: what the viewers' CPU is counted above. */
const baselineOf = (r: ViewersResult) => r.phases.find((p) => p.mode === 'none');

/** api CPU per 1,000 viewers above the purchases alone (ms of CPU per second), and memory per 1,000 viewers (MiB). */
export function per1000(r: ViewersResult, p: ViewersPhaseResult): { cpuMsPerSec?: number; rssMiB?: number } {
  if (p.mode === 'none' || p.viewers === 0 || !p.api) return {};
  const k = p.viewers / 1000;
  const base = baselineOf(r)?.api;
  const baseGrowth = base ? base.rssAfterMiB - base.rssBeforeMiB : 0;
  return {
    cpuMsPerSec: ((p.api.cpuPercent - (base?.cpuPercent ?? 0)) * 10) / k,
    rssMiB: (p.api.rssAfterMiB - p.api.rssBeforeMiB - baseGrowth) / k,
  };
}

export function viewersTable(r: ViewersResult): string[] {
  return [
    '| viewers | how | api CPU (% of a core) | api CPU per 1,000 viewers (ms/s) | api RSS (MiB) | RSS per 1,000 viewers (MiB) | api requests/s | 201 → every viewer, p50 / p99 (ms) | 201 → each viewer, p50 / p99 (ms) | missed | correct |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...r.phases.map((p) => {
      const k = per1000(r, p);
      const missed = p.missed.seqGaps + p.missed.unseenPairs + p.missed.dropped + p.missed.openFailed;
      // A saturated api's CPU is what it got of the shared cores, not what the viewers would need.
      const perK = p.saturated ? 'saturated' : fmt(k.cpuMsPerSec, 1);
      return `| ${fmt(p.viewers)} | ${how(p)} | ${fmt(p.api?.cpuPercent, 1)} | ${perK} | ${p.api ? `${fmt(p.api.rssBeforeMiB)} → ${fmt(p.api.rssAfterMiB)}` : '—'} | ${fmt(k.rssMiB, 1)} | ${p.mode === 'poll' ? `${fmt(p.requestsPerSecond)}${p.saturated ? ` of ${fmt(p.viewers)} asked` : ''}` : p.mode === 'stream' ? `${fmt(p.viewers)} open` : '—'} | ${noLatency(p) ? '—' : `${ms(p.latency.purchaseP50)} / ${ms(p.latency.purchaseP99)}`} | ${noLatency(p) ? '—' : `${ms(p.latency.pairP50)} / ${ms(p.latency.pairP99)}`} | ${p.mode === 'none' ? '—' : fmt(missed)} | ${p.correct ? 'yes' : '**NO**'} |`;
    }),
  ];
}

export function viewersMarkdown(r: ViewersResult, chart?: string): string {
  const m = r.machine;
  const lines = [
    `# Viewers benchmark ${r.runId} (${r.size})`,
    '',
    `Measured on ${String(m.cpuModel)} × ${String(m.nproc)} (nproc), ${String(m.memoryGiB)} GiB, Node ${String(m.node)}, Redis ${String(m.redis)}; load average ${JSON.stringify(m.loadAverageAtStart)} at the start, ${JSON.stringify(m.loadAverageAtEnd)} at the end; the viewers, the api and every service share the machine; open-files limit ${fmt(r.fdLimit)}. ${r.correct ? 'Every phase was correct.' : '**At least one phase was INCORRECT.**'}`,
    '',
    `One zone of ${fmt(r.zone.seats)} seats (${r.zone.layout}); ${fmt(r.purchasesPerPhase)} one-seat purchases per phase at ${fmt(r.rate)}/s through \`POST /api/v1/events/{id}/purchases\`; a fresh api process per phase. "201 → every viewer": per purchase, from its 201 (as its client received it) to the last viewer having the seat as taken, then p50/p99 over the purchases; "each viewer": over every (viewer, purchase) pair. Polling viewers ask \`GET …/seats\` every second with \`If-None-Match\` and a browser's \`Accept-Encoding\`, one keep-alive connection each. api CPU and RSS are read from \`/proc/<pid>\` (outside the api) over the purchase window; per 1,000 viewers is above the no-viewers row (its CPU, and its RSS growth over the same window). "No purchases": the same viewers over a window before the purchases start. Missed = seq gaps + (viewer, purchase) pairs never seen + streams dropped or refused.`,
    '',
    ...viewersTable(r),
    '',
    "| viewers | how | viewer processes | open in (s) | viewers' CPU (% of a core) | bytes/s to the viewers | answers | seen before the 201 | purchases: 201s, p50 / p99 (ms) | no purchases: api CPU (%) | no purchases: answers |",
    '| ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | --- | ---: | --- |',
    ...r.phases.map(
      (p) =>
        `| ${fmt(p.viewers)} | ${how(p)} | ${p.workers} | ${fmt(p.openSeconds, 1)} | ${fmt(p.driverCpuPercent, 1)} | ${fmt(p.bytesPerSecond)} | ${p.mode === 'stream' ? `streams opened: ${statuses(p.openStatuses)}` : statuses(p.statuses)}${p.errors ? ` errors×${fmt(p.errors)}` : ''} | ${p.latency.pairs ? `${fmt((p.latency.beforeAnswer / p.latency.pairs) * 100, 1)} %` : '—'} | ${fmt(p.purchases)} of ${fmt(r.purchasesPerPhase)}, ${fmt(p.purchaseLatency.p50)} / ${fmt(p.purchaseLatency.p99)} | ${fmt(p.idle?.cpuPercent, 1)} | ${p.idle ? (p.mode === 'poll' ? `${fmt(p.idle.requestsPerSecond)}/s: ${statuses(p.idle.statuses)}` : 'heartbeats only') : '—'} |`,
    ),
    '',
    ...(chart ? [`![viewers: api CPU and 201 → seen](${chart})`, ''] : []),
    ...r.notes.map((n) => `- ${n}`),
    ...(r.notes.length ? [''] : []),
  ];
  for (const p of r.phases.filter((x) => !x.correct))
    lines.push(`Problems of ${fmt(p.viewers)} viewers, ${how(p)}:`, '', ...[...new Set(p.problems)].map((x) => `- ${x}`), '');
  // Polling is the comparison: what it could not deliver is its result, not a failure of the bench.
  for (const p of r.phases.filter((x) => x.correct && x.mode === 'poll' && x.problems.length > 0))
    lines.push(`What polling did not deliver with ${fmt(p.viewers)} viewers:`, '', ...[...new Set(p.problems)].map((x) => `- ${x}`), '');
  return lines.join('\n');
}

/** api CPU (linear) and 201 → every viewer p50/p99 (log scale) per phase. */
export function viewersSvg(r: ViewersResult): string {
  const rows = r.phases.map((p) => ({
    name: `${fmt(p.viewers)} viewers · ${how(p)}${p.saturated ? ` (api saturated: ${fmt(p.requestsPerSecond)} of ${fmt(p.viewers)} polls/s)` : ''}`,
    cpu: p.api?.cpuPercent ?? 0,
    p50: noLatency(p) ? undefined : p.latency.purchaseP50,
    p99: noLatency(p) ? undefined : p.latency.purchaseP99,
    drainMs: p.drainMs,
    ok: p.correct,
    kind: p.mode,
  }));
  const rowH = 24;
  const top = 56;
  const labelW = 420;
  const barW = 330;
  const gap = 80;
  const latX = labelW + barW + gap + 10;
  const width = latX + barW + 260;
  const height = top + rows.length * rowH + 40;
  const maxC = Math.max(10, ...rows.map((x) => x.cpu));
  // A latency never reached (null: some viewer never saw the seat) is drawn to the end of the drain.
  const lat = (v: number | null, drain: number) => (v === null ? drain : v);
  const maxL = Math.max(1000, ...rows.map((x) => (x.p99 === undefined ? 0 : lat(x.p99, x.drainMs))));
  const logX = (ms: number) => (Math.log10(Math.max(ms, 1) / 1) / Math.log10(maxL / 1)) * barW;
  const colour = { stream: '#d6336c', poll: '#1c7ed6', none: '#868e96' };
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${esc(`Viewers of one zone ${r.runId} (${r.size}), purchases at ${r.rate}/s — ${String(r.machine.cpuModel)} × ${String(r.machine.nproc)}`)}</text>`,
    `<text x="${labelW + 10}" y="44" font-weight="bold">api CPU (% of one core)</text>`,
    `<text x="${latX}" y="44" font-weight="bold">201 → every viewer saw it, p50 (light) / p99 (dark), ms, log scale</text>`,
  ];
  rows.forEach((x, i) => {
    const y = top + i * rowH;
    const cw = Math.max(1, (x.cpu / maxC) * barW);
    out.push(
      `<text x="${labelW}" y="${y + 15}" text-anchor="end" fill="${x.ok ? '#000' : '#e03131'}">${esc(x.name + (x.ok ? '' : ' ✗ INCORRECT'))}</text>`,
    );
    out.push(`<rect x="${labelW + 10}" y="${y + 3}" width="${cw.toFixed(1)}" height="${rowH - 8}" fill="${colour[x.kind]}"/>`);
    out.push(`<text x="${labelW + 14 + cw}" y="${y + 15}">${fmt(x.cpu, 1)} %</text>`);
    if (x.p99 !== undefined && x.p50 !== undefined) {
      const p99 = lat(x.p99, x.drainMs);
      const p50 = lat(x.p50, x.drainMs);
      out.push(`<rect x="${latX}" y="${y + 3}" width="${logX(p99).toFixed(1)}" height="${rowH - 8}" fill="${colour[x.kind]}"/>`);
      out.push(`<rect x="${latX}" y="${y + 3}" width="${logX(p50).toFixed(1)}" height="${rowH - 8}" fill="#fff" fill-opacity="0.55"/>`);
      const label = x.p99 === null ? `not every viewer saw it within ${fmt(x.drainMs / 1000)} s` : `${ms(x.p50)} / ${ms(x.p99)}`;
      out.push(`<text x="${latX + logX(p99) + 4}" y="${y + 15}">${esc(label)}</text>`);
    }
  });
  const legendY = top + rows.length * rowH + 22;
  out.push(
    `<rect x="10" y="${legendY - 10}" width="12" height="12" fill="${colour.stream}"/><text x="28" y="${legendY}">change stream (SSE)</text>`,
  );
  out.push(
    `<rect x="170" y="${legendY - 10}" width="12" height="12" fill="${colour.poll}"/><text x="188" y="${legendY}">polling the seats route every 1 s (ETag)</text>`,
  );
  out.push(
    `<rect x="430" y="${legendY - 10}" width="12" height="12" fill="${colour.none}"/><text x="448" y="${legendY}">purchases only</text>`,
  );
  out.push('</svg>');
  return out.join('\n');
}
