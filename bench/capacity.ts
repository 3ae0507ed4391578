/**
 * Capacity at a latency target: the seed replay in the open loop, its arrival rate stepped up
 * (×factor each step) until p99 reaches the target or a request is refused for lack of capacity
 * (or, when the first step misses already, stepped down until one meets).
 * The figure is the highest rate that kept p99 under the target with nothing refused. Every step
 * is a fresh event sized to the step (the seed replay's seat mix: each seat once plus 110%
 * duplicates), checked by the same set comparison as every other run.
 */
import { runScenario, type LabTarget } from '../load/driver/lab';
import { seedReplay } from '../load/scenarios/seed-replay';

/** One zone of the seed replay: 26 rows × 30 seats, each once, plus 110% duplicates. */
const REQUESTS_PER_ZONE = Math.round(26 * 30 * 2.1);
/** The answers a seed replay expects: a sale or a conflict. Anything else was refused. */
const ANSWERED = new Set(['201', '409']);
/** Below this arrival rate the search stops stepping down. */
const MIN_RATE = 50;

export interface CapacityStep {
  rate: number;
  requests: number;
  /** Answers per second over the step. */
  throughput: number;
  p50: number;
  p99: number;
  /** Requests answered neither 201 nor 409 (503, 429, a dropped connection). */
  refused: number;
  correct: boolean;
  /** Under the target, nothing refused, and correct. */
  ok: boolean;
}

export interface CapacityResult {
  /** What was measured, e.g. "api role alone" or "default start (npm start)". */
  target: string;
  sloP99Ms: number;
  steps: CapacityStep[];
  /** The highest stepped rate that met the target, below the first that did not; null if the first missed. */
  highestRate: number | null;
  /** False when every step met the target: highestRate is then only a lower bound (more steps would go higher). */
  limitFound: boolean;
  problems: string[];
}

export interface CapacityOptions {
  target: string;
  runId: string;
  /** Event ids of this search start with it (unique per target). */
  eventPrefix: string;
  startRate: number;
  factor?: number;
  maxSteps: number;
  /** Each step sends about this many seconds of requests at its rate. */
  stepSeconds: number;
  concurrency: number;
  sloP99Ms?: number;
  log: (msg: string) => void;
  /** Called with each step's event id before the step runs (the caller removes what the stores kept of it). */
  onStep?: (eventId: string) => void;
}

export async function findCapacity(lab: LabTarget, o: CapacityOptions): Promise<CapacityResult> {
  const slo = o.sloP99Ms ?? 50;
  const factor = o.factor ?? 1.25;
  const steps: CapacityStep[] = [];
  const problems: string[] = [];
  const measure = async (rate: number, i: number): Promise<CapacityStep> => {
    const zones = Math.max(1, Math.ceil((rate * o.stepSeconds) / REQUESTS_PER_ZONE));
    const eventId = `${o.eventPrefix}-cap${i}`;
    o.onStep?.(eventId);
    const report = await runScenario(lab, seedReplay({ zones, seed: i + 1 }), {
      eventId,
      concurrency: o.concurrency,
      rate,
      label: `capacity ${o.target} @${rate}/s`,
    });
    const s = report.stats;
    const refused = Object.entries(s.statuses)
      .filter(([k]) => !ANSWERED.has(k))
      .reduce((n, [, v]) => n + v, 0);
    const step: CapacityStep = {
      rate,
      requests: s.requests,
      throughput: s.throughput,
      p50: s.p50,
      p99: s.p99,
      refused,
      correct: report.verdict.correct,
      ok: report.verdict.correct && refused === 0 && s.p99 < slo,
    };
    if (!report.verdict.correct) problems.push(...report.verdict.problems.slice(0, 5).map((p) => `@${rate}/s: ${p}`));
    o.log(
      `     capacity ${o.target} @${rate}/s: p50 ${s.p50} ms, p99 ${s.p99} ms, ${refused} refused${step.correct ? '' : ', INCORRECT'} → ${step.ok ? 'meets' : 'misses'} p99 < ${slo} ms`,
    );
    return step;
  };
  // Up from the start rate until a step misses; when the very first misses, down until one meets.
  let rate = Math.max(MIN_RATE, Math.round(o.startRate));
  let direction: 1 | -1 | undefined;
  for (let i = 0; i < o.maxSteps; i++) {
    const step = await measure(rate, i);
    steps.push(step);
    direction ??= step.ok ? 1 : -1;
    if (direction === 1 ? !step.ok : step.ok) break;
    const next = Math.round(direction === 1 ? rate * factor : rate / factor);
    if (next < MIN_RATE) break;
    rate = next;
  }
  steps.sort((a, b) => a.rate - b.rate);
  const firstMiss = steps.findIndex((s) => !s.ok);
  const met = firstMiss === -1 ? steps : steps.slice(0, firstMiss);
  return { target: o.target, sloP99Ms: slo, steps, highestRate: met.at(-1)?.rate ?? null, limitFound: firstMiss !== -1, problems };
}

export const capacityCorrect = (r: CapacityResult) => r.steps.every((s) => s.correct);

export function capacityTable(rs: CapacityResult[]): string[] {
  const n = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 1 });
  return [
    `| capacity at p99 < ${rs[0]?.sloP99Ms ?? 50} ms (seed replay, open loop) | arrival rate (req/s) | requests | answered (req/s) | p50 (ms) | p99 (ms) | refused | correct | meets |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
    ...rs.flatMap((r) =>
      r.steps.map(
        (s) =>
          `| ${r.target} | ${n(s.rate)} | ${n(s.requests)} | ${n(s.throughput)} | ${n(s.p50)} | ${n(s.p99)} | ${s.refused} | ${s.correct ? 'yes' : '**NO**'} | ${s.ok ? 'yes' : 'no'} |`,
      ),
    ),
    '',
    ...rs.map(
      (r) =>
        `Highest rate meeting the target, ${r.target}: ${r.highestRate === null ? 'none (the first step missed)' : `${r.limitFound ? '' : '≥ '}${n(r.highestRate)} req/s${r.limitFound ? '' : ' (every step met it: the limit lies higher)'}`}.`,
    ),
  ];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * SVG elements of a panel at (x, y), w × h: arrival rate (linear) against p50 (dashed) and p99
 * (solid) per target (log scale), with the target as a horizontal line.
 */
export function capacitySvgPanel(rs: CapacityResult[], x: number, y: number, w: number, h: number): string[] {
  const points = rs.flatMap((r) => r.steps);
  if (points.length === 0) return [];
  const slo = rs[0]!.sloP99Ms;
  const maxRate = Math.max(...points.map((p) => p.rate)) * 1.05;
  const maxMs = Math.max(slo * 2, ...points.map((p) => p.p99));
  const minMs = Math.max(0.5, Math.min(...points.map((p) => p.p50)) / 2);
  const px = (rate: number) => x + (rate / maxRate) * w;
  const py = (ms: number) => y + h - (Math.log10(Math.max(ms, minMs) / minMs) / Math.log10(maxMs / minMs)) * h;
  const colours = ['#d6336c', '#1c7ed6', '#2f9e44', '#f08c00'];
  const out = [
    `<text x="${x}" y="${y - 12}" font-weight="bold">capacity: seed replay arrival rate (req/s) against p50 (dashed) / p99 (solid), ms, log scale</text>`,
    `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="#ced4da"/>`,
    `<line x1="${x}" x2="${x + w}" y1="${py(slo).toFixed(1)}" y2="${py(slo).toFixed(1)}" stroke="#e03131" stroke-dasharray="2,3"/>`,
    `<text x="${x + w + 4}" y="${py(slo) + 4}" fill="#e03131">p99 target ${slo} ms</text>`,
    `<text x="${x}" y="${y + h + 14}">0</text>`,
    `<text x="${x + w}" y="${y + h + 14}" text-anchor="end">${Math.round(maxRate).toLocaleString('en-US')} req/s</text>`,
    `<text x="${x - 4}" y="${y + 10}" text-anchor="end">${Math.round(maxMs)}</text>`,
    `<text x="${x - 4}" y="${y + h}" text-anchor="end">${minMs.toFixed(1)}</text>`,
  ];
  rs.forEach((r, i) => {
    const c = colours[i % colours.length]!;
    const line = (pick: (s: CapacityStep) => number) => r.steps.map((s) => `${px(s.rate).toFixed(1)},${py(pick(s)).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${line((s) => s.p99)}" fill="none" stroke="${c}" stroke-width="2"/>`);
    out.push(`<polyline points="${line((s) => s.p50)}" fill="none" stroke="${c}" stroke-width="1.5" stroke-dasharray="5,3"/>`);
    for (const s of r.steps)
      out.push(`<circle cx="${px(s.rate).toFixed(1)}" cy="${py(s.p99).toFixed(1)}" r="3" fill="${s.ok ? c : '#fff'}" stroke="${c}"/>`);
    const best = r.highestRate === null ? 'none' : `${r.limitFound ? '' : '≥ '}${r.highestRate.toLocaleString('en-US')} req/s`;
    out.push(`<rect x="${x}" y="${y + h + 24 + i * 18}" width="12" height="12" fill="${c}"/>`);
    out.push(`<text x="${x + 18}" y="${y + h + 34 + i * 18}">${esc(`${r.target}: highest rate meeting the target ${best}`)}</text>`);
  });
  return out;
}

/** Height the panel needs below its top for its legend (one line per target). */
export const capacityPanelExtra = (rs: CapacityResult[]) => 40 + rs.length * 18;
