/**
 * HardwareService: real arms over serial, for the UI / API layer (no Electron, no renderer).
 *
 *   listPorts()                      ports + which discovery method found them
 *   connect({type, port, id, leader?}) → Robot (the follower); the leader, if any, becomes a
 *                                    streaming Teleop (`teleop`) once calibrated
 *   beginCalibration(arm) → setCalibrationHoming() → readRangeSample()* → finishCalibration()
 *                                    steps the UI drives; finish saves LeRobot-format JSON under
 *                                    <calibrationDir>/{robots|teleoperators}/<name>/<id>.json
 *   importCalibration(arm, json)     an existing LeRobot calibration file
 *   readHealth(), setTorque(on), estop(), disconnect()
 *
 * Safety:
 * - estop() HOLDS: the follower's present position becomes its goal and torque stays on. The
 *   arms are position-controlled and carry their own weight through the servos; torque off
 *   would let shoulder and elbow fall onto whatever is below, which is worse than stopping.
 *   The teleop stream is stopped so the leader can't move the arm until the operator resumes.
 * - disconnect() turns torque OFF by default: after the console lets go nobody supervises the
 *   arm, and servos left holding keep resisting people and heating up (LeRobot's default).
 *   The UI should ask the operator to support the arm first; {disableTorque:false} keeps it.
 * - Goals are clamped to the calibrated range by the follower (writeGoal returns what was sent);
 *   an uncalibrated follower refuses goals and torque.
 * Errors are the drivers' typed errors (code, operator-facing message naming servo/register/port).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Robot, RobotHealthEntry } from '../../drivers/robots/Robot';
import type { Teleop } from '../../drivers/teleop/Teleop';
import type { Transport } from '../../drivers/transport/Transport';
import { SerialTransport } from '../../drivers/transport/SerialTransport';
import { listPorts as discoverPorts, type PortList } from '../../drivers/transport/discovery';
import { DeviceAlreadyConnectedError, DeviceNotConnectedError } from '../../drivers/transport/errors';
import { CalibrationError } from '../../drivers/motors/errors';
import { calibrationRelPath, parseCalibration, serializeCalibration, type CalibrationFile } from '../../drivers/robots/calibration';
import type { CalibrationSession, LiveRange } from '../../drivers/robots/calibrationSession';
import { createSoFollower, createSoLeader } from '../../drivers/robots/so101/so101';
import { createKochFollower, createKochLeader } from '../../drivers/robots/koch/koch';
import type { ServoFollower } from '../../drivers/robots/so101/ServoFollower';
import type { ServoLeader } from '../../drivers/robots/so101/ServoLeader';
import { LeaderTeleop } from '../../drivers/teleop/leader/LeaderTeleop';

export type FollowerType = 'so100_follower' | 'so101_follower' | 'koch_follower';
export type LeaderType = 'so100_leader' | 'so101_leader' | 'koch_leader';
export type ArmRole = 'follower' | 'leader';

export interface ConnectOptions {
  type: FollowerType;
  port: string;
  id: string;
  leader?: { type: LeaderType; port: string; id?: string };
  /** Max change per goal from the last read position (degrees / %); off by default (the loop's safety stage caps steps). */
  maxRelativeTarget?: number;
  /** Extra reply-timeout margin for slow USB adapters (default 3 ms). */
  latencyMarginMs?: number;
  baudRate?: number;
}

export interface HardwareServiceOptions {
  /** Root for calibration files (LeRobot layout below it). */
  calibrationDir: string;
  /** Injectable for tests; default opens a SerialTransport. */
  openTransport?: (path: string, baudRate: number) => Transport;
  listPorts?: () => Promise<PortList>;
  leaderRateHz?: number;
}

export interface ArmStatus {
  type: string;
  id: string;
  port: string;
  calibrated: boolean;
  calibrationFile?: string;
  /** 'matched': file equals what's in the motors; 'written': file written to the motors; 'none'. */
  calibrationStatus: 'none' | 'matched' | 'written';
}

export interface HardwareStatus {
  connected: boolean;
  follower?: ArmStatus;
  leader?: ArmStatus & { teleopRunning: boolean; teleopHz: number; lastError?: string };
  calibrating?: { arm: ArmRole; step: string };
  /** Operator-facing notes from connect (e.g. a saved calibration file that doesn't fit and was ignored). */
  problems?: string[];
}

type AnyFollower = ServoFollower<string>;
type AnyLeader = ServoLeader<string>;

interface Connection {
  follower: AnyFollower;
  followerPort: string;
  leader?: AnyLeader;
  leaderPort?: string;
  teleop?: LeaderTeleop;
  /** Operator-facing notes from connect (e.g. a saved calibration file that doesn't fit). */
  problems: string[];
}

export class HardwareService {
  private readonly opts: HardwareServiceOptions;
  private conn: Connection | undefined;
  private calib: { arm: ArmRole; session: CalibrationSession<string> } | undefined;

  constructor(opts: HardwareServiceOptions) {
    this.opts = opts;
  }

  listPorts(): Promise<PortList> {
    return (this.opts.listPorts ?? discoverPorts)();
  }

  /** The connected follower, if any. */
  get robot(): Robot | undefined {
    return this.conn?.follower;
  }

  /** The leader arm as a streaming Teleop (absolute goals), once connected and calibrated. */
  get teleop(): Teleop | undefined {
    return this.conn?.teleop;
  }

  status(): HardwareStatus {
    const c = this.conn;
    if (!c) return { connected: false };
    const arm = (a: AnyFollower | AnyLeader, port: string): ArmStatus => {
      const file = this.calibrationPath(a);
      return { type: a.type, id: a.id, port, calibrated: a.isCalibrated, calibrationStatus: a.calibrationStatus, ...(existsSync(file) ? { calibrationFile: file } : {}) };
    };
    return {
      connected: true,
      follower: arm(c.follower, c.followerPort),
      ...(c.leader && c.leaderPort
        ? {
            leader: {
              ...arm(c.leader, c.leaderPort),
              teleopRunning: c.teleop !== undefined,
              teleopHz: c.teleop?.stats.achievedHz ?? 0,
              ...(c.teleop?.lastError ? { lastError: c.teleop.lastError.message } : {}),
            },
          }
        : {}),
      ...(this.calib ? { calibrating: { arm: this.calib.arm, step: this.calib.session.step } } : {}),
      ...(c.problems.length ? { problems: [...c.problems] } : {}),
    };
  }

  async connect(o: ConnectOptions): Promise<Robot> {
    if (this.conn) throw new DeviceAlreadyConnectedError(`${this.conn.follower.type} '${this.conn.follower.id}'`);
    const baud = o.baudRate ?? 1_000_000;
    const bus = o.latencyMarginMs !== undefined ? { latencyMarginMs: o.latencyMarginMs } : undefined;
    const open = this.opts.openTransport ?? ((path: string, baudRate: number) => new SerialTransport({ path, baudRate }));
    const followerCal = await this.loadCalibration('robots', o.type === 'koch_follower' ? 'koch_follower' : 'so_follower', o.id);
    const base = { id: o.id, transport: open(o.port, baud), ...(followerCal ? { calibration: followerCal } : {}), ...(bus ? { bus } : {}), ...(o.maxRelativeTarget !== undefined ? { maxRelativeTarget: o.maxRelativeTarget } : {}) };
    const make = (b: typeof base): AnyFollower => (o.type === 'koch_follower' ? createKochFollower(b) : createSoFollower(o.type, b)) as unknown as AnyFollower;
    const problems: string[] = [];
    let follower: AnyFollower;
    try {
      follower = make(base);
    } catch (e) {
      // A saved file that doesn't fit this arm must not lock the operator out: connect
      // uncalibrated (torque stays off) and say why, so they can recalibrate or import.
      if (!(e instanceof CalibrationError)) throw e;
      problems.push(e.message);
      const { calibration: _ignored, ...rest } = base;
      follower = make(rest as typeof base);
    }
    let leader: AnyLeader | undefined;
    if (o.leader) {
      const lid = o.leader.id ?? o.id;
      const leaderName = o.leader.type === 'koch_leader' ? 'koch_leader' : 'so_leader';
      const lcal = await this.loadCalibration('teleoperators', leaderName, lid);
      const lbase = { id: lid, transport: open(o.leader.port, baud), ...(lcal ? { calibration: lcal } : {}), ...(bus ? { bus } : {}) };
      const makeLeader = (b: typeof lbase): AnyLeader => (o.leader!.type === 'koch_leader' ? createKochLeader(b) : createSoLeader(o.leader!.type as 'so100_leader' | 'so101_leader', b)) as unknown as AnyLeader;
      try {
        leader = makeLeader(lbase);
      } catch (e) {
        if (!(e instanceof CalibrationError)) throw e;
        problems.push(`Leader: ${e.message}`);
        const { calibration: _ignored, ...rest } = lbase;
        leader = makeLeader(rest as typeof lbase);
      }
    }
    await follower.connect();
    problems.push(...follower.warnings);
    if (leader) {
      try {
        await leader.connect();
      } catch (e) {
        await follower.disconnect({ disableTorque: true }).catch(() => undefined);
        throw e;
      }
      problems.push(...leader.warnings);
    }
    this.conn = { follower, followerPort: o.port, problems, ...(leader && o.leader ? { leader, leaderPort: o.leader.port } : {}) };
    this.startTeleopIfReady();
    return follower;
  }

  // ---- calibration steps -------------------------------------------------------------------

  /** Step 1: torque off, offsets reset. The operator then poses every joint at mid-range. */
  async beginCalibration(arm: ArmRole = 'follower'): Promise<{ step: 'pose_mid'; instructions: string; joints: string[] }> {
    const a = this.arm(arm);
    if (arm === 'leader') await this.stopTeleop();
    const session = a.calibrationSession();
    this.calib = { arm, session };
    const r = await session.begin();
    return { ...r, joints: [...a.group.names] };
  }

  /** Step 2: the arm is at mid-range; writes homing offsets. */
  async setCalibrationHoming(): Promise<Record<string, number>> {
    return this.session().setHoming();
  }

  /** Step 3 (repeat while the operator sweeps): live min / position / max per joint, raw ticks. */
  async readRangeSample(): Promise<LiveRange[]> {
    return this.session().sample();
  }

  /** Step 4: writes limits to the motors, saves the JSON, re-applies runtime configuration. */
  async finishCalibration(): Promise<{ calibration: CalibrationFile; path: string }> {
    const { arm, session } = this.calib ?? this.noSession();
    const cal = await session.finish();
    this.calib = undefined;
    const a = this.arm(arm);
    a.calibrationStatus = 'written';
    const path = await this.saveCalibration(a, cal);
    await this.afterCalibration(arm);
    return { calibration: cal, path };
  }

  cancelCalibration(): void {
    this.calib = undefined;
  }

  /** Imports an existing LeRobot calibration (parsed JSON or its text), applies it and saves it. */
  async importCalibration(arm: ArmRole, json: unknown): Promise<{ calibration: CalibrationFile; path: string; status: 'matched' | 'written' }> {
    const a = this.arm(arm);
    let obj = json;
    if (typeof json === 'string') {
      try {
        obj = JSON.parse(json);
      } catch (e) {
        throw new CalibrationError(`The calibration file is not valid JSON: ${(e as Error).message}`);
      }
    }
    const cal = parseCalibration(obj, a.jointIds(), 'imported calibration');
    if (arm === 'leader') await this.stopTeleop();
    const status = (await a.applyCalibration(cal)) as 'matched' | 'written';
    const path = await this.saveCalibration(a, cal);
    await this.afterCalibration(arm);
    return { calibration: cal, path, status };
  }

  // ---- runtime -----------------------------------------------------------------------------

  async readHealth(): Promise<RobotHealthEntry[]> {
    return this.requireConn().follower.readHealth();
  }

  async setTorque(enabled: boolean): Promise<void> {
    await this.requireConn().follower.setTorque(enabled);
  }

  /** Hold position at present, torque stays on (see the module comment). Returns the held positions. */
  async estop(): Promise<number[]> {
    const c = this.requireConn();
    await this.stopTeleop();
    return c.follower.holdPosition();
  }

  /** Resumes the leader stream after an e-stop. */
  resumeTeleop(): void {
    this.startTeleopIfReady();
  }

  async disconnect(opts: { disableTorque?: boolean } = {}): Promise<void> {
    const c = this.conn;
    if (!c) return;
    this.conn = undefined;
    this.calib = undefined;
    const errors: unknown[] = [];
    await c.teleop?.stop().catch((e: unknown) => errors.push(e));
    await c.follower.disconnect({ disableTorque: opts.disableTorque ?? true }).catch((e: unknown) => errors.push(e));
    await c.leader?.disconnect().catch((e: unknown) => errors.push(e));
    if (errors.length) throw errors[0];
  }

  // ---- internals ---------------------------------------------------------------------------

  private requireConn(): Connection {
    if (!this.conn) throw new DeviceNotConnectedError('Robot');
    return this.conn;
  }

  private arm(arm: ArmRole): AnyFollower | AnyLeader {
    const c = this.requireConn();
    if (arm === 'leader') {
      if (!c.leader) throw new DeviceNotConnectedError('Leader arm');
      return c.leader;
    }
    return c.follower;
  }

  private session(): CalibrationSession<string> {
    return (this.calib ?? this.noSession()).session;
  }

  private noSession(): never {
    throw new CalibrationError('No calibration in progress: start with beginCalibration().');
  }

  private async afterCalibration(arm: ArmRole): Promise<void> {
    const c = this.requireConn();
    if (arm === 'follower') {
      await c.follower.reconfigure();
      await c.follower.setTorque(true);
    } else {
      await c.leader!.configure();
      this.startTeleopIfReady();
    }
  }

  private startTeleopIfReady(): void {
    const c = this.conn;
    if (!c?.leader || !c.leader.isCalibrated || c.teleop) return;
    c.teleop = new LeaderTeleop(c.leader, this.opts.leaderRateHz !== undefined ? { rateHz: this.opts.leaderRateHz } : {});
    c.teleop.start();
  }

  private async stopTeleop(): Promise<void> {
    const c = this.conn;
    if (!c?.teleop) return;
    const t = c.teleop;
    delete c.teleop;
    await t.stop();
  }

  calibrationPath(a: { calibrationName: string; id: string; type: string }): string {
    const kind = a.type.endsWith('_leader') ? 'teleoperators' : 'robots';
    return join(this.opts.calibrationDir, calibrationRelPath(kind, a.calibrationName, a.id));
  }

  private async loadCalibration(kind: 'robots' | 'teleoperators', name: string, id: string): Promise<CalibrationFile | undefined> {
    const path = join(this.opts.calibrationDir, calibrationRelPath(kind, name, id));
    if (!existsSync(path)) return undefined;
    try {
      return JSON.parse(await readFile(path, 'utf8')) as CalibrationFile;
    } catch (e) {
      throw new CalibrationError(`Could not read the calibration file ${path}: ${(e as Error).message}. Fix or delete it, then recalibrate.`, { path });
    }
  }

  private async saveCalibration(a: { calibrationName: string; id: string; type: string }, cal: CalibrationFile): Promise<string> {
    const path = this.calibrationPath(a);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, serializeCalibration(cal));
    await rename(tmp, path); // atomic: a crash never leaves a half-written file
    return path;
  }
}
