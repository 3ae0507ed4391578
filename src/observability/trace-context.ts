import { context, propagation, ROOT_CONTEXT, SpanKind, trace, type Span } from '@opentelemetry/api';

/**
 * Carries the trace of a purchase across Kafka: the producer writes the W3C `traceparent`
 * into the message headers, and each consumer continues the same trace, so one purchase is
 * one trace from the API to the writer and the projector.
 */
export const tracer = trace.getTracer('ticketing');

/** Headers with the active trace context added (no-op when tracing is off). */
export function withTraceHeaders(headers: Record<string, string>): Record<string, string> {
  propagation.inject(context.active(), headers);
  return headers;
}

/**
 * Starts a consumer span whose parent is the trace in a message's headers. Consumers handle
 * messages in chunks, so each message gets its own span, ended when its chunk is durable.
 */
export function startConsumerSpan(name: string, headers: Readonly<Record<string, string>> | undefined): Span {
  return tracer.startSpan(name, { kind: SpanKind.CONSUMER }, propagation.extract(ROOT_CONTEXT, { ...headers }));
}
