import type { Request, Response } from 'express';
import type { StoredResponse } from '../purchase/idempotency';

export const JSON_TYPE = 'application/json; charset=utf-8';
export const PROBLEM_JSON_TYPE = 'application/problem+json; charset=utf-8';

/**
 * Writes a JSON answer straight to Node's response: the same status, Content-Type (with the
 * charset Express adds) and Content-Length as Express's res.json/res.send, without their
 * per-call work (mime lookups, charset rewriting, freshness and HEAD checks) that a POST
 * answer does not need. The purchase routes answer every request through it (the profile in
 * docs/performance.md measured the difference).
 */
export function sendJsonText(res: Response, status: number, text: string, type: string = JSON_TYPE): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** A stored answer (idempotency replay or fresh): a problem keeps its type and gets this request's instance. */
export function sendStoredAnswer(res: Response, req: Request, answer: StoredResponse): void {
  if (answer.problem)
    sendJsonText(res, answer.status, JSON.stringify({ ...(answer.body as object), instance: req.originalUrl }), PROBLEM_JSON_TYPE);
  else sendJsonText(res, answer.status, JSON.stringify(answer.body));
}
