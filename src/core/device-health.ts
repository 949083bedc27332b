import type { Clock, Logger, SendNotifier, Store } from './ports.js';
import { deviceKey } from './store-keys.js';
import { noTelemetry, type Telemetry } from './telemetry.js';

/** A device's session as WAPing last reported it (webhooks, or a send refused for a dropped session). */
export interface DeviceState {
  connected: boolean;
  /** When it was seen (WAPing's time for a webhook, ours for a send). */
  at: number;
  reason?: string;
  /**
   * `webhook`: WAPing said so; `send`: a send was refused for the session, or went through. The two
   * come from different clocks, so a webhook always beats a send-derived state, and among webhooks
   * the newer wins.
   */
  source?: 'webhook' | 'send';
}

/**
 * Device sessions, kept in the store so that every replica refuses a disconnected device, and the
 * ops channel gets one alert per change (not per redelivery, nor per replica).
 */
export class DeviceHealth {
  constructor(
    private readonly deps: {
      store: Store;
      notifier: Pick<SendNotifier, 'alertOps'>;
      clock: Clock;
      logger: Logger;
      nameOf: (deviceId: string) => Promise<string>;
      /** Told whenever a device's state changed, e.g. to drop cached device lists. */
      onChange?: (deviceId: string) => void;
      /** Counts session changes. */
      telemetry?: Telemetry;
    },
  ) {}

  /** Record a reported state; alerts once when it is a change. Returns whether it changed. */
  async report(deviceId: string, state: DeviceState): Promise<boolean> {
    let changed = false;
    await this.deps.store.update<DeviceState>(deviceKey(deviceId), (current) => {
      changed = false;
      const fromSend = state.source === 'send';
      if (current && !fromSend && current.source !== 'send' && current.at > state.at) return undefined; // stale
      changed = current === undefined ? !state.connected : current.connected !== state.connected;
      return state;
    });
    if (!changed) return false;
    (this.deps.telemetry ?? noTelemetry).deviceSessionChanged(state.connected);
    this.deps.onChange?.(deviceId);
    const name = await this.deps.nameOf(deviceId);
    this.deps.logger.warn({ deviceId, connected: state.connected }, 'device session changed');
    await this.deps.notifier.alertOps({
      kind: 'device-session',
      deviceName: name,
      connected: state.connected,
      ...(state.reason && !state.connected ? { reason: state.reason } : {}),
    });
    return true;
  }

  /** A send went out from the device: if it was marked disconnected, it is connected again. */
  async sawWorking(deviceId: string): Promise<void> {
    const state = await this.deps.store.get<DeviceState>(deviceKey(deviceId));
    if (state && !state.connected) {
      await this.report(deviceId, { connected: true, at: this.deps.clock.now(), source: 'send' });
    }
  }

  /** The last reported state of each device that has one. */
  states(deviceIds: string[]): Promise<Map<string, DeviceState>> {
    return reportedDeviceStates(this.deps.store, deviceIds);
  }
}

/**
 * The last reported state of each device that has one, read from the store. A function of its own so that the
 * device directory can read states without holding the DeviceHealth that alerts (which itself names devices
 * through the directory).
 */
export async function reportedDeviceStates(
  store: Pick<Store, 'get'>,
  deviceIds: string[],
): Promise<Map<string, DeviceState>> {
  const states = new Map<string, DeviceState>();
  for (const id of deviceIds) {
    const state = await store.get<DeviceState>(deviceKey(id));
    if (state) states.set(id, state);
  }
  return states;
}
