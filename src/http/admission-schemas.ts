import { z } from 'zod';

/*
 * The waiting room's answers (src/http/routes/queue.ts, docs/admission.md), as /openapi.json
 * documents them and test/purchase/openapi-responses.test.ts checks real answers against.
 */

const count = z.number().int().nonnegative();
const timestamp = z.iso.datetime({ offset: true });

const waiting = {
  queueId: z.string().meta({ description: 'Your place; GET /api/v1/events/{eventId}/queue/{queueId} follows it' }),
  position: count.meta({ description: '1 = next to be admitted; 0 once admitted' }),
  estimatedWaitSeconds: count.meta({
    description: 'From the measured admission rate (the latest admissions), or activeBuyers per sessionSeconds without enough history',
  }),
  prequeue: z
    .boolean()
    .optional()
    .meta({ description: 'Joined before the sales opening: the place is drawn at random among everyone who joined before it' }),
  opensAt: timestamp.optional().meta({ description: 'The sales opening, while it is ahead' }),
};

export const queueWaitingSchema = z.strictObject({ status: z.literal('WAITING'), ...waiting }).meta({ id: 'QueueWaiting' });
export const queueAdmittedSchema = z
  .strictObject({
    status: z.literal('ADMITTED'),
    queueId: z.string(),
    admissionToken: z.string().meta({
      description: 'Send as the Admission-Token header on holds and purchases of this event; a JWT bound to you, the event and the session',
    }),
    expiresAt: timestamp.meta({ description: 'When the admission session ends at the latest (sessionSeconds after admission)' }),
  })
  .meta({ id: 'QueueAdmitted' });
export const queueEndedSchema = z
  .strictObject({
    status: z.literal('ENDED'),
    queueId: z.string(),
    reason: z.enum(['purchased', 'holds-ended', 'timeout']).meta({
      description: 'The admission ended: the buyer bought, their holds ended, or the session timed out. Join again for a new place',
    }),
  })
  .meta({ id: 'QueueEnded' });
export const queueStatusSchema = z.union([queueWaitingSchema, queueAdmittedSchema, queueEndedSchema]);

/** The join answer: the place, and the admission when it came at once (an empty room). */
export const queueJoinSchema = z
  .strictObject({
    status: z.enum(['WAITING', 'ADMITTED']),
    ...waiting,
    admissionToken: z.string().optional(),
    expiresAt: timestamp.optional(),
  })
  .meta({ id: 'QueueJoin' });

export const admissionHeadersSchema = z.object({
  'admission-token': z.string().optional().meta({
    description: 'Queued events (admission.mode queue): the admissionToken of your admission; without a live one, 403 ADMISSION_REQUIRED',
  }),
});

export type QueueJoin = z.infer<typeof queueJoinSchema>;
export type QueueStatus = z.infer<typeof queueStatusSchema>;
