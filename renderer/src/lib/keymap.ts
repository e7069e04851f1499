/**
 * The console's keyboard map: one table that both the key handler and the help overlay read,
 * so the overlay can never list a key that does nothing or miss one that does.
 * Pure (no DOM): the handler passes the KeyboardEvent's fields. Keys are matched on
 * `event.code` (layout-independent) except `?`, which is matched on the character.
 */

export interface KeyLike {
  key: string;
  code: string;
  shiftKey: boolean;
  ctrlKey?: boolean;
  altKey?: boolean;
  metaKey?: boolean;
}

export interface KeyContext {
  /** Number of joints of the robot; digit keys beyond it do nothing. */
  jointCount: number;
  /** A dataset is open for recording (enables the episode keys). */
  datasetOpen: boolean;
  /** The focused element takes text (input, textarea, contenteditable). */
  typing: boolean;
  /**
   * An episode review is open: → / ← step its frames, P plays / pauses, X closes it, and the
   * recording keys (→ N ← R Q) do nothing, so reviewing never ends or discards an episode.
   */
  reviewOpen?: boolean;
}

export type Axis = 'x' | 'y' | 'z';

export type KeyAction =
  | { kind: 'estop-engage' }
  | { kind: 'estop-release' }
  | { kind: 'select-joint'; index: number }
  | { kind: 'jog'; direction: 1 | -1; coarse: boolean }
  | { kind: 'cartesian'; axis: Axis; direction: 1 | -1; coarse: boolean }
  | { kind: 'handback' }
  | { kind: 'toggle-help' }
  | { kind: 'episode-next' }
  | { kind: 'episode-discard' }
  | { kind: 'recording-stop' }
  | { kind: 'review-step'; direction: 1 | -1; coarse: boolean }
  | { kind: 'review-play' }
  | { kind: 'review-close' };

/** Jog step per key press: degrees for body joints, percent for the gripper. */
export const JOG_STEP = { fine: 2, coarse: 10 } as const;
/** Cartesian nudge per key press, metres. */
export const CARTESIAN_STEP_M = { fine: 0.01, coarse: 0.05 } as const;

const CARTESIAN: Record<string, { axis: Axis; direction: 1 | -1 }> = {
  KeyI: { axis: 'x', direction: 1 },
  KeyK: { axis: 'x', direction: -1 },
  KeyJ: { axis: 'y', direction: 1 },
  KeyL: { axis: 'y', direction: -1 },
  KeyU: { axis: 'z', direction: 1 },
  KeyO: { axis: 'z', direction: -1 },
};

/**
 * Maps a key press to an action, or undefined when the console does not handle it
 * (so the browser keeps its default). Escape engages the e-stop even while typing;
 * every other key is ignored while typing or with Ctrl/Alt/Meta held.
 *
 * Space and Escape only ever ENGAGE the e-stop (a double tap or a held key cannot release it).
 * Releasing is its own chord, Shift+R, on no engage key; the caller ignores it when auto-repeated.
 * A release leaves the arm holding (the host's latched HOLD): ▶ Start, Hand back (H) or a jog moves it again.
 */
export function resolveKey(ev: KeyLike, ctx: KeyContext): KeyAction | undefined {
  if (ev.code === 'Escape' || ev.key === 'Escape') return { kind: 'estop-engage' };
  if (ctx.typing) return undefined;
  if (ev.ctrlKey === true || ev.altKey === true || ev.metaKey === true) return undefined;

  if (ev.key === '?' || (ev.code === 'Slash' && ev.shiftKey)) return { kind: 'toggle-help' };

  const code = ev.code;
  if (code === 'Space') return { kind: 'estop-engage' };
  if (code === 'KeyR' && ev.shiftKey) return { kind: 'estop-release' };

  const digit = /^(?:Digit|Numpad)([1-9])$/.exec(code);
  if (digit !== null) {
    const index = Number(digit[1]) - 1;
    return index < Math.min(ctx.jointCount, 6) ? { kind: 'select-joint', index } : undefined;
  }

  switch (code) {
    case 'ArrowUp':
    case 'KeyW':
      return { kind: 'jog', direction: 1, coarse: ev.shiftKey };
    case 'ArrowDown':
    case 'KeyS':
      return { kind: 'jog', direction: -1, coarse: ev.shiftKey };
    case 'KeyH':
      return { kind: 'handback' };
    default:
      break;
  }

  const cart = CARTESIAN[code];
  if (cart !== undefined) return { kind: 'cartesian', axis: cart.axis, direction: cart.direction, coarse: ev.shiftKey };

  if (ctx.reviewOpen === true) {
    switch (code) {
      case 'ArrowRight':
        return { kind: 'review-step', direction: 1, coarse: ev.shiftKey };
      case 'ArrowLeft':
        return { kind: 'review-step', direction: -1, coarse: ev.shiftKey };
      case 'KeyP':
        return { kind: 'review-play' };
      case 'KeyX':
        return { kind: 'review-close' };
      default:
        return undefined; // N, R, Q: no recording action behind an open review
    }
  }

  if (ctx.datasetOpen) {
    switch (code) {
      case 'ArrowRight':
      case 'KeyN':
        return { kind: 'episode-next' };
      case 'ArrowLeft':
      case 'KeyR':
        return { kind: 'episode-discard' };
      case 'KeyQ':
        return { kind: 'recording-stop' };
      default:
        break;
    }
  }
  return undefined;
}

/** Jog delta for a key action on a joint of the given unit (clamped to what the contract accepts). */
export function jogDelta(direction: 1 | -1, coarse: boolean): number {
  return direction * (coarse ? JOG_STEP.coarse : JOG_STEP.fine);
}

export function cartesianDelta(direction: 1 | -1, coarse: boolean): number {
  return direction * (coarse ? CARTESIAN_STEP_M.coarse : CARTESIAN_STEP_M.fine);
}

/** Whether an element described by these fields takes typed text (keys then belong to it). */
export function isTypingTarget(el: { tagName?: string; type?: string; isContentEditable?: boolean } | null | undefined): boolean {
  if (el === null || el === undefined) return false;
  if (el.isContentEditable === true) return true;
  const tag = (el.tagName ?? '').toUpperCase();
  if (tag === 'TEXTAREA') return true;
  if (tag !== 'INPUT') return false;
  const type = (el.type ?? 'text').toLowerCase();
  return !['button', 'checkbox', 'radio', 'range', 'submit', 'reset', 'color', 'file', 'image'].includes(type);
}

export interface HelpEntry {
  keys: string[];
  action: string;
}
export interface HelpGroup {
  title: string;
  note?: string;
  entries: HelpEntry[];
}

/** Every key the console handles, for the help overlay (kept beside resolveKey; a test checks they agree). */
export const KEY_HELP: HelpGroup[] = [
  {
    title: 'Safety',
    entries: [
      { keys: ['Space'], action: 'Engage the e-stop (never releases it)' },
      { keys: ['Esc'], action: 'Engage the e-stop (always; works even while typing)' },
      { keys: ['Shift', '+ R'], action: 'Release the e-stop: the arm stays in HOLD until ▶ Start, H or a jog' },
      { keys: ['H'], action: 'Hand control back to the policy; resume after a HOLD (refused during the e-stop)' },
    ],
  },
  {
    title: 'Joint jog',
    note: 'Any jog takes control from the policy at once.',
    entries: [
      { keys: ['1', '2', '3', '4', '5', '6'], action: 'Select joint 1–6 (or click a joint row)' },
      { keys: ['↑', 'W'], action: 'Nudge the selected joint +2° (gripper +2 %)' },
      { keys: ['↓', 'S'], action: 'Nudge the selected joint −2° (gripper −2 %)' },
      { keys: ['Shift', '+ ↑/↓'], action: 'Nudge by ±10° (gripper ±10 %)' },
    ],
  },
  {
    title: 'Cartesian jog',
    note: 'Gripper frame origin, robot base axes. Shift: 5 cm.',
    entries: [
      { keys: ['I', 'K'], action: 'x +1 cm / −1 cm (forward / back)' },
      { keys: ['J', 'L'], action: 'y +1 cm / −1 cm (left / right)' },
      { keys: ['U', 'O'], action: 'z +1 cm / −1 cm (up / down)' },
    ],
  },
  {
    title: 'Recording',
    note: 'Active while a dataset is open. Esc is the e-stop here, so Q stops recording; Shift+R releases the e-stop, R alone discards.',
    entries: [
      { keys: ['→', 'N'], action: 'End the episode and save it (or start the next one when idle)' },
      { keys: ['←', 'R'], action: 'Discard the episode and re-record it' },
      { keys: ['Q'], action: 'Stop recording: save the episode in progress and close the dataset' },
    ],
  },
  {
    title: 'Episode review',
    note: 'While a review is open the recording keys do nothing (→ / ← step the review instead); Space and Esc stay the e-stop.',
    entries: [
      { keys: ['P'], action: 'Play / pause the review' },
      { keys: ['→', '←'], action: 'Step one frame forward / back (Shift: one second)' },
      { keys: ['X'], action: 'Close the review' },
    ],
  },
  {
    title: 'Console',
    entries: [{ keys: ['?'], action: 'Show / hide this help' }],
  },
];
