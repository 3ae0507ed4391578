/**
 * The scenario catalogue shared by the Node driver (load/driver) and the k6 scripts (load/k6).
 * Nothing here may import Node or k6 modules.
 */
import { groups } from './groups';
import { hotSeat } from './hot-seat';
import { mixed } from './mixed';
import { SCENARIO_NAMES, type ScenarioName, type ScenarioPlan } from './plan';
import { seedReplay } from './seed-replay';
import { sellout } from './sellout';

export * from './plan';
export { capacityOf, seedLayout, zoneSeats } from './layout';

export const SIZES = ['test', 'quick', 'full'] as const;
export type Size = (typeof SIZES)[number];

/** Each scenario at three sizes: `test` for the jest suite, `quick` for CI, `full` for the report. */
const BUILDERS: Record<ScenarioName, Record<Size, () => ScenarioPlan>> = {
  'seed-replay': {
    test: () => seedReplay({ zones: 2, rows: 5 }),
    quick: () => seedReplay({ zones: 10 }),
    full: () => seedReplay({ zones: 100 }),
  },
  'hot-seat': {
    test: () => hotSeat({ buyers: 500 }),
    quick: () => hotSeat({ buyers: 2000 }),
    full: () => hotSeat({ buyers: 10_000 }),
  },
  groups: {
    test: () => groups({ zones: 1, rows: 4 }),
    quick: () => groups({ zones: 2 }),
    full: () => groups({ zones: 10 }),
  },
  sellout: {
    test: () => sellout({ zones: 1, remaining: 10, buyersPerZone: 300 }),
    quick: () => sellout({ zones: 2, remaining: 20, buyersPerZone: 1000 }),
    full: () => sellout({ zones: 2, remaining: 20, buyersPerZone: 5000 }),
  },
  mixed: {
    test: () => mixed({ zones: 2, requests: 1000 }),
    quick: () => mixed({ zones: 10, requests: 10_000 }),
    full: () => mixed({ zones: 100, requests: 50_000 }),
  },
};

export function isScenarioName(name: string): name is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(name);
}

export function buildScenario(name: ScenarioName, size: Size): ScenarioPlan {
  return BUILDERS[name][size]();
}
