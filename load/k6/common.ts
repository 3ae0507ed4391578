import { check } from 'k6';
import { SharedArray } from 'k6/data';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import type { Options } from 'k6/options';
import { allowedStatuses, buildScenario, SIZES, toHttp, type PlannedRequest, type ScenarioName, type Size } from '../scenarios';

/**
 * The k6 side of the load lab: the same plans as the Node driver (load/scenarios), sent by k6.
 * Environment: BASE_URL, EVENT_ID + VENUE_ID (an event with the seed layout; it must not
 * have sold anything yet for the exact checks), SIZE (test|quick|full), VUS, RATE (open loop).
 * The event-log and seat-set checks stay with the Node driver (npm run load); here every
 * answer must have an allowed status, the 201/409 counts must match the plan, and zones that
 * must sell out do.
 */
const BASE_URL = (__ENV.BASE_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const target = { eventId: __ENV.EVENT_ID ?? 'Event1', venueId: __ENV.VENUE_ID ?? 'Venue1' };
const VUS = Number(__ENV.VUS ?? 1000);
const RATE = __ENV.RATE ? Number(__ENV.RATE) : undefined;

const confirmed = new Counter('lab_confirmed');
const conflicts = new Counter('lab_conflicts');
const setupConfirmed = new Counter('lab_setup_confirmed');

function sizeOf(value: string | undefined): Size {
  const size = value ?? 'full';
  if (!(SIZES as readonly string[]).includes(size)) throw new Error(`SIZE must be one of ${SIZES.join(', ')}, got ${size}`);
  return size as Size;
}

function send(req: PlannedRequest) {
  const call = toHttp(req, target);
  const params = { tags: { route: req.route }, responseCallback: http.expectedStatuses(200, 201, 409) };
  return call.method === 'GET'
    ? http.get(`${BASE_URL}${call.path}`, params)
    : http.post(`${BASE_URL}${call.path}`, call.body ?? null, {
        ...params,
        headers: call.body ? { 'content-type': 'application/json' } : {},
      });
}

export function scenarioScript(name: ScenarioName) {
  if (__ENV.SCENARIO && __ENV.SCENARIO !== name)
    throw new Error(`SCENARIO=${__ENV.SCENARIO} but this script runs ${name}: run /scripts/${__ENV.SCENARIO}.js`);
  const size = sizeOf(__ENV.SIZE);
  // Built once (in the first VU) and shared read-only with the others.
  const requests = new SharedArray(`${name}-${size}-requests`, () => buildScenario(name, size).requests);
  const meta = new SharedArray(`${name}-${size}-meta`, () => {
    const plan = buildScenario(name, size);
    return [{ setup: plan.setup, expect: plan.expect, zones: plan.layout.zones.map((z) => z.zoneId) }];
  })[0] as { setup: PlannedRequest[]; expect: { confirmed?: number; conflicts?: number; soldOutZones?: string[] }; zones: string[] };
  const n = requests.length;

  const thresholds: NonNullable<Options['thresholds']> = { checks: ['rate==1'] };
  if (meta.expect.confirmed !== undefined) thresholds.lab_confirmed = [`count==${meta.expect.confirmed}`];
  if (meta.expect.conflicts !== undefined) thresholds.lab_conflicts = [`count==${meta.expect.conflicts}`];
  if (meta.setup.length > 0) thresholds.lab_setup_confirmed = [`count==${meta.setup.length}`];
  if (RATE) thresholds.dropped_iterations = ['count==0'];

  const options: Options = {
    scenarios: {
      [name]: RATE
        ? {
            executor: 'constant-arrival-rate',
            rate: RATE,
            timeUnit: '1s',
            duration: `${Math.ceil(n / RATE)}s`,
            preAllocatedVUs: VUS,
            maxVUs: VUS,
            gracefulStop: '60s',
          }
        : { executor: 'shared-iterations', vus: Math.min(VUS, n), iterations: n, maxDuration: '30m' },
    },
    thresholds,
    summaryTrendStats: ['avg', 'p(50)', 'p(90)', 'p(99)', 'max'],
    setupTimeout: '120s',
    teardownTimeout: '120s',
  };

  function setup() {
    for (const req of meta.setup) {
      const res = send(req);
      if (res.status === 201) setupConfirmed.add(1);
      check(res, { 'setup purchase confirmed': (r) => r.status === 201 });
    }
  }

  function iteration() {
    const i = exec.scenario.iterationInTest;
    if (i >= n) return;
    const req = requests[i] as PlannedRequest;
    const res = send(req);
    if (res.status === 201) confirmed.add(1);
    else if (res.status === 409) conflicts.add(1);
    check(res, { 'status allowed by the scenario': (r) => allowedStatuses(req).includes(r.status) });
  }

  function teardown() {
    for (const zoneId of meta.expect.soldOutZones ?? []) {
      const res = http.get(`${BASE_URL}/api/v1/events/${encodeURIComponent(target.eventId)}/zones/${encodeURIComponent(zoneId)}/seats`);
      check(res, { 'zone sold out at the end': (r) => r.status === 200 && (r.json('available') as number) === 0 });
    }
    if (meta.expect.confirmed !== undefined && !RATE) {
      const setupSeats = meta.setup.reduce((s, r) => s + r.seats.length, 0);
      const res = http.get(`${BASE_URL}/api/v1/tickets/count/${encodeURIComponent(target.eventId)}`);
      check(res, {
        'count endpoint equals the seats sold': (r) =>
          r.status === 200 && (r.json('total') as number) === setupSeats + (meta.expect.confirmed ?? 0),
      });
    }
  }

  return { options, setup, iteration, teardown };
}
