/**
 * The Teleop contract: a source of operator goals (leader arm, keyboard/gamepad/on-screen jog).
 */
export type TeleopCommand =
  | { kind: 'absolute'; positions: number[] } // full joint goal, ordered as the robot's joints
  | { kind: 'delta'; deltas: number[] }; // added to the current goal

export interface TeleopSample {
  command: TeleopCommand;
  timeMs: number; // when the input was produced (monotonic)
}

export interface Teleop {
  readonly name: string;
  /** Latest input, if any arrived since the last poll (delta) or is current (absolute streams). */
  poll(nowMs: number): TeleopSample | undefined;
  /** Streaming sources (leader arm) must produce a fresh sample every tick; the watchdog holds when they go stale. */
  readonly streaming: boolean;
  connect?(): Promise<void>;
  disconnect?(): Promise<void>;
}
