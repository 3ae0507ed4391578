/**
 * OpenTelemetry tracing, on when OTEL_EXPORTER_OTLP_ENDPOINT is set. main.ts imports this
 * module first, so the HTTP and Express instrumentations patch those modules before anything
 * loads them. Without an endpoint nothing is loaded and the API's no-op tracer is used.
 * Its settings come from the typed configuration, read here already because main.ts has not
 * loaded it yet when this module runs.
 */
import type { NodeSDK } from '@opentelemetry/sdk-node';
import { loadProcessConfig, type Config } from '../config/config';

let sdk: NodeSDK | undefined;

/** The configuration, or undefined when it is invalid: main.ts then reports the ConfigError and exits. */
function settings(): Config | undefined {
  try {
    return loadProcessConfig(process.argv[2]);
  } catch {
    return undefined;
  }
}

function start(): void {
  const cfg = settings();
  const endpoint = cfg?.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!cfg || !endpoint) return;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK: SDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { OTLPTraceExporter } =
    require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { ExpressInstrumentation } =
    require('@opentelemetry/instrumentation-express') as typeof import('@opentelemetry/instrumentation-express');
  sdk = new SDK({
    serviceName: `${cfg.OTEL_SERVICE_NAME}-${cfg.ROLE}`,
    traceExporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` }),
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => /^\/(metrics|healthz|readyz)/.test(req.url ?? '') }),
      new ExpressInstrumentation(),
    ],
  });
  sdk.start();
}

start();

export async function shutdownTracing(): Promise<void> {
  await sdk?.shutdown().catch(() => undefined);
}
