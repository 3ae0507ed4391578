import type { RuntimeContext } from '../runtime/context';
import type { RoleHandle } from './role';

/** The projector role: Kafka → MySQL (the read model). */
export async function startProjector(ctx: RuntimeContext): Promise<RoleHandle> {
  return {
    name: 'projector',
    readiness: [{ name: 'mysql', check: () => ctx.mysql.query('SELECT 1') }],
    async stop() {},
  };
}
