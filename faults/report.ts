/** The fault suite's table: one line per fault phase and a total, for the terminal and as Markdown. */
import { FIGURES, FIGURE_TITLES, type Figure, type PhaseFigures } from './figures';

export interface PhaseRecord {
  name: string;
  what: string;
  startedAt: number;
  /** When the fault was injected and how long until the platform said it recovered. */
  injectedAt?: number;
  recoveredMs?: number;
  error?: string;
}

export interface AuditSummary {
  clean: boolean;
  line: string;
}

export interface SuiteReport {
  startedAt: Date;
  durationMs: number;
  settings: Record<string, string | number>;
  phases: PhaseRecord[];
  figures: { phases: PhaseFigures[]; total: PhaseFigures };
  audit: AuditSummary;
  /** Waits that ran out (pending left, consumers behind, a fault that did not recover). */
  notes: string[];
  failed: boolean;
}

const GATED: Figure[] = FIGURES.filter((f) => f !== 'auditDrift');

export function isClean(total: PhaseFigures): boolean {
  return FIGURES.every((f) => total.problems[f].size === 0);
}

function cells(name: string, f: PhaseFigures, recovered: string): string[] {
  const i = f.info;
  return [
    name,
    String(i.requests),
    `${i.bought}/${i.nothing}/${i.unknown}`,
    String(i.retries),
    String(i.unknownOutcomes),
    recovered,
    ...FIGURES.map((k) => String(f.problems[k].size)),
  ];
}

const HEADERS = ['phase', 'requests', 'bought/nothing/unknown', 'retries', '503+id', 'recovered', ...FIGURES.map((f) => FIGURE_TITLES[f])];

function rows(r: SuiteReport): string[][] {
  const out = r.phases.map((p, i) =>
    cells(p.name, r.figures.phases[i]!, p.error ? 'NO' : p.recoveredMs === undefined ? '-' : `${(p.recoveredMs / 1000).toFixed(1)} s`),
  );
  out.push(cells('total', r.figures.total, r.phases.some((p) => p.error) ? 'NO' : ''));
  return out;
}

/** Fixed-width lines for the terminal. */
export function tableLines(r: SuiteReport): string[] {
  const all = [HEADERS, ...rows(r)];
  const widths = HEADERS.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  return all.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
}

/** The first few problems of each non-zero figure, so a failure says where to look. */
export function exampleLines(total: PhaseFigures, perFigure = 5): string[] {
  const lines: string[] = [];
  for (const f of FIGURES) {
    const set = total.problems[f];
    if (set.size === 0) continue;
    lines.push(`${FIGURE_TITLES[f]} (${set.size}):`);
    for (const k of [...set].sort().slice(0, perFigure)) lines.push(`  ${k}`);
    if (set.size > perFigure) lines.push(`  … and ${set.size - perFigure} more`);
  }
  return lines;
}

export function toMarkdown(r: SuiteReport): string {
  const md = (row: string[]) => `| ${row.join(' | ')} |`;
  return [
    `# Fault suite (\`npm run faults\`): ${r.failed ? 'FAILED' : 'all zeros, audit clean'}`,
    '',
    `Run ${r.startedAt.toISOString()}, ${(r.durationMs / 1000).toFixed(0)} s. ${Object.entries(r.settings)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
    md(HEADERS),
    md(HEADERS.map((_, i) => (i === 0 ? '---' : '---:'))),
    ...rows(r).map(md),
    '',
    `Audit (\`npm run admin -- audit\`, in-process): ${r.audit.line}`,
    '',
    'Columns: *bought/nothing/unknown* is what the buyers of the phase believe in the end (after polling every 503 that carried a purchase id); ' +
      '*503+id* counts unknown-outcome answers; the figures after *recovered* must all be 0 ' +
      `(${GATED.map((f) => FIGURE_TITLES[f]).join(', ')}, and the audit's drift attributed to the phase of the seat). See docs/faults.md.`,
    '',
    '## Phases',
    '',
    ...r.phases.map((p) => `- **${p.name}**: ${p.what}${p.error ? ` — did not recover: ${p.error}` : ''}`),
    ...(r.notes.length ? ['', '## Notes', '', ...r.notes.map((n) => `- ${n}`)] : []),
    ...(isClean(r.figures.total)
      ? []
      : ['', '## Problems (up to 200 of each figure)', '', '```', ...exampleLines(r.figures.total, 200), '```']),
    '',
  ].join('\n');
}
