import { QueryCommand, DynamoDBClient, CreateTableCommand, DeleteTableCommand, DescribeTableCommand, BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { execSync } from 'node:child_process';
const port = process.argv[2], dir = process.argv[3], mode = process.argv[4] ?? 'drop';
const c = new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const size = () => execSync(`du -sm ${dir}`).toString().split('\t')[0];
const N = Number(process.argv[5] ?? 40000);
async function active(t) { for (;;) { try { const o = await c.send(new DescribeTableCommand({ TableName: t })); if (o.Table.TableStatus === 'ACTIVE') return; } catch {} await new Promise(r => setTimeout(r, 100)); } }
async function gone(t) { for (;;) { try { await c.send(new DescribeTableCommand({ TableName: t })); } catch { return; } await new Promise(r => setTimeout(r, 100)); } }
const def = (t) => ({ TableName: t, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }, { AttributeName: 'e', AttributeType: 'S' }, { AttributeName: 'u', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], GlobalSecondaryIndexes: [{ IndexName: 'aaa', KeySchema: [{ AttributeName: 'e', KeyType: 'HASH' }, { AttributeName: 'id', KeyType: 'RANGE' }], Projection: { ProjectionType: 'ALL' } }, { IndexName: 'bbb', KeySchema: [{ AttributeName: 'u', KeyType: 'HASH' }, { AttributeName: 'id', KeyType: 'RANGE' }], Projection: { ProjectionType: 'ALL' } }] });
async function batches(t, reqs) { const chunks = []; for (let i = 0; i < reqs.length; i += 25) chunks.push(reqs.slice(i, i + 25)); let k = 0; await Promise.all(Array.from({ length: 8 }, async () => { while (k < chunks.length) { let items = chunks[k++]; while (items.length) { const o = await c.send(new BatchWriteItemCommand({ RequestItems: { [t]: items } })); items = o.UnprocessedItems?.[t] ?? []; } } })); }
console.log('start MiB', size());
for (let cycle = 0; cycle < 5; cycle++) {
  const t = mode === 'drop' ? `exp-${cycle}` : 'exp';
  if (mode === 'drop' || cycle === 0) { await c.send(new CreateTableCommand(def(t))); await active(t); }
  let t0 = Date.now();
  await batches(t, Array.from({ length: N }, (_, i) => ({ PutRequest: { Item: { id: { S: `E1.z${i % 100}.abcdefghijklmnop.${i}` }, e: { S: 'E1' }, u: { S: `u${i}` }, p: { S: 'x'.repeat(300) } } } })));
  const put = Date.now() - t0; const afterPut = size();
  t0 = Date.now();
  if (mode === 'drop') { await c.send(new DeleteTableCommand({ TableName: t })); await gone(t); }
  else { if (mode === 'delete-q') { let start, pages = 0; do { const o = await c.send(new QueryCommand({ TableName: t, IndexName: 'aaa', KeyConditionExpression: 'e = :e', ExpressionAttributeValues: { ':e': { S: 'E1' } }, ...(start ? { ExclusiveStartKey: start } : {}) })); start = o.LastEvaluatedKey; pages++; } while (start); console.log('pages', pages); }
  await batches(t, Array.from({ length: N }, (_, i) => ({ DeleteRequest: { Key: { id: { S: `E1.z${i % 100}.abcdefghijklmnop.${i}` } } } }))); }
  const del = Date.now() - t0;
  console.log(`cycle ${cycle} put ${put}ms (${Math.round(N / put * 1000)}/s) MiB after put ${afterPut}; ${mode} ${del}ms; MiB after ${size()}`);
}
