import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { RuntimeContext } from '../runtime/context';
import type { RoleHandle } from './role';

/** The writer role: Kafka → DynamoDB (the write model). */
export async function startWriter(ctx: RuntimeContext): Promise<RoleHandle> {
  return {
    name: 'writer',
    readiness: [{ name: 'dynamodb', check: () => ctx.dynamo.send(new ListTablesCommand({ Limit: 1 })) }],
    async stop() {},
  };
}
