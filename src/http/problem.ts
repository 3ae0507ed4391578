import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { AdmissionRefused } from '../admission/admission';
import type { Logger } from '../observability/logger';
import { OutcomeError } from '../purchase/engine';
import { ApiError, problemBody } from '../shared/errors';
import { isRedisUnavailable } from '../shared/redis';
import { problemOf } from './outcomes';
import { PROBLEM_JSON_TYPE, sendJsonText } from './send-json';

export function sendProblem(res: Response, err: ApiError, instance?: string): void {
  sendJsonText(res, err.status, JSON.stringify(problemBody(err, instance)), PROBLEM_JSON_TYPE);
}

/** Maps body-parser and routing errors onto the error registry; anything unknown is a 500. */
export function problemHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.headersSent) return;
    sendProblem(res, toApiError(err, log), req.originalUrl);
  };
}

function toApiError(err: unknown, log: Logger): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof OutcomeError) return problemOf(err.outcome);
  if (err instanceof AdmissionRefused) return err.problem;
  const e = err as { type?: string; status?: number; message?: string };
  switch (e.type) {
    case 'entity.parse.failed':
      return new ApiError('MALFORMED_JSON', 'The body is not valid JSON; send a JSON object');
    case 'entity.too.large':
      return new ApiError('PAYLOAD_TOO_LARGE', 'The body is larger than the server accepts; send fewer seats per request');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as UTF-8 JSON');
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new ApiError('VALIDATION_FAILED', e.message ?? 'Bad request');
  }
  if (isRedisUnavailable(err)) {
    log.warn({ err }, 'Redis unavailable (a failover or restart?); answered 503');
    return new ApiError(
      'DEPENDENCY_UNAVAILABLE',
      'The seat store is failing over or out of reach; try again in a moment (a purchase answered this way reserved nothing)',
    );
  }
  log.error({ err }, 'unhandled error');
  return new ApiError('INTERNAL', 'Internal error; the server log has the details');
}

export const notFound: RequestHandler = (req, res) => {
  sendProblem(res, new ApiError('NOT_FOUND', `No route ${req.method} ${req.path}; /openapi.json lists the routes`), req.originalUrl);
};
