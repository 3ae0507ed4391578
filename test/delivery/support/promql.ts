import { contractTable, type Doc } from './files';

/** PromQL metric names in the dashboards, against the metric table of docs/contracts.md. */
const PROMQL_WORDS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'atan2',
  'inf',
  'nan',
  'Inf',
  'NaN',
]);

/** Metric names an expression selects (functions, keywords, label names, strings and ranges removed). */
export function promqlMetricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*(:[A-Za-z]+)?\}?/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\b[A-Za-z_][A-Za-z0-9_]*\s*\(/g, '(');
  const names = new Set<string>();
  for (const m of s.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const w = m[0];
    const before = s[m.index - 1];
    if (PROMQL_WORDS.has(w) || (before && /[0-9.]/.test(before))) continue;
    if (/^[0-9]/.test(w) || /^(e|E)[0-9]*$/.test(w)) continue;
    names.add(w);
  }
  return [...names];
}

/** The metric names of docs/contracts.md, with _bucket/_sum/_count for histograms and summaries. */
export function exportedMetricNames(): Set<string> {
  const rows = contractTable('Metric names (Prometheus)');
  if (!rows.length) throw new Error('no metrics in docs/contracts.md');
  const names = new Set<string>();
  for (const { name, col2 } of rows) {
    names.add(name);
    if (/histogram|summary/.test(col2)) for (const suf of ['_bucket', '_sum', '_count']) names.add(name + suf);
  }
  return names;
}
export const defaultMetric = (n: string) => /^(process|nodejs)_[a-z0-9_]+$/.test(n);

/** Every PromQL expression of a dashboard (panel targets and template-variable queries). */
export function collectExprs(node: Doc, out: { where: string; expr: string }[], where = ''): void {
  if (Array.isArray(node)) node.forEach((n, i) => collectExprs(n, out, `${where}[${i}]`));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'expr' && typeof v === 'string') out.push({ where: `${where}.expr`, expr: v });
      else if ((k === 'query' || k === 'definition') && typeof v === 'string' && /label_values|query_result|metrics\(/.test(v))
        out.push({
          where: `${where}.${k}`,
          expr: v.replace(/^label_values\(([^,)]+)(,[^)]*)?\)$/, '$1').replace(/^query_result\((.*)\)$/, '$1'),
        });
      else collectExprs(v, out, `${where}.${k}`);
    }
  }
}
