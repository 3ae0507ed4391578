/** k6 run load/k6/dist/hot-seat.js (after node load/k6/build.mjs); see load/k6/common.ts for the environment. */
import { scenarioScript } from './common';

const script = scenarioScript('hot-seat');
export const options = script.options;
export const setup = script.setup;
export const teardown = script.teardown;
export default script.iteration;
