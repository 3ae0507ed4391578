import type { EventLog, LogRecord, NewRecord } from '../../src/stream/event-log';
import { uid, waitFor } from './env';

/**
 * Reads every record of a topic from the beginning with a throwaway consumer group, through the
 * platform's event-log seam, until `done(records)` holds or the deadline passes.
 */
export async function readRecords(
  eventLog: EventLog,
  topic: string,
  done: (records: LogRecord[]) => boolean,
  timeoutMs = 30000,
): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  // Right after a broker restarts, subscribing can fail on partitions it has not loaded yet
  // ("This server does not host this topic-partition"), so try again until the deadline.
  const reader = await waitFor(
    () =>
      eventLog.consume({
        groupId: uid(`reader-${topic}-`),
        topic,
        sessionTimeoutMs: 10000,
        onBatch: async (batch) => void records.push(...batch.records),
      }),
    `a reader subscribed to ${topic}`,
    timeoutMs,
    500,
  );
  try {
    await waitFor(() => done(records), `records on ${topic}`, timeoutMs, 100);
    return records;
  } finally {
    await reader.stop();
  }
}

/** The values (UTF-8) of every record of a topic, read as `readRecords` does. */
export async function readTopic(
  eventLog: EventLog,
  topic: string,
  done: (values: string[]) => boolean,
  timeoutMs = 30000,
): Promise<string[]> {
  const valuesOf = (records: LogRecord[]) => records.map((r) => r.value?.toString() ?? '');
  return valuesOf(await readRecords(eventLog, topic, (records) => done(valuesOf(records)), timeoutMs));
}

/** Appends records to a topic with acks=all, in order, on a producer of its own. */
export async function produceTo(eventLog: EventLog, topic: string, records: NewRecord[]): Promise<void> {
  const producer = await eventLog.openProducer();
  try {
    await producer.send(topic, records);
  } finally {
    await producer.close();
  }
}
