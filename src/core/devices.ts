import type { DeviceHealth } from './device-health.js';
import type { Clock, Device, Logger, WapingPort } from './ports.js';

export interface DeviceDirectoryOptions {
  /** Devices named in CONFIG_FILE; when non-empty, only these are offered. */
  configured: Array<{ id: string; name: string }>;
  defaultDeviceId?: string;
  /** How long WAPing's device list is trusted before it is fetched again. */
  cacheMs: number;
  /** How long a caller waits for WAPing's list before using the last known one (default 1.5 s). */
  waitMs?: number;
}

/**
 * The devices a person may pick, with their session state. WAPing's list is cached briefly; when
 * WAPing cannot be reached, configured devices are still offered (their state shown as unknown),
 * so an outage of the device list never blocks sending.
 */
export class DeviceDirectory {
  private cached?: { at: number; devices: Device[] };
  private inflight?: Promise<Device[] | undefined>;

  constructor(
    private readonly waping: Pick<WapingPort, 'listDevices'>,
    private readonly clock: Clock,
    private readonly options: DeviceDirectoryOptions,
    private readonly logger: Logger,
    private readonly health?: Pick<DeviceHealth, 'states'>,
  ) {}

  get defaultDeviceId(): string | undefined {
    return this.options.defaultDeviceId;
  }

  /**
   * The devices to offer, configured ones in their configured order. A session state reported by a
   * webhook (or a send refused for a dropped session) wins over WAPing's polled list: it is the
   * fresher news, and only a later report (`session.connected`) clears it.
   */
  async list(): Promise<Device[]> {
    const live = await this.live();
    const { configured } = this.options;
    const devices =
      configured.length === 0
        ? (live ?? [])
        : configured.map(({ id, name }) => {
            const seen = live?.find((device) => device.id === id);
            return { id, name, phone: seen?.phone, connected: seen?.connected ?? true, known: seen !== undefined };
          });
    if (!this.health) return devices;
    const reported = await this.health.states(devices.map((device) => device.id));
    return devices.map((device) => {
      const state = reported.get(device.id);
      return state ? { ...device, connected: state.connected, known: true } : device;
    });
  }

  /** One device by id, or undefined when it is not offered. */
  async find(id: string): Promise<Device | undefined> {
    return (await this.list()).find((device) => device.id === id);
  }

  /** Forget the cached list, e.g. after WAPing said a session dropped. */
  invalidate(): void {
    this.cached = undefined;
  }

  private async live(): Promise<Device[] | undefined> {
    const now = this.clock.now();
    if (this.cached && now - this.cached.at < this.options.cacheMs) return this.cached.devices;
    this.inflight ??= this.waping
      .listDevices()
      .then((devices) => {
        this.cached = { at: this.clock.now(), devices };
        return devices;
      })
      .catch((error: unknown) => {
        this.logger.warn({ err: error }, 'could not list WAPing devices; using the last known list');
        return this.cached?.devices;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    // Slack gives an interaction 3 seconds: past the wait, answer with what is known and let the
    // fetch finish in the background for the next caller.
    const waited = this.clock.sleep(this.options.waitMs ?? 1_500).then(() => this.cached?.devices);
    return Promise.race([this.inflight, waited]);
  }
}
