import type { Kafka } from 'kafkajs';
import { waitFor } from './env';

/**
 * Reads every message of a topic from the beginning with a throwaway consumer group, until
 * `done(messages)` holds or the deadline passes.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  done: (values: string[]) => boolean,
  timeoutMs = 30000,
): Promise<string[]> {
  const values: string[] = [];
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Date.now()}`, sessionTimeout: 10000 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value?.toString() ?? '') });
    await waitFor(() => done(values), `messages on ${topic}`, timeoutMs, 100);
    return values;
  } finally {
    await consumer.disconnect();
  }
}
