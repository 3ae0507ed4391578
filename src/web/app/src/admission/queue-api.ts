/** The waiting room's routes (docs/admission.md); the shapes are the API's schemas (type-only imports). */
import { call } from '../api';
import type { QueueJoin, QueueStatus } from '../../../../http/admission-schemas';
import { identity } from '../checkout/identity';

export type { QueueJoin, QueueStatus };

const seg = encodeURIComponent;

export const queueApi = {
  join: (eventId: string) =>
    call<QueueJoin>(`api/v1/events/${seg(eventId)}/queue`, { method: 'POST', headers: identity.headers(), cache: 'no-store' }),
  status: (eventId: string, queueId: string, signal?: AbortSignal) =>
    call<QueueStatus>(`api/v1/events/${seg(eventId)}/queue/${seg(queueId)}`, { headers: identity.headers(), cache: 'no-store', signal }),
};
