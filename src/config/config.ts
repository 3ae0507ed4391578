import { z } from 'zod';
import { bool, parseVariables, port, url } from './fields';
import { parseTestHooks, type TestHooks } from './test-hooks';

/**
 * Typed configuration from environment variables: the one place the platform reads
 * `process.env`. Defaults point at the services that `npm run services:up` starts on loopback;
 * docs/contracts.md lists every variable. Test-only fault hooks are parsed apart
 * (test-hooks.ts) and refused in production mode.
 */
export const ROLES = ['api', 'writer', 'projector', 'controller', 'all'] as const;
export type Role = (typeof ROLES)[number];

/** `redis+cluster://host:port,host:port…`: the Redis Cluster's seed nodes as one URL (not WHATWG-parsable, hence its own rule). */
const CLUSTER_URL = /^redis\+cluster:\/\/[^,\s/]+:\d+(,[^,\s/]+:\d+)*\/?$/;

/** Where Redis is: one server (REDIS_URL), or a Redis Cluster's seed nodes (REDIS_CLUSTER_NODES or a redis+cluster:// REDIS_URL). */
export type RedisTarget = { kind: 'single'; url: string } | { kind: 'cluster'; nodes: { host: string; port: number }[] };

export function redisTarget(cfg: Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>): RedisTarget {
  const list =
    cfg.REDIS_CLUSTER_NODES ||
    (CLUSTER_URL.test(cfg.REDIS_URL) ? cfg.REDIS_URL.replace(/^redis\+cluster:\/\//, '').replace(/\/$/, '') : '');
  if (!list) return { kind: 'single', url: cfg.REDIS_URL };
  return {
    kind: 'cluster',
    nodes: list.split(',').map((hp) => {
      const at = hp.lastIndexOf(':');
      return { host: hp.slice(0, at), port: Number(hp.slice(at + 1)) };
    }),
  };
}

const schema = z
  .object({
    ROLE: z.enum(ROLES).default('all'),
    PORT: port.default(8080),
    /** api role only: Node cluster workers sharing PORT (1 = no cluster; on Kubernetes use replicas). */
    API_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
    METRICS_PORT: port.default(9464),
    /** One Redis, or a Redis Cluster as `redis+cluster://host:port,host:port…` (then REDIS_CLUSTER_NODES may stay empty). */
    REDIS_URL: z
      .union([url(['redis:', 'rediss:']), z.string().regex(CLUSTER_URL, 'must be redis+cluster://host:port[,host:port…]')])
      .default('redis://127.0.0.1:6390'),
    /** Redis Cluster seed nodes `host:port,…` (any of the masters or replicas); set = the ioredis Cluster client, REDIS_URL unused. */
    REDIS_CLUSTER_NODES: z
      .string()
      .regex(/^([^,\s]+:\d+(,[^,\s]+:\d+)*)?$/, 'must be host:port[,host:port…] or empty')
      .default(''),
    REDIS_KEY_PREFIX: z
      .string()
      .regex(/^[a-z0-9:_-]*$/, 'lowercase letters, digits, ":", "_" or "-"')
      .default('tp:'),
    KAFKA_BROKERS: z
      .string()
      .regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, 'must be host:port[,host:port…]')
      .default('127.0.0.1:9092'),
    KAFKA_CLIENT_ID: z.string().min(1).default('ticketing'),
    KAFKA_TOPIC_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" or "-"')
      .default('ticketing'),
    KAFKA_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(6),
    KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).max(7).default(1),
    KAFKA_MIN_INSYNC_REPLICAS: z.coerce.number().int().min(1).max(7).default(1),
    KAFKA_LINGER_MS: z.coerce.number().int().min(0).max(1000).default(1),
    KAFKA_MAX_BATCH: z.coerce.number().int().min(1).max(10000).default(1000),
    /** A produce batch's size bound in bytes (keys, values, headers, framing); below the broker's message.max.bytes (1 MiB by default). */
    KAFKA_MAX_BATCH_BYTES: z.coerce.number().int().min(16_384).max(100_000_000).default(900_000),
    KAFKA_PRODUCERS: z.coerce.number().int().min(1).max(16).default(2),
    /** The producer's client library: `platformatic` (@platformatic/kafka, the cheaper one) or `kafkajs`; consumers use kafkajs. */
    KAFKA_PRODUCER_CLIENT: z.enum(['platformatic', 'kafkajs']).default('platformatic'),
    DYNAMODB_ENDPOINT: z.union([url(['http:', 'https:']), z.literal('')]).default('http://127.0.0.1:8000'),
    DYNAMODB_TABLE_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/)
      .default('ticketing'),
    AWS_REGION: z.string().min(1).default('us-east-1'),
    MYSQL_URL: url(['mysql:', 'mariadb:']).default('mysql://root@127.0.0.1:3306/ticketing'),
    SEEDS_DIR: z.string().min(1).default('seeds'),
    CONTROLLER_SOURCE: z.enum(['file', 'cluster']).default('file'),
    WATCH_NAMESPACE: z.string().default(''),
    /** Cluster source (docs/controller.md): one kubeconfig file; empty = in-cluster or ~/.kube/config. */
    KUBECONFIG: z.string().default(''),
    CONTROLLER_RESYNC_MS: z.coerce.number().int().min(1000).max(3_600_000).default(30_000),
    /** Leader election of the cluster source's replicas; names as the Helm chart sets them. */
    LEADER_ELECTION: bool.default(true),
    LEADER_ELECTION_NAMESPACE: z.string().default(''),
    LEADER_ELECTION_LEASE_NAME: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a lowercase Kubernetes name')
      .max(253)
      .default('ticketing-controller'),
    LEADER_ELECTION_LEASE_DURATION_SECONDS: z.coerce.number().positive().max(3600).default(15),
    LEADER_ELECTION_RENEW_DEADLINE_SECONDS: z.coerce.number().positive().max(3600).default(10),
    LEADER_ELECTION_RETRY_PERIOD_SECONDS: z.coerce.number().positive().max(3600).default(2),
    /** The pod's name and namespace (downward API); the leader identity is `<POD_NAME>-<pid>`. */
    POD_NAME: z.string().default(''),
    POD_NAMESPACE: z.string().default(''),
    ADMIN_TOKEN: z.string().default(''),
    /** Who a buyer is (docs/checkout.md): `declared` trusts the request's userId (local runs, the seed load test); `jwt` needs a bearer JWT. */
    AUTH_MODE: z.enum(['declared', 'jwt']).default('declared'),
    /** jwt mode: the identity provider's JWKS (RS/PS/ES/EdDSA keys); empty = none. */
    AUTH_JWKS_URL: z.union([url(['http:', 'https:']), z.literal('')]).default(''),
    /** jwt mode, development: HS256 key (its UTF-8 bytes); empty = none. */
    AUTH_HS256_SECRET: secret('AUTH_HS256_SECRET'),
    /** jwt mode: the `iss` every token must carry; empty = not checked. */
    AUTH_ISSUER: z.string().default(''),
    /** jwt mode: an `aud` every token must carry; empty = not checked. */
    AUTH_AUDIENCE: z.string().default(''),
    /** Mounts `POST /api/v1/dev/token` (HS256 tokens for anyone): development only, refused in production mode. */
    AUTH_DEV_TOKENS: bool.default(false),
    /** HMAC-SHA256 key of `Payment-Signature` on `POST /api/v1/payments/webhook`; empty = every webhook is refused. */
    PAYMENT_WEBHOOK_SECRET: secret('PAYMENT_WEBHOOK_SECRET'),
    /**
     * The built-in `test` payment provider (Stripe-like test tokens: it takes no money). Unset or
     * empty: on, except in production mode (NODE_ENV=production), where it is off unless set to
     * true (a kind cluster runs the production image and opts in). Resolved in loadConfig.
     */
    PAYMENT_TEST_PROVIDER: z
      .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
      .optional()
      .transform((v) => (v === undefined || v === '' ? undefined : v === 'true' || v === '1' || v === 'yes')),
    MAX_SEATS_PER_PURCHASE: z.coerce.number().int().min(1).max(100).default(10),
    INVENTORY_BACKEND: z.enum(['redis', 'sql']).default('redis'),
    /** How long a seat seen taken is refused without asking Redis (0 = always ask). */
    RECENTLY_TAKEN_TTL_MS: z.coerce.number().int().min(0).max(60_000).default(2000),
    PURCHASE_TIMEOUT_MS: z.coerce.number().int().min(50).max(60000).default(5000),
    PENDING_RESEND_AFTER_MS: z.coerce.number().int().min(100).max(3_600_000).default(30000),
    SWEEP_INTERVAL_MS: z.coerce.number().int().min(50).max(600_000).default(5000),
    PURCHASE_RECORD_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .default(7 * 24 * 3600),
    IDEMPOTENCY_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .default(24 * 3600),
    MAX_BODY_BYTES: z.coerce.number().int().min(256).max(1_048_576).default(16_384),
    /** Holds (docs/purchase-state-machine.md, "Holds"): the expiry when a request names none (>= HOLD_MIN_SECONDS). */
    HOLD_DEFAULT_SECONDS: z.coerce.number().int().min(5).max(86_400).default(600),
    /** The longest a hold may live in total, extensions included (createdAt + this). */
    HOLD_MAX_SECONDS: z.coerce.number().int().min(5).max(86_400).default(7200),
    /** How often the hold sweeper returns expired holds' seats to sale (every api replica runs it). */
    HOLD_SWEEP_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(250),
    /** Live seat map (docs/live-seat-map.md): stream viewers one api process serves; more get 503 LIVE_VIEWERS_LIMIT. */
    LIVE_MAX_VIEWERS: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
    /** How often a zone's writer diffs it: at most one change event per zone per this many ms. */
    LIVE_COALESCE_MS: z.coerce.number().int().min(50).max(10_000).default(250),
    /** How often each api process reads the change logs of the zones its viewers watch. */
    LIVE_READ_INTERVAL_MS: z.coerce.number().int().min(10).max(5_000).default(100),
    LIVE_HEARTBEAT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
    /** Unsent bytes a viewer may have queued before it is dropped as too slow. */
    LIVE_MAX_BUFFER_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(64 * 1_048_576)
      .default(1_048_576),
    /** Change events a zone's log keeps: a viewer further behind resumes with a fresh snapshot. */
    LIVE_LOG_LENGTH: z.coerce.number().int().min(10).max(100_000).default(1000),
    /** How long a zone's change log outlives its last change. */
    LIVE_LOG_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .default(24 * 3600),
    /** The writer lease of a zone's change log: a dead writer is replaced after this long. */
    LIVE_LEASE_MS: z.coerce.number().int().min(300).max(60_000).default(3000),
    /** Admission tokens of the waiting room (docs/admission.md): HS256 key; empty = a random key made once in Redis and shared by every replica. */
    ADMISSION_TOKEN_SECRET: secret('ADMISSION_TOKEN_SECRET'),
    /** How often every api process moves each waiting room on: ends timed-out sessions and admits the next buyers. */
    ADMISSION_PUMP_INTERVAL_MS: z.coerce.number().int().min(20).max(10_000).default(250),
    /** How long an event's queue state outlives its last change. */
    ADMISSION_QUEUE_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(3600)
      .default(3 * 24 * 3600),
    /**
     * Rate limits (docs/admission.md, "Rate limits"): the routes limited, comma-separated, from
     * seed (POST /ticket, POST /api/v1/tickets), purchases, holds, queue; each may carry its own
     * settings as route=buyerPerSecond/buyerBurst/clientPerSecond/clientBurst. Empty = off.
     */
    RATE_LIMIT_ROUTES: z
      .string()
      .regex(
        /^((seed|purchases|holds|queue)(=\d+(\.\d+)?\/\d+\/\d+(\.\d+)?\/\d+)?(,(seed|purchases|holds|queue)(=\d+(\.\d+)?\/\d+\/\d+(\.\d+)?\/\d+)?)*)?$/,
        'must be a comma-separated list of seed, purchases, holds, queue, each optionally =buyerPerSecond/buyerBurst/clientPerSecond/clientBurst',
      )
      // A rate or burst of 0 would make the bucket's expiry infinite and the script fail open.
      .refine(
        (v) => v.split(',').every((item) => (item.split('=')[1] ?? '').split('/').every((n) => n === '' || Number(n) > 0)),
        'every rate and burst in RATE_LIMIT_ROUTES must be above 0 (leave a route out to turn its limit off)',
      )
      .default('purchases,holds,queue'),
    RATE_LIMIT_BUYER_PER_SECOND: z.coerce.number().positive().max(1_000_000).default(20),
    RATE_LIMIT_BUYER_BURST: z.coerce.number().int().min(1).max(1_000_000).default(40),
    RATE_LIMIT_CLIENT_PER_SECOND: z.coerce.number().positive().max(1_000_000).default(200),
    RATE_LIMIT_CLIENT_BURST: z.coerce.number().int().min(1).max(1_000_000).default(400),
    /** Proxy hops in front of the api whose X-Forwarded-For is trusted for the client address (Express `trust proxy`); 0 = the socket's address. */
    TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
    OTEL_EXPORTER_OTLP_ENDPOINT: z.union([url(['http:', 'https:']), z.literal('')]).default(''),
    OTEL_SERVICE_NAME: z.string().default('ticketing'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** After each reservation, WAIT for this many Redis replicas before the Kafka produce (0 = off); narrows the failover window, the fence covers it. */
    REDIS_WAIT_REPLICAS: z.coerce.number().int().min(0).max(5).default(0),
    /** The longest that WAIT blocks (a replica down): then the purchase goes on. */
    REDIS_WAIT_TIMEOUT_MS: z.coerce.number().int().min(1).max(1000).default(50),
    /** How often the controller's leader looks for zones fenced by a Redis restart or failover and re-marks them. */
    FENCE_CHECK_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(500),
    /**
     * The brokers' replica.lag.time.max.ms: how long a record the leader appended may stay
     * uncommitted behind a dead follower still in the ISR. The failover re-mark waits it out
     * (with KAFKA_REPLICATION_FACTOR > 1) before it takes the partition's end offset.
     */
    KAFKA_REPLICA_LAG_MAX_MS: z.coerce.number().int().min(0).max(600_000).default(30_000),
    /** How often the controller audits every event (0 = never). */
    AUDIT_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
    SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
    /**
     * The supervisor (`npm start`) runs the writer and projector at this niceness (0 = as the
     * api): on shared cores the buyer-facing api goes first and the consumers catch up when it
     * waits (docs/performance.md, "Default start").
     */
    SUPERVISOR_CONSUMER_NICE: z.coerce.number().int().min(0).max(19).default(10),
    /** api: after SIGTERM, /readyz answers 503 this long before the server closes (Kubernetes stops routing meanwhile). */
    SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).max(120_000).default(0),
    /** Only whether it is set counts: set, the AWS SDK's default chain signs; unset with DYNAMODB_ENDPOINT, dummy credentials (dynalite). */
    AWS_ACCESS_KEY_ID: z.string().default(''),
    /** `production` is production mode (the image sets it): test hooks are refused. */
    NODE_ENV: z.string().default(''),
  })
  .superRefine((c, ctx) => {
    // Rules across variables; each issue names the variable to fix.
    if (c.AUTH_MODE === 'jwt' && !c.AUTH_JWKS_URL && !c.AUTH_HS256_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_MODE'],
        message: 'jwt mode needs a key: set AUTH_JWKS_URL (production) or AUTH_HS256_SECRET (development)',
      });
    }
    if (c.AUTH_DEV_TOKENS && !c.AUTH_HS256_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_DEV_TOKENS'],
        message: 'dev tokens are signed with AUTH_HS256_SECRET: set it too, or unset AUTH_DEV_TOKENS',
      });
    }
    if (c.AUTH_DEV_TOKENS && c.NODE_ENV === 'production') {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_DEV_TOKENS'],
        message:
          'the dev token route mints a token for anyone: it is refused in production mode (NODE_ENV=production); unset AUTH_DEV_TOKENS',
      });
    }
    // The largest purchase record must fit one batch, or it would be reserved and never sent.
    const largestRecord = largestPurchaseRecordBytes(c.MAX_SEATS_PER_PURCHASE);
    if (c.KAFKA_MAX_BATCH_BYTES < largestRecord) {
      ctx.addIssue({
        code: 'custom',
        path: ['KAFKA_MAX_BATCH_BYTES'],
        message: `a purchase of MAX_SEATS_PER_PURCHASE=${c.MAX_SEATS_PER_PURCHASE} seats can take up to ${largestRecord} bytes; raise KAFKA_MAX_BATCH_BYTES to at least that (and the broker's max.message.bytes with it) or lower MAX_SEATS_PER_PURCHASE`,
      });
    }
  });

/**
 * An upper bound of one `TicketPurchased` record with its headers, from the id limits (ids of at
 * most 64 characters, user ids of 128, ticket ids of 150): about 1 KiB plus 256 bytes per seat.
 */
export const largestPurchaseRecordBytes = (seats: number) => 1024 + 256 * seats;

/** Variables whose values a configuration error must never print. */
const SECRET_VARIABLES = new Set(['ADMIN_TOKEN', 'AUTH_HS256_SECRET', 'PAYMENT_WEBHOOK_SECRET', 'ADMISSION_TOKEN_SECRET']);

/** A shared secret: empty (off), or at least 32 bytes of UTF-8, the size of the HMAC-SHA256 output (RFC 7518 §3.2). */
function secret(name: string) {
  return z
    .string()
    .default('')
    .refine(
      (v) => v === '' || Buffer.byteLength(v, 'utf8') >= 32,
      `${name} must be at least 32 bytes (UTF-8) or empty; generate one with \`openssl rand -hex 32\``,
    );
}

const isProduction = (nodeEnv: string) => nodeEnv === 'production';

/** The shortest `expiresInSeconds` a hold request may ask for (a contract of the holds API). */
export const HOLD_MIN_SECONDS = 5;

export type Config = Omit<z.infer<typeof schema>, 'PAYMENT_TEST_PROVIDER'> & {
  /** Whether buyers may pay with the built-in `test` provider (its default depends on NODE_ENV). */
  readonly PAYMENT_TEST_PROVIDER: boolean;
  /** Test-only fault hooks (test-hooks.ts): all off unless a test sets them; refused in production mode. */
  readonly testHooks: TestHooks;
};

export class ConfigError extends Error {}

/** Parses the environment; a bad value throws a ConfigError naming every bad variable at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const settings = parseVariables(schema, env);
  const hooks = parseTestHooks(env);
  const problems = [...settings.problems, ...hooks.problems];
  if (problems.length > 0 || !settings.data || !hooks.hooks) {
    const shown = (name: string) =>
      SECRET_VARIABLES.has(name) && env[name] ? `<secret, ${Buffer.byteLength(env[name], 'utf8')} bytes>` : JSON.stringify(env[name]);
    const lines = problems.map((p) => `  ${p.name}=${shown(p.name)}: ${p.message}`);
    throw new ConfigError(
      `Invalid configuration:\n${lines.join('\n')}\nFix or unset these environment variables (docs/contracts.md lists them all).`,
    );
  }
  if (settings.data.HOLD_DEFAULT_SECONDS > settings.data.HOLD_MAX_SECONDS) {
    throw new ConfigError(
      `Invalid configuration:\n  HOLD_DEFAULT_SECONDS=${settings.data.HOLD_DEFAULT_SECONDS} is above HOLD_MAX_SECONDS=${settings.data.HOLD_MAX_SECONDS}\nLower HOLD_DEFAULT_SECONDS or raise HOLD_MAX_SECONDS (docs/contracts.md).`,
    );
  }
  const { PAYMENT_TEST_PROVIDER, ...data } = settings.data;
  return { ...data, PAYMENT_TEST_PROVIDER: PAYMENT_TEST_PROVIDER ?? !isProduction(data.NODE_ENV), testHooks: hooks.hooks };
}

/** A role's process: the environment, with the role named on the command line (`main.js <role>`) over ROLE. */
export function loadProcessConfig(roleArgument: string | undefined): Config {
  return loadConfig(roleArgument === undefined ? process.env : { ...process.env, ROLE: roleArgument });
}

/**
 * The supervisor of `npm start` (src/supervise.ts): the variables checked once (a bad one is one
 * message, not one per role in a crash loop), and the environment its roles inherit. ROLE must be
 * unset: the supervisor runs every role, ROLE=<role> is one process (main.js).
 */
export function loadSupervisorConfig(env: NodeJS.ProcessEnv = process.env): { cfg: Config; roleEnv: NodeJS.ProcessEnv } {
  if (env.ROLE) {
    throw new ConfigError(
      `ROLE=${env.ROLE} names what one process runs: start it with node dist/src/main.js ${env.ROLE} (or ROLE=${env.ROLE} npm start); unset ROLE to run every role in its own process under the supervisor.`,
    );
  }
  return { cfg: loadConfig({ ...env, ROLE: 'all' }), roleEnv: env };
}

/** The admin CLI: the same variables, but LOG_LEVEL defaults to `warn` so its report is not drowned in logs. */
export function loadAdminConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return loadConfig({ LOG_LEVEL: 'warn', ...env });
}
