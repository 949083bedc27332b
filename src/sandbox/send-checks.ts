import { errorBody, type HttpAnswer } from './http.js';
import type { SandboxDevice, SandboxOutcome } from './types.js';

/* The checks of a send that end it before anything is sent: its key seen before, its device unusable. */

/** A send answered before: a replay with the same key and body gets the same answer. */
export interface StoredResponse {
  body: Buffer;
  status: number;
  response: string;
}

/** How a send ended early, and what it was answered. */
export interface EarlyEnd {
  outcome: SandboxOutcome;
  answer: HttpAnswer;
}

/** A key still in flight, or already answered: a replay of the same body, or a conflict with a different one. */
export function keySeenBefore(
  inFlight: boolean,
  stored: StoredResponse | undefined,
  body: Buffer,
): EarlyEnd | undefined {
  if (inFlight) {
    return {
      outcome: 'idempotency_in_flight',
      answer: {
        status: 409,
        body: errorBody('IDEMPOTENCY_IN_FLIGHT', 'A request with this idempotency key is still being processed'),
      },
    };
  }
  if (stored === undefined) return undefined;
  if (stored.body.equals(body))
    return { outcome: 'replayed', answer: { status: stored.status, body: stored.response } };
  return {
    outcome: 'idempotency_conflict',
    answer: {
      status: 409,
      body: errorBody('IDEMPOTENCY_CONFLICT', 'This idempotency key was used with a different request body'),
    },
  };
}

/** Why a send from this device is refused: unknown, or its WhatsApp session is disconnected. */
export function deviceRefusal(device: SandboxDevice | undefined): EarlyEnd | undefined {
  if (device === undefined) {
    return {
      outcome: 'unknown_device',
      answer: { status: 400, body: errorBody('UNKNOWN_DEVICE', 'No device with this id') },
    };
  }
  if (device.status === 'connected') return undefined;
  return {
    outcome: 'session_disconnected',
    answer: {
      status: 422,
      body: errorBody('SESSION_DISCONNECTED', 'The WhatsApp session of this device is disconnected; re-link it by QR'),
    },
  };
}
