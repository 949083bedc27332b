import { isAmong, type UserGroupDirectory } from './access.js';
import type { BackgroundWork } from './background.js';
import { reportedDeviceStates } from './device-health.js';
import type { Clock, Device, Logger, Store } from './ports.js';
import type { ApprovalRule, SendGroup } from './send-group.js';
import type { SendRecord } from './send-record.js';
import { groupKey, homeOpenedKey, homeSendsKey, PENDING_LISTS, sendKey } from './store-keys.js';

/** How many of a person's sends their Home lists (the newest). */
export const HOME_RECENT_SENDS = 20;
/** How long after opening their Home a person's Home is still republished when a status changes. */
export const HOME_OPEN_MS = 10 * 60_000;
/** How many pending groups (or outbox sends) one Home reads at most: a bound on the store reads per open. */
const SCAN_LIMIT = 200;
/** A group's sends are read for its summary only up to this many recipients. */
const GROUP_SENDS_READ = 50;

/** One of my sends as the Home shows it: a single send, or a group with (some of) its sends. */
export type HomeItem = { kind: 'send'; send: SendRecord } | { kind: 'group'; group: SendGroup; sends: SendRecord[] };

/** A device and, when a session report is stored, since when it has been in that state. */
export interface HomeDevice {
  device: Device;
  since?: number;
}

/** Everything one person's Home shows, read from the store. */
export interface HomeSnapshot {
  userId: string;
  /** My latest sends, newest first. */
  mine: HomeItem[];
  /** Approval requests waiting for my decision, oldest first. */
  waiting: SendGroup[];
  /** For admins only: everyone's sends still pending and approval requests still open. */
  everyone?: { sends: SendRecord[]; approvals: SendGroup[] };
  /** The devices, or undefined when they could not be listed. */
  devices?: HomeDevice[];
}

/** Where a Home is shown (the chat adapter publishes it). */
export interface HomeSurface {
  show(home: HomeSnapshot): Promise<void>;
}

/**
 * The read model behind each person's Home: an index of their recent sends (written when a send or group is
 * claimed), the approvals waiting for them, device health and, for admins, everyone's open work. A Home opened in
 * the last `HOME_OPEN_MS` is shown again whenever one of the sends or requests it concerns is re-rendered.
 */
export class HomeFeed {
  /** People whose Home is being rebuilt now, and whether a change came in meanwhile (then it is rebuilt once more). */
  private readonly rebuilding = new Map<string, boolean>();
  /** People whose list of recent sends is being cut back now. */
  private readonly trimming = new Set<string>();

  constructor(
    private readonly deps: {
      store: Store;
      devices: { list(): Promise<Device[]> };
      /** Members of groups of people, for approvers named by group. */
      userGroups: UserGroupDirectory;
      surface: HomeSurface;
      clock: Clock;
      logger: Logger;
      /** Where refreshes run (shared by the services, so one `idle()` waits for all). */
      background: BackgroundWork;
      /** People who also see everyone's pending sends and approvals. */
      admins: readonly string[];
    },
  ) {}

  /**
   * A send or group was claimed for `userId`: list it in their Home, keeping the newest few, and show it (and a new
   * request to its approvers) in the Homes open now. Never throws: the Home is a view, and a claim that succeeded
   * must not look failed because of it.
   */
  async remember(userId: string, target: string, at: number, record?: SendRecord | SendGroup): Promise<void> {
    const { store, logger } = this.deps;
    try {
      await store.pendingAdd(homeSendsKey(userId), target, at);
      await this.trim(userId);
    } catch (error) {
      logger.warn({ err: error, target }, 'could not list a send in its Home');
    }
    this.changed(target, record); // after the list is written, so the Homes shown again list the new claim
  }

  /**
   * Keep a person's list to the newest HOME_RECENT_SENDS, letting it grow to twice that first so a busy sender costs
   * one removal run per HOME_RECENT_SENDS claims. One trim per person at a time in this process: claims listed
   * meanwhile are cut by the next one, so concurrent claims never each walk the whole excess.
   */
  private async trim(userId: string): Promise<void> {
    const { store } = this.deps;
    if (this.trimming.has(userId)) return;
    this.trimming.add(userId);
    try {
      const extra = (await store.pendingSize(homeSendsKey(userId))) - HOME_RECENT_SENDS;
      if (extra < HOME_RECENT_SENDS) return;
      for (const old of await store.pendingList(homeSendsKey(userId), extra)) {
        await store.pendingRemove(homeSendsKey(userId), old);
      }
    } finally {
      this.trimming.delete(userId);
    }
  }

  /** `userId` opened their Home: note it (so status changes show there for a while) and show it. */
  async open(userId: string): Promise<void> {
    await this.deps.store.set(homeOpenedKey(userId), this.deps.clock.now(), HOME_OPEN_MS);
    await this.deps.surface.show(await this.snapshot(userId));
  }

  /**
   * A sync target (a send key, or `group:<id>`) was re-rendered: show the Homes it concerns again, in the background.
   * `known` is its record when the caller holds it (saves reading it again).
   */
  changed(target: string, known?: SendRecord | SendGroup): void {
    const refresh = () => this.refreshConcerned(target, known);
    this.deps.background.run(refresh, { target }, 'could not update the Home of a send');
  }

  /** What `userId`'s Home shows now. */
  async snapshot(userId: string): Promise<HomeSnapshot> {
    const { store } = this.deps;
    const targets = (await store.pendingList(homeSendsKey(userId))).reverse().slice(0, HOME_RECENT_SENDS);
    const mine = (await Promise.all(targets.map((target) => this.item(target)))).filter((i): i is HomeItem => !!i);
    const pending = await this.pendingGroups();
    const waiting: SendGroup[] = [];
    for (const group of pending) {
      if (
        group.requestedBy !== userId &&
        (await isAmong(group.approval?.rule.approvers ?? [], userId, this.deps.userGroups))
      )
        waiting.push(group);
    }
    const home: HomeSnapshot = { userId, mine, waiting, devices: await this.devices() };
    if (this.deps.admins.includes(userId)) home.everyone = { sends: await this.pendingSends(), approvals: pending };
    return home;
  }

  private async item(target: string): Promise<HomeItem | undefined> {
    const { store } = this.deps;
    if (!target.startsWith('group:')) {
      const send = await store.get<SendRecord>(sendKey(target));
      return send && { kind: 'send', send };
    }
    const group = await store.get<SendGroup>(target);
    if (!group) return undefined;
    const keys = group.launched ? group.keys.slice(0, GROUP_SENDS_READ) : [];
    const sends = await Promise.all(keys.map((key) => store.get<SendRecord>(sendKey(key))));
    return { kind: 'group', group, sends: sends.filter((s): s is SendRecord => s !== undefined) };
  }

  /** Approval requests still open (pending, not past their deadline), oldest first. */
  private async pendingGroups(): Promise<SendGroup[]> {
    const { store, clock } = this.deps;
    const ids = await store.pendingList(PENDING_LISTS.groups, SCAN_LIMIT);
    const groups = await Promise.all(ids.map((id) => store.get<SendGroup>(groupKey(id))));
    return groups.filter((g): g is SendGroup => g?.approval?.state === 'pending' && clock.now() < g.approval.expiresAt);
  }

  /** Sends WAPing has not answered for good yet, oldest first. */
  private async pendingSends(): Promise<SendRecord[]> {
    const { store } = this.deps;
    const keys = await store.pendingList(PENDING_LISTS.outbox, SCAN_LIMIT);
    const sends = await Promise.all(keys.map((key) => store.get<SendRecord>(sendKey(key))));
    return sends.filter((s): s is SendRecord => s?.state === 'pending');
  }

  private async devices(): Promise<HomeDevice[] | undefined> {
    try {
      const devices = await this.deps.devices.list();
      const states = await reportedDeviceStates(
        this.deps.store,
        devices.map((d) => d.id),
      );
      return devices.map((device) => ({ device, since: states.get(device.id)?.at }));
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'could not list the devices for the Home');
      return undefined;
    }
  }

  /** The people a target's change concerns (requester, approvers, admins) whose Home is open: show it to them again. */
  private async refreshConcerned(target: string, known?: SendRecord | SendGroup): Promise<void> {
    const { store } = this.deps;
    const record =
      known ??
      (target.startsWith('group:') ? await store.get<SendGroup>(target) : await store.get<SendRecord>(sendKey(target)));
    if (!record) return;
    const people = new Set([record.requestedBy, ...this.deps.admins]);
    const rule: ApprovalRule | undefined = 'approval' in record ? record.approval?.rule : undefined;
    for (const id of rule?.approvers ?? []) {
      const members = await this.deps.userGroups.membersOf(id);
      for (const person of members.length > 0 ? members : [id]) people.add(person);
    }
    for (const person of people) {
      if ((await store.get(homeOpenedKey(person))) !== undefined) await this.rebuild(person);
    }
  }

  /** Show `userId`'s Home again; a change during a rebuild makes one more rebuild, not one per change. */
  private async rebuild(userId: string): Promise<void> {
    if (this.rebuilding.has(userId)) {
      this.rebuilding.set(userId, true);
      return;
    }
    this.rebuilding.set(userId, false);
    try {
      do {
        this.rebuilding.set(userId, false);
        await this.deps.surface.show(await this.snapshot(userId));
      } while (this.rebuilding.get(userId));
    } finally {
      this.rebuilding.delete(userId);
    }
  }
}
