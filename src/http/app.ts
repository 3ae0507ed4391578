import express, { type Express, type RequestHandler } from 'express';
import { metrics } from '../observability/metrics';
import type { Logger } from '../observability/logger';
import { ApiError } from '../shared/errors';
import { healthRoutes, type ReadinessCheck } from './health';
import { notFound, problemHandler, sendProblem } from './problem';
import { keepRawBody } from './raw-body';

export interface AppOptions {
  log: Logger;
  maxBodyBytes: number;
  readiness: () => ReadinessCheck[];
  isShuttingDown: () => boolean;
  routers: express.Router[];
  /** Proxy hops whose X-Forwarded-For names the client (TRUST_PROXY_HOPS; the rate limits' client address). */
  trustProxyHops?: number;
  /** Static files (the web seat map) served at `/`, when built. */
  staticDir?: string;
}

/** Records every request's duration under its route pattern (never the raw path: bounded labels). */
const timing: RequestHandler = (req, res, next) => {
  const stop = metrics.httpDuration.startTimer({ method: req.method });
  res.on('finish', () => {
    const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
    stop({ route, status_code: String(res.statusCode) });
  });
  next();
};

/** A body that is present must be JSON; routes without a body (the prototype's query route) pass. */
const jsonOnly: RequestHandler = (req, res, next) => {
  const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
  if (hasBody && !req.is('application/json') && !req.is('+json')) {
    return sendProblem(res, new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Send the body with Content-Type: application/json'), req.originalUrl);
  }
  next();
};

export function createApp(opts: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (opts.trustProxyHops) app.set('trust proxy', opts.trustProxyHops);
  app.use(timing);
  app.use(healthRoutes(opts.readiness, opts.isShuttingDown));
  app.post('/bench/noop', (_req, res) => void res.status(201).json({ ok: true }));
  if (opts.staticDir) {
    // Hashed assets may be cached; index.html must be revalidated so a new build reaches browsers.
    app.use(
      express.static(opts.staticDir, {
        index: 'index.html',
        maxAge: '1h',
        setHeaders: (res, file) => file.endsWith('.html') && res.setHeader('cache-control', 'no-cache'),
      }),
    );
  }
  app.use(jsonOnly);
  // keepRawBody: the payment webhook verifies its signature over the exact bytes (raw-body.ts).
  app.use(express.json({ limit: opts.maxBodyBytes, strict: true, type: ['application/json', 'application/*+json'], verify: keepRawBody }));
  for (const router of opts.routers) app.use(router);
  app.use(notFound);
  app.use(problemHandler(opts.log));
  return app;
}
