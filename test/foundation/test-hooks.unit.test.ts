import { ConfigError, loadAdminConfig, loadConfig, loadProcessConfig } from '../../src/config/config';

describe('test-only fault hooks (src/config/test-hooks.ts)', () => {
  test('are off by default and kept apart from the production settings', () => {
    const cfg = loadConfig({});
    expect(cfg.testHooks).toEqual({
      FAULT_CRASH_AFTER_RESERVE: false,
      FAULT_CRASH_AFTER_BUYER_STEP: false,
      FAULT_CRASH_AFTER_CHARGE: false,
      FAULT_CRASH_AFTER_HOLD_CONVERT: false,
      FAULT_CRASH_AFTER_CANCEL_EVENT: false,
    });
    expect(Object.keys(cfg).filter((k) => k.startsWith('FAULT_'))).toEqual([]);
  });

  test('a test sets one by its variable name', () => {
    expect(loadConfig({ FAULT_CRASH_AFTER_RESERVE: 'true' }).testHooks.FAULT_CRASH_AFTER_RESERVE).toBe(true);
    expect(loadConfig({ FAULT_CRASH_AFTER_RESERVE: '1', NODE_ENV: 'test' }).testHooks.FAULT_CRASH_AFTER_RESERVE).toBe(true);
  });

  test('a bad value is reported with the other bad variables', () => {
    expect(() => loadConfig({ FAULT_CRASH_AFTER_RESERVE: 'maybe', PORT: 'x' })).toThrow(/PORT="x"[\s\S]*FAULT_CRASH_AFTER_RESERVE="maybe"/);
  });

  test('in production mode (NODE_ENV=production) every FAULT_* variable is refused, even one not known yet', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', FAULT_CRASH_AFTER_RESERVE: 'true' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production', FAULT_CRASH_AFTER_RESERVE: 'false' })).toThrow(
      /FAULT_CRASH_AFTER_RESERVE="false": test-only fault hook, refused in production mode/,
    );
    expect(() => loadConfig({ NODE_ENV: 'production', FAULT_SOMETHING_NEW: '1' })).toThrow(/FAULT_SOMETHING_NEW="1"/);
  });

  test('production mode without hooks loads, hooks off', () => {
    const cfg = loadConfig({ NODE_ENV: 'production', FAULT_CRASH_AFTER_RESERVE: '' });
    expect(cfg.NODE_ENV).toBe('production');
    expect(cfg.testHooks.FAULT_CRASH_AFTER_RESERVE).toBe(false);
  });
});

describe('process entry points read the configuration through src/config', () => {
  test('the role named on the command line wins over ROLE', () => {
    expect(loadProcessConfig('writer').ROLE).toBe('writer');
    expect(() => loadProcessConfig('cashier')).toThrow(/ROLE="cashier"/);
  });

  test('the admin CLI logs at warn unless LOG_LEVEL says otherwise', () => {
    expect(loadAdminConfig({}).LOG_LEVEL).toBe('warn');
    expect(loadAdminConfig({ LOG_LEVEL: 'debug' }).LOG_LEVEL).toBe('debug');
  });
});
