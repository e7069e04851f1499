/**
 * The console's shared state: what the host last told us (session, telemetry, problems,
 * reasoning, recording) and the operator's actions on it. One instance per page.
 * High-rate streams stay outside reactivity: telemetry rows go into a ring buffer for the
 * plot and the newest row is published as `$state.raw` at most once per animation frame;
 * camera frames go straight to canvases through the frame pacer.
 */
import type {
  BoxGrid,
  ControlState,
  DatasetStatus,
  FramePacket,
  PolicyInfo,
  PolicySettings,
  ReasoningEvent,
  SessionSnapshot,
  Telemetry,
} from '../../../main/common/contract';
import { DEFAULT_POLICY_SETTINGS } from '../../../main/common/settings';
import type { ApiErrorData } from '../../../main/common/errors';
import type { ControlSource, JointInfo, Problem } from '../../../main/common/types';
import { type ConnectionState, type ConsoleApi, getApi } from './api';
import { errorData, errorMessage } from './errors';
import { FramePacer } from './framePacer';
import { type Axis, cartesianDelta, jogDelta } from './keymap';
import { TimeSeriesRing } from './ring';
import { type Sample, settingsChange, trimBefore } from './sparkline';

export interface Notice {
  id: number;
  severity: 'info' | 'warning' | 'error';
  message: string;
  timeMs: number;
  /** How many times it was raised (merged duplicates). */
  count?: number;
}

/** Seconds of joint history the plot shows by default. */
export const PLOT_WINDOW_S = 10;
/** Longest joint history the plot can show (the ring holds this much). */
export const PLOT_MAX_WINDOW_S = 30;
/** Seconds of timing history the sparklines show. */
export const TIMING_WINDOW_S = 60;

export type TimingSeries = 'step' | 'roundTrip' | 'acceptLength' | 'tokens' | 'controlHz' | 'shadowDelta';

/** Timing history for the sparklines (renderer clock, performance.now() ms). Not reactive: the view polls it. */
export class TimingHistory {
  readonly series: Record<TimingSeries, Sample[]> = { step: [], roundTrip: [], acceptLength: [], tokens: [], controlHz: [], shadowDelta: [] };
  markers: { timeMs: number; label: string }[] = [];
  private lastSettings: PolicySettings | undefined;
  private lastHzAt = -Infinity;
  private lastDeltaAt = -Infinity;

  /** Shadow mode: the largest |policy − operator| over the body joints (degrees), at most 5 samples a second. */
  addDisagreement(delta: readonly number[] | undefined, bodyJoints: readonly boolean[], now: number): void {
    if (now - this.lastDeltaAt < 200) return;
    this.lastDeltaAt = now;
    const v = delta === undefined ? Number.NaN : Math.max(0, ...delta.filter((_, i) => bodyJoints[i] === true).map(Math.abs));
    this.series.shadowDelta.push({ timeMs: now, value: v });
    this.trim(now);
  }

  addTiming(t: NonNullable<ReasoningEvent['timing']>, now: number): void {
    const push = (k: TimingSeries, v: number | undefined): void => {
      if (v !== undefined && Number.isFinite(v)) this.series[k].push({ timeMs: now, value: v });
    };
    push('step', t.stepMs);
    push('roundTrip', t.totalMs);
    push('acceptLength', t.acceptanceLength);
    push('tokens', t.tokens);
    const change = settingsChange(this.lastSettings, t.settings);
    if (change !== '') this.markers.push({ timeMs: now, label: change });
    if (t.settings !== undefined) this.lastSettings = t.settings;
    this.trim(now);
  }

  addControlHz(hz: number, now: number): void {
    if (now - this.lastHzAt < 500) return;
    this.lastHzAt = now;
    this.series.controlHz.push({ timeMs: now, value: hz });
    this.trim(now);
  }

  private trim(now: number): void {
    const since = now - TIMING_WINDOW_S * 1000;
    for (const k of Object.keys(this.series) as TimingSeries[]) this.series[k] = trimBefore(this.series[k], since);
    this.markers = trimBefore(this.markers, since);
  }
}

type FrameSink = (f: FramePacket) => boolean;

export class ConsoleStore {
  readonly api: ConsoleApi;

  connection = $state.raw<ConnectionState>({ phase: 'connecting', attempts: 0, opens: 0 });
  session = $state.raw<SessionSnapshot | null>(null);
  telemetry = $state.raw<Telemetry | null>(null);
  problems = $state.raw<Problem[]>([]);
  reasoning = $state.raw<ReasoningEvent | null>(null);
  lastTiming = $state.raw<ReasoningEvent['timing'] | undefined>(undefined);
  /** The last complete VISIBLE OBJECTS with its grid (kept while the next step streams its fields). */
  boxes = $state.raw<{ text: string; grid: BoxGrid } | null>(null);
  /** When the last reasoning event arrived (performance.now()). */
  reasoningAt = $state(0);
  /** Timing history for the sparklines (not reactive). */
  readonly timingHistory = new TimingHistory();
  /** Joint plot controls. */
  plotPaused = $state(false);
  plotWindowS = $state(PLOT_WINDOW_S);
  plotHidden = $state.raw<Record<number, boolean>>({});
  recording = $state.raw<DatasetStatus | null>(null);
  policies = $state.raw<PolicyInfo[]>([]);
  settings = $state.raw<PolicySettings>({ ...DEFAULT_POLICY_SETTINGS });
  notices = $state.raw<Notice[]>([]);
  selectedJoint = $state(0);
  selectedPolicy = $state('');
  taskText = $state('');
  helpOpen = $state(false);
  /** The open episode review's keyboard controls (keymap: → / ← step, P play/pause, X close); undefined when none is open. */
  review = $state<{ step(direction: 1 | -1, coarse: boolean): void; togglePlay(): void; close(): void } | undefined>(undefined);
  robotOpen = $state(false);
  recordOpen = $state(false);
  /** Bumped whenever the episode list may have changed (the recording panel refetches). */
  episodesVersion = $state(0);
  /** Bumped when the ring buffer is replaced (joint set or rate changed). */
  ringVersion = $state(0);
  busy = $state.raw<Record<string, boolean>>({});
  /** Recording flow as in lerobot-record: auto-end an episode after this many seconds (0 = end with →). */
  episodeLimitSeconds = $state(0);
  /** Reset period between episodes; the next episode starts by itself when it ends (0 = start with →). */
  resetSeconds = $state(0);
  /** When the running reset period ends (Date.now() ms). */
  resetUntil = $state<number | undefined>(undefined);
  /** The gamepad in use (id string), when one is connected. */
  gamepad = $state<string | undefined>(undefined);

  /** Joint history: per row [positions…, goals…]. Not reactive. */
  ring: TimeSeriesRing = new TimeSeriesRing(600, 12);

  private readonly sinks = new Map<string, FrameSink>();
  private readonly pacer: FramePacer;
  private pendingTelemetry: Telemetry | undefined;
  private telemetryRaf: number | undefined;
  private noticeId = 1;
  private resetTimer: ReturnType<typeof setTimeout> | undefined;
  private limitTimer: ReturnType<typeof setTimeout> | undefined;
  private started = false;

  constructor(api: ConsoleApi = getApi()) {
    this.api = api;
    this.pacer = new FramePacer({
      schedule: (cb) => requestAnimationFrame(cb),
      cancel: (h) => cancelAnimationFrame(h),
      draw: (f) => {
        const sink = this.sinks.get(f.camera);
        return sink !== undefined ? sink(f) : false;
      },
      ack: (camera) => this.api.send('frameAck', { camera }),
    });
  }

  // ---- derived views ----

  get joints(): JointInfo[] {
    return this.session?.robot.joints ?? [];
  }
  get source(): ControlSource {
    return this.telemetry?.source ?? this.session?.source ?? 'hold';
  }
  /** The indicator's state: the host's own (with the hold reason), else derived from the source. */
  get control(): ControlState {
    const c = this.telemetry?.control;
    if (c !== undefined && !(this.estop && c.mode !== 'estop')) return c;
    const s = this.source;
    if (s === 'estop' || this.estop) return { mode: 'estop', reason: 'e-stop engaged' };
    return s === 'hold' && this.latched ? { mode: 'hold', latched: true } : { mode: s };
  }
  /**
   * Why the reasoning shown is not what the arm is executing (undefined when it is): the operator
   * or the e-stop commands the arm, the policy stopped, or reasoning is turned off.
   */
  get reasoningStale(): string | undefined {
    if (this.reasoning === null) return undefined;
    const running = this.session?.policy.running ?? false;
    if (!running) return 'no policy running';
    const m = this.control.mode;
    if (m === 'estop') return 'e-stop engaged';
    if (m === 'operator') return 'operator in control: the policy plans in shadow, not executed';
    if (m === 'hold') return `arm holds${this.control.reason !== undefined ? `: ${this.control.reason}` : ''}`;
    if (m === 'replay' || m === 'approach') return 'a replay drives the arm';
    const isVla = this.session?.policy.id !== undefined && this.session.policy.id !== 'expert';
    if (isVla && !this.settings.reasoning) return 'reasoning is turned off: these fields are from before';
    return undefined;
  }
  get estop(): boolean {
    return this.telemetry?.estop ?? this.session?.estop ?? false;
  }
  /** The host holds the arm until an explicit ▶ Start, Hand back or jog (after an e-stop release or a lost operator). */
  get latched(): boolean {
    return this.telemetry?.latched ?? this.session?.latched ?? false;
  }
  get datasetOpen(): boolean {
    return this.recording !== null;
  }
  get connected(): boolean {
    return this.connection.phase === 'open';
  }

  // ---- lifecycle ----

  start(): void {
    if (this.started) return;
    this.started = true;
    const api = this.api;
    api.onConnection((s) => {
      const wasOpen = this.connection.phase === 'open';
      this.connection = s;
      if (s.phase === 'open' && !wasOpen) void this.refresh();
    });
    api.onServerError((e) => this.notifyError(e));
    api.on('session', (s) => this.applySession(s));
    api.on('telemetry', (t) => this.onTelemetry(t));
    api.on('problems', (p) => {
      this.problems = p;
    });
    api.on('reasoning', (r) => {
      this.reasoning = r;
      this.reasoningAt = performance.now();
      const vo = r.fields.visibleObjects;
      if (!r.partial && r.grid !== undefined && vo !== undefined) this.boxes = { text: vo, grid: r.grid };
      if (r.timing !== undefined) {
        this.lastTiming = r.timing;
        this.timingHistory.addTiming(r.timing, this.reasoningAt);
      }
    });
    api.on('recording', (d) => {
      const was = this.recording;
      this.recording = d;
      if (was === null || was.episodes !== d.episodes || was.recording !== d.recording) this.episodesVersion++;
    });
    api.on('frame', (f) => this.pacer.push(f));
  }

  /** Reloads everything the host knows (on first connect and after every reconnect). */
  async refresh(): Promise<void> {
    try {
      const s = await this.api.invoke('session.get', {});
      this.applySession(s);
      // kick each camera's stream: a frame lost in a reconnect would otherwise wait for an ack forever
      for (const c of s.cameras) this.api.send('frameAck', { camera: c.key });
    } catch (e) {
      this.notify('error', `Could not load the session: ${errorMessage(e)}`);
    }
    try {
      const list = await this.api.invoke('policy.list', {});
      this.policies = list;
      if (this.selectedPolicy === '' || !list.some((p) => p.id === this.selectedPolicy)) {
        const running = this.session?.policy.id;
        const first = list.find((p) => p.id === running) ?? list.find((p) => p.valid) ?? list[0];
        this.selectedPolicy = first?.id ?? '';
      }
    } catch (e) {
      this.notify('error', `Could not list policies: ${errorMessage(e)}`);
    }
    try {
      this.recording = await this.api.invoke('dataset.status', {});
    } catch (e) {
      this.notify('warning', `Could not read the recorder's status: ${errorMessage(e)}`);
    }
  }

  applySession(s: SessionSnapshot): void {
    const prev = this.session;
    this.session = s;
    if (prev !== null && prev.instance !== s.instance) this.onHostRestart(s);
    this.problems = s.problems;
    if (s.policy.settings !== undefined) this.settings = s.policy.settings;
    if (s.dataset !== undefined) this.recording = s.dataset;
    if (this.taskText === '' || (prev?.sim !== undefined && this.taskText === prev.sim.instruction)) {
      this.taskText = s.policy.task ?? s.sim?.instruction ?? this.taskText;
    }
    const width = s.robot.joints.length * 2;
    const capacity = Math.max(64, Math.ceil(s.rateHz * (PLOT_MAX_WINDOW_S + 2)));
    if (this.ring.width !== width || this.ring.capacity !== capacity) {
      this.ring = new TimeSeriesRing(capacity, width);
      this.ringVersion++;
    }
    if (this.selectedJoint >= s.robot.joints.length) this.selectedJoint = 0;
  }

  /** The host restarted under us: nothing it had survives; say so, and show what it has now. */
  private onHostRestart(s: SessionSnapshot): void {
    this.reasoning = null;
    this.boxes = null;
    this.lastTiming = undefined;
    this.ring.clear();
    this.notify(
      'warning',
      `The host restarted: the arm, policy and recorder restarted with it. Policy now: ${s.policy.running ? (s.policy.id ?? 'running') : 'none'}; dataset: ${s.dataset !== undefined ? s.dataset.repoId : 'none open'}.`,
    );
    // the reconnect that brought this snapshot reloads the policy list and the recorder's status
  }

  /** Cancels a policy start that is still loading. */
  async cancelPolicyLoad(): Promise<void> {
    await this.act('cancel-load', () => this.api.invoke('policy.cancelLoad', {}));
  }

  private onTelemetry(t: Telemetry): void {
    const n = this.ring.width / 2;
    const row = new Float64Array(this.ring.width);
    for (let i = 0; i < n; i++) {
      row[i] = t.positions[i] ?? Number.NaN;
      row[n + i] = t.goal[i] ?? Number.NaN;
    }
    const last = this.ring.lastTime;
    if (last !== undefined && t.timeMs < last) this.ring.clear(); // host restarted its clock
    this.ring.push(t.timeMs, row);
    if (t.stats.achievedHz > 0) this.timingHistory.addControlHz(t.stats.achievedHz, performance.now());
    if (t.plan !== undefined) this.timingHistory.addDisagreement(t.plan.disagreement, this.joints.map((j) => j.unit === 'deg'), performance.now());
    this.pendingTelemetry = t;
    if (this.telemetryRaf === undefined) {
      this.telemetryRaf = requestAnimationFrame(() => {
        this.telemetryRaf = undefined;
        if (this.pendingTelemetry !== undefined) this.telemetry = this.pendingTelemetry;
        this.pendingTelemetry = undefined;
      });
    }
  }

  registerCamera(key: string, sink: FrameSink): () => void {
    this.sinks.set(key, sink);
    return () => {
      if (this.sinks.get(key) === sink) this.sinks.delete(key);
    };
  }

  cameraStats(key: string): { drawn: number; replaced: number } {
    return this.pacer.statsFor(key);
  }

  // ---- notices (client-side errors; the host's own problems come as 'problems' events) ----

  notify(severity: Notice['severity'], message: string): void {
    const ttl = severity === 'error' ? 12_000 : 6_000;
    // the same notice again (a key held on a refused action, a retry) merges into the one shown
    const same = this.notices.find((x) => x.severity === severity && x.message === message);
    if (same !== undefined) {
      const merged: Notice = { ...same, count: (same.count ?? 1) + 1, timeMs: Date.now() };
      this.notices = this.notices.map((x) => (x.id === same.id ? merged : x));
      clearTimeout(this.noticeTimers.get(same.id));
      this.noticeTimers.set(same.id, setTimeout(() => this.dismiss(same.id), ttl));
      return;
    }
    const n: Notice = { id: this.noticeId++, severity, message, timeMs: Date.now() };
    this.notices = [...this.notices.slice(-4), n];
    this.noticeTimers.set(n.id, setTimeout(() => this.dismiss(n.id), ttl));
  }
  private readonly noticeTimers = new Map<number, ReturnType<typeof setTimeout>>();
  notifyError(e: ApiErrorData): void {
    this.notify('error', e.message);
  }
  dismiss(id: number): void {
    clearTimeout(this.noticeTimers.get(id));
    this.noticeTimers.delete(id);
    this.notices = this.notices.filter((n) => n.id !== id);
  }

  /** Runs an operator action, marking it busy and turning a failure into a notice. */
  async act<T>(label: string, fn: () => Promise<T>): Promise<T | undefined> {
    this.busy = { ...this.busy, [label]: true };
    try {
      return await fn();
    } catch (e) {
      const d = errorData(e);
      this.notify(d.code === 'cancelled' ? 'info' : 'error', d.message);
      return undefined;
    } finally {
      const { [label]: _, ...rest } = this.busy;
      this.busy = rest;
    }
  }

  // ---- safety and control ----

  setEstop(engaged: boolean): void {
    if (!this.connected) {
      this.notify('error', 'Not connected to the host: the e-stop command could not be sent. Use the hardware e-stop.');
      return;
    }
    this.api.send('estop', { engaged });
    // show it at once; the next telemetry confirms (or corrects) it. A release lands in HOLD, never in motion.
    if (this.telemetry !== null) this.telemetry = { ...this.telemetry, estop: engaged, source: engaged ? 'estop' : 'hold', latched: !engaged };
  }
  /** Release (reset) the e-stop: its own button and Shift+R, never Space/Esc. The arm then holds until ▶ Start, Hand back or a jog. */
  releaseEstop(): void {
    if (!this.estop) return;
    this.setEstop(false);
    this.notify('info', 'E-stop released. The arm holds where it stopped: press ▶ Start or Hand back (H), or jog, to move it again.');
  }
  handback(): void {
    if (this.estop) {
      // the host refuses it too; say so here at once rather than remembering it for the release
      this.notify('warning', 'Hand back refused: the e-stop is engaged. Release it first (Release button or Shift+R); the arm then holds until you hand back.');
      return;
    }
    this.api.send('handback', {});
  }
  selectJoint(index: number): void {
    if (index >= 0 && index < this.joints.length) this.selectedJoint = index;
  }
  jog(index: number, direction: 1 | -1, coarse: boolean): void {
    const j = this.joints[index];
    if (j === undefined) return;
    this.api.send('jog', { joint: j.name, delta: jogDelta(direction, coarse) });
  }
  jogCartesian(axis: Axis, direction: 1 | -1, coarse: boolean): void {
    this.api.send('jogCartesian', { axis, deltaM: cartesianDelta(direction, coarse) });
  }
  /** Jog by an explicit amount (gamepad): degrees or percent, metres. */
  jogBy(index: number, delta: number): void {
    const j = this.joints[index];
    if (j === undefined || delta === 0) return;
    this.api.send('jog', { joint: j.name, delta: Math.max(-20, Math.min(20, delta)) });
  }
  jogCartesianBy(axis: Axis, deltaM: number): void {
    if (deltaM === 0) return;
    this.api.send('jogCartesian', { axis, deltaM: Math.max(-0.05, Math.min(0.05, deltaM)) });
  }
  get gripperIndex(): number {
    const js = this.joints;
    const byName = js.findIndex((j) => j.name === 'gripper');
    return byName >= 0 ? byName : js.findIndex((j) => j.unit === 'percent');
  }

  // ---- policy and sim ----

  async startPolicy(): Promise<void> {
    const id = this.selectedPolicy;
    if (id === '') {
      this.notify('warning', 'Choose a policy first.');
      return;
    }
    const task = this.taskText.trim();
    const status = await this.act('policy', () => this.api.invoke('policy.start', task === '' ? { policy: id } : { policy: id, task }));
    if (status !== undefined) this.boxes = null; // the new policy's own boxes replace the last one's
    if (status !== undefined && this.session !== null) {
      this.session = { ...this.session, policy: status };
      if (status.settings !== undefined) this.settings = status.settings;
    }
  }
  async stopPolicy(): Promise<void> {
    const status = await this.act('policy', () => this.api.invoke('policy.stop', {}));
    if (status !== undefined && this.session !== null) this.session = { ...this.session, policy: status };
  }
  async simReset(seed: number | undefined, family: 'pick_place' | 'push' | 'stack' | undefined): Promise<void> {
    const args: { seed?: number; family?: 'pick_place' | 'push' | 'stack' } = {};
    if (seed !== undefined) args.seed = seed;
    if (family !== undefined) args.family = family;
    const s = await this.act('sim', () => this.api.invoke('sim.reset', args));
    if (s !== undefined) {
      this.taskText = s.sim?.instruction ?? this.taskText;
      this.applySession(s);
      this.ring.clear();
      this.reasoning = null;
      this.boxes = null;
    }
  }
  async updateSettings(patch: Partial<PolicySettings>): Promise<void> {
    const before = this.settings;
    this.settings = { ...before, ...patch };
    const s = await this.act('settings', () => this.api.invoke('policy.settings', patch));
    this.settings = s ?? before;
  }

  // ---- recording ----

  async startEpisode(): Promise<void> {
    if (this.busy['episode'] === true) return;
    this.cancelReset();
    const task = this.taskText.trim();
    const d = await this.act('episode', () => this.api.invoke('dataset.startEpisode', task === '' ? {} : { task }));
    if (d === undefined) return;
    this.recording = d;
    this.clearLimit();
    if (this.episodeLimitSeconds > 0) {
      const index = d.episodeIndex;
      this.limitTimer = setTimeout(() => {
        this.limitTimer = undefined;
        if (this.recording?.recording === true && this.recording.episodeIndex === index) void this.endEpisode();
      }, this.episodeLimitSeconds * 1000);
    }
  }
  async endEpisode(): Promise<void> {
    if (this.busy['episode'] === true) return;
    this.clearLimit();
    const d = await this.act('episode', () => this.api.invoke('dataset.endEpisode', {}));
    if (d !== undefined) {
      this.recording = d;
      this.episodesVersion++;
      this.notify('info', `Episode saved (${d.episodes} in the dataset).`);
      this.beginReset();
    }
  }
  async discardEpisode(): Promise<void> {
    if (this.busy['episode'] === true) return;
    this.clearLimit();
    const d = await this.act('episode', () => this.api.invoke('dataset.discardEpisode', {}));
    if (d !== undefined) {
      this.recording = d;
      this.notify('info', this.resetSeconds > 0 ? 'Episode discarded. Reset the scene; it records again after the reset period.' : 'Episode discarded. Press → or N to record it again.');
      this.beginReset();
    }
  }
  /** Cancels the save of the episode being ended (it is discarded); refused once its commit has begun. */
  async cancelSave(): Promise<void> {
    const d = await this.act('cancelSave', () => this.api.invoke('dataset.cancelSave', {}));
    if (d !== undefined) this.recording = d;
  }
  /** Starts the reset period; when it ends the next episode starts by itself. */
  private beginReset(): void {
    this.cancelReset();
    if (this.resetSeconds <= 0 || this.recording === null) return;
    const ms = this.resetSeconds * 1000;
    this.resetUntil = Date.now() + ms;
    this.resetTimer = setTimeout(() => {
      this.resetTimer = undefined;
      this.resetUntil = undefined;
      if (this.recording !== null && !this.recording.recording) void this.startEpisode();
    }, ms);
  }
  cancelReset(): void {
    if (this.resetTimer !== undefined) clearTimeout(this.resetTimer);
    this.resetTimer = undefined;
    this.resetUntil = undefined;
  }
  private clearLimit(): void {
    if (this.limitTimer !== undefined) clearTimeout(this.limitTimer);
    this.limitTimer = undefined;
  }
  /** → / N: end the episode in progress, or start the next one when none is (ending a reset period early). */
  async episodeNext(): Promise<void> {
    if (this.recording === null) return;
    if (this.recording.recording) await this.endEpisode();
    else await this.startEpisode();
  }
  /** ← / R: discard the episode in progress; the next start records the same index again. */
  async episodeRerecord(): Promise<void> {
    if (this.recording === null || !this.recording.recording) return;
    await this.discardEpisode();
  }
  /** Q: save the episode in progress and close the dataset. */
  async stopRecording(): Promise<void> {
    if (this.recording === null) return;
    this.cancelReset();
    this.clearLimit();
    if (this.recording.recording) await this.endEpisode();
    const r = await this.act('dataset', () => this.api.invoke('dataset.close', {}));
    if (r !== undefined) {
      this.recording = null;
      this.episodesVersion++;
      this.notify('info', 'Recording stopped; the dataset is closed.');
    }
  }
}

let store: ConsoleStore | undefined;
export function getStore(): ConsoleStore {
  store ??= new ConsoleStore();
  return store;
}
