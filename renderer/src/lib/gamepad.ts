/**
 * Gamepad → console actions for a W3C "standard" mapping pad (Xbox / PlayStation layouts).
 * Pure: the caller polls navigator.getGamepads() on a timer (rAF stops in hidden windows) and
 * passes a snapshot plus what was held on the previous poll. Buttons act on their press edge;
 * the D-pad, sticks and triggers act continuously, once per poll, scaled by deflection.
 *   B (1)            engage the e-stop            Start (9)   hand back to the policy
 *   LB / RB (4 / 5)  previous / next joint        D-pad ↑ / ↓ (12 / 13)  jog the selected joint ±2
 *   LT / RT (6 / 7)  open / close the gripper     left stick  x (up = forward) and y (left = +y)
 *   right stick Y    z (up = +z)
 */
import type { Axis } from './keymap';

export interface PadSnapshot {
  buttons: readonly { pressed: boolean; value: number }[];
  axes: readonly number[];
}

export type PadAction =
  | { kind: 'estop-engage' }
  | { kind: 'handback' }
  | { kind: 'select-joint-delta'; delta: 1 | -1 }
  | { kind: 'jog'; delta: number } // selected joint, degrees (or %)
  | { kind: 'jog-gripper'; delta: number } // percent
  | { kind: 'cartesian'; axis: Axis; deltaM: number };

export const DEAD_ZONE = 0.15;
/** Per poll (the poller runs at 10 Hz): 2°/poll = 20°/s, 1 cm/poll = 10 cm/s at full deflection. */
export const PAD_STEP = { jogDeg: 2, gripperPct: 3, cartesianM: 0.01 } as const;

const EDGE: { index: number; action: PadAction }[] = [
  { index: 1, action: { kind: 'estop-engage' } },
  { index: 9, action: { kind: 'handback' } },
  { index: 4, action: { kind: 'select-joint-delta', delta: -1 } },
  { index: 5, action: { kind: 'select-joint-delta', delta: 1 } },
];

function deadZone(v: number | undefined): number {
  if (v === undefined || !Number.isFinite(v) || Math.abs(v) < DEAD_ZONE) return 0;
  // rescale so motion starts at 0 just outside the dead zone
  return Math.sign(v) * ((Math.abs(v) - DEAD_ZONE) / (1 - DEAD_ZONE));
}

const round = (v: number, step: number): number => Math.round(v / step) * step;

/** Actions for this poll, and the pressed state to pass to the next one. */
export function padActions(pad: PadSnapshot, prevPressed: readonly boolean[]): { actions: PadAction[]; pressed: boolean[] } {
  const pressed = pad.buttons.map((b) => b.pressed);
  const actions: PadAction[] = [];
  for (const e of EDGE) {
    if (pressed[e.index] === true && prevPressed[e.index] !== true) actions.push(e.action);
  }
  // continuous controls are suppressed while B (e-stop) is held
  if (pressed[1] === true) return { actions, pressed };
  const up = pressed[12] === true;
  const down = pressed[13] === true;
  if (up !== down) actions.push({ kind: 'jog', delta: up ? PAD_STEP.jogDeg : -PAD_STEP.jogDeg });
  const grip = (pad.buttons[7]?.value ?? 0) - (pad.buttons[6]?.value ?? 0);
  if (Math.abs(grip) >= DEAD_ZONE) actions.push({ kind: 'jog-gripper', delta: round(grip * PAD_STEP.gripperPct, 0.1) });
  const x = -deadZone(pad.axes[1]); // stick up (negative) = forward
  const y = -deadZone(pad.axes[0]); // stick left (negative) = +y
  const z = -deadZone(pad.axes[3]); // right stick up = +z
  if (x !== 0) actions.push({ kind: 'cartesian', axis: 'x', deltaM: round(x * PAD_STEP.cartesianM, 0.0005) });
  if (y !== 0) actions.push({ kind: 'cartesian', axis: 'y', deltaM: round(y * PAD_STEP.cartesianM, 0.0005) });
  if (z !== 0) actions.push({ kind: 'cartesian', axis: 'z', deltaM: round(z * PAD_STEP.cartesianM, 0.0005) });
  return { actions: actions.filter((a) => !(a.kind === 'cartesian' && a.deltaM === 0)), pressed };
}

/** Help-overlay rows for the pad. */
export const PAD_HELP: { keys: string[]; action: string }[] = [
  { keys: ['B'], action: 'Engage the e-stop' },
  { keys: ['Start'], action: 'Hand back to the policy' },
  { keys: ['LB', 'RB'], action: 'Previous / next joint' },
  { keys: ['D-pad ↑', '↓'], action: 'Jog the selected joint (hold)' },
  { keys: ['LT', 'RT'], action: 'Open / close the gripper' },
  { keys: ['L-stick'], action: 'x (up = forward) / y (left)' },
  { keys: ['R-stick ↕'], action: 'z (up / down)' },
];
