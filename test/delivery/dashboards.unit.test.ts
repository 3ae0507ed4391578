import { listFiles, read, rel, type Doc } from './support/files';
import { collectExprs, defaultMetric, exportedMetricNames, promqlMetricNames } from './support/promql';

/** dashboards/*.json select only metrics the platform exports (docs/contracts.md) or Node's defaults. */
const metricNames = exportedMetricNames();

test(`dashboards: every PromQL metric is in docs/contracts.md (${metricNames.size} names) or process_/nodejs_`, () => {
  const p: string[] = [];
  const files = listFiles(rel('dashboards'), /\.json$/);
  if (!files.length) p.push('no dashboards');
  let exprs = 0;
  for (const f of files) {
    let dash: Doc;
    try {
      dash = JSON.parse(read(rel('dashboards', f)));
    } catch (e) {
      p.push(`${f}: ${(e as Error).message}`);
      continue;
    }
    if (!dash.uid || !dash.title || !Array.isArray(dash.panels)) p.push(`${f}: uid/title/panels missing`);
    const found: { where: string; expr: string }[] = [];
    collectExprs(dash, found);
    exprs += found.length;
    for (const { where, expr } of found) {
      const names = promqlMetricNames(expr);
      if (!names.length) p.push(`${f}${where}: no metric in ${expr}`);
      for (const n of names) if (!metricNames.has(n) && !defaultMetric(n)) p.push(`${f}${where}: unknown metric ${n}`);
    }
    const ids = dash.panels.map((x: Doc) => x.id);
    if (new Set(ids).size !== ids.length) p.push(`${f}: repeated panel ids`);
  }
  if (!exprs) p.push('no PromQL expressions found');
  expect(p).toEqual([]);
});

test('dashboards: overview has the required panels', () => {
  const all: { where: string; expr: string }[] = [];
  collectExprs(JSON.parse(read(rel('dashboards', 'ticketing-overview.json'))), all);
  const text = all.map((x) => x.expr).join('\n');
  const need: Record<string, RegExp> = {
    'purchase rate by outcome': /ticketing_purchase_attempts_total[\s\S]*outcome/,
    'conflicts by reason': /by \(reason\)[^\n]*ticketing_purchase_conflicts_total/,
    'purchase latency p50': /histogram_quantile\(0\.5,[^\n]*ticketing_purchase_duration_seconds_bucket/,
    'purchase latency p95': /histogram_quantile\(0\.95,[^\n]*ticketing_purchase_duration_seconds_bucket/,
    'purchase latency p99': /histogram_quantile\(0\.99,[^\n]*ticketing_purchase_duration_seconds_bucket/,
    'kafka produce latency': /ticketing_kafka_produce_duration_seconds_bucket/,
    'consumer lag': /ticketing_consumer_lag_messages/,
    'sold vs capacity': /ticketing_event_seats_sold[\s\S]*ticketing_event_seats_capacity/,
    'read-model lag': /ticketing_read_model_lag_seconds_bucket/,
    'audit drift': /ticketing_audit_drift_seats/,
    'HTTP rate': /ticketing_http_request_duration_seconds_count/,
    'queue length': /ticketing_queue_waiting/,
    'active admission sessions': /ticketing_queue_active_sessions/,
    'admissions per second': /rate\(ticketing_queue_admitted_total/,
    'waiting-time histogram': /histogram_quantile\([^\n]*ticketing_queue_wait_seconds_bucket/,
    '429s': /ticketing_rate_limited_total/,
  };
  expect(
    Object.entries(need)
      .filter(([, re]) => !re.test(text))
      .map(([n]) => `missing: ${n}`),
  ).toEqual([]);
});

test('dashboards: the metric-name extractor finds names and flags unknown ones', () => {
  const cases: [string, string[]][] = [
    [
      'histogram_quantile(0.99, sum by (le) (rate(ticketing_purchase_duration_seconds_bucket{namespace=~"$namespace"}[$__rate_interval])))',
      ['ticketing_purchase_duration_seconds_bucket'],
    ],
    ['sum(rate(a_total{x="y"}[5m])) / on(job) group_left(z) b_metric offset 5m > bool 2e-3', ['a_total', 'b_metric']],
  ];
  for (const [expr, want] of cases) expect(promqlMetricNames(expr).sort()).toEqual([...want].sort());
  expect(metricNames.has('ticketing_not_a_metric')).toBe(false);
});
