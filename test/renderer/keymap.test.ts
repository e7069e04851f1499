import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KEY_HELP, type KeyContext, type KeyLike, cartesianDelta, isTypingTarget, jogDelta, resolveKey } from '../../renderer/src/lib/keymap';

const ctx: KeyContext = { jointCount: 6, datasetOpen: false, typing: false };
const key = (code: string, k = '', extra: Partial<KeyLike> = {}): KeyLike => ({ code, key: k, shiftKey: false, ...extra });

test('Space and Escape only ever engage the e-stop, Escape even while typing', () => {
  assert.deepEqual(resolveKey(key('Space', ' '), ctx), { kind: 'estop-engage' });
  assert.deepEqual(resolveKey(key('Space', ' ', { shiftKey: true }), ctx), { kind: 'estop-engage' });
  assert.deepEqual(resolveKey(key('Escape', 'Escape'), ctx), { kind: 'estop-engage' });
  assert.deepEqual(resolveKey(key('Escape', 'Escape'), { ...ctx, typing: true }), { kind: 'estop-engage' });
  assert.deepEqual(resolveKey(key('Escape', 'Escape', { ctrlKey: true }), ctx), { kind: 'estop-engage' });
  assert.equal(resolveKey(key('Space', ' '), { ...ctx, typing: true }), undefined);
  // a double tap, or a held (auto-repeating) Space, can never release it
  for (let i = 0; i < 5; i++) assert.notEqual(resolveKey(key('Space', ' ', i > 0 ? { repeat: true } as Partial<KeyLike> : {}), ctx)?.kind, 'estop-release');
});

test('Shift+R, and only Shift+R, releases the e-stop; R alone still discards an episode', () => {
  assert.deepEqual(resolveKey(key('KeyR', 'R', { shiftKey: true }), ctx), { kind: 'estop-release' });
  assert.deepEqual(resolveKey(key('KeyR', 'R', { shiftKey: true }), { ...ctx, datasetOpen: true }), { kind: 'estop-release' });
  assert.equal(resolveKey(key('KeyR', 'r'), ctx), undefined);
  assert.deepEqual(resolveKey(key('KeyR', 'r'), { ...ctx, datasetOpen: true }), { kind: 'episode-discard' });
  assert.equal(resolveKey(key('KeyR', 'R', { shiftKey: true }), { ...ctx, typing: true }), undefined);
  assert.equal(resolveKey(key('KeyR', 'R', { shiftKey: true, ctrlKey: true }), ctx), undefined);
  const safety = KEY_HELP.find((g) => g.title === 'Safety')!;
  const release = safety.entries.find((e) => /^Release/.test(e.action))!;
  assert.deepEqual(release.keys, ['Shift', '+ R']);
  assert.match(release.action, /HOLD/);
  for (const e of safety.entries.filter((x) => x.keys.includes('Space') || x.keys.includes('Esc'))) assert.doesNotMatch(e.action, /toggle|release the/i);
});

test('digits select joints within the robot; arrows and W/S jog, Shift is coarse', () => {
  assert.deepEqual(resolveKey(key('Digit1', '1'), ctx), { kind: 'select-joint', index: 0 });
  assert.deepEqual(resolveKey(key('Numpad6', '6'), ctx), { kind: 'select-joint', index: 5 });
  assert.equal(resolveKey(key('Digit7', '7'), ctx), undefined);
  assert.equal(resolveKey(key('Digit5', '5'), { ...ctx, jointCount: 4 }), undefined);
  assert.deepEqual(resolveKey(key('ArrowUp'), ctx), { kind: 'jog', direction: 1, coarse: false });
  assert.deepEqual(resolveKey(key('KeyS', 's'), ctx), { kind: 'jog', direction: -1, coarse: false });
  assert.deepEqual(resolveKey(key('ArrowDown', '', { shiftKey: true }), ctx), { kind: 'jog', direction: -1, coarse: true });
  assert.equal(jogDelta(1, false), 2);
  assert.equal(jogDelta(-1, true), -10);
});

test('I/K, J/L, U/O nudge x, y, z', () => {
  assert.deepEqual(resolveKey(key('KeyI', 'i'), ctx), { kind: 'cartesian', axis: 'x', direction: 1, coarse: false });
  assert.deepEqual(resolveKey(key('KeyK', 'k'), ctx), { kind: 'cartesian', axis: 'x', direction: -1, coarse: false });
  assert.deepEqual(resolveKey(key('KeyJ', 'j'), ctx), { kind: 'cartesian', axis: 'y', direction: 1, coarse: false });
  assert.deepEqual(resolveKey(key('KeyL', 'l'), ctx), { kind: 'cartesian', axis: 'y', direction: -1, coarse: false });
  assert.deepEqual(resolveKey(key('KeyU', 'u'), ctx), { kind: 'cartesian', axis: 'z', direction: 1, coarse: false });
  assert.deepEqual(resolveKey(key('KeyO', 'O', { shiftKey: true }), ctx), { kind: 'cartesian', axis: 'z', direction: -1, coarse: true });
  assert.equal(cartesianDelta(1, false), 0.01);
  assert.ok(Math.abs(cartesianDelta(-1, true)) <= 0.05); // the contract's limit
});

test('H hands back, ? toggles help (by character or Shift+Slash)', () => {
  assert.deepEqual(resolveKey(key('KeyH', 'h'), ctx), { kind: 'handback' });
  assert.deepEqual(resolveKey(key('Slash', '?', { shiftKey: true }), ctx), { kind: 'toggle-help' });
  assert.deepEqual(resolveKey(key('Minus', '?'), ctx), { kind: 'toggle-help' }); // a layout where ? is elsewhere
});

test('recording keys act only while a dataset is open', () => {
  for (const c of ['ArrowRight', 'KeyN', 'ArrowLeft', 'KeyR', 'KeyQ']) assert.equal(resolveKey(key(c), ctx), undefined, c);
  const rec = { ...ctx, datasetOpen: true };
  assert.deepEqual(resolveKey(key('ArrowRight'), rec), { kind: 'episode-next' });
  assert.deepEqual(resolveKey(key('KeyN', 'n'), rec), { kind: 'episode-next' });
  assert.deepEqual(resolveKey(key('ArrowLeft'), rec), { kind: 'episode-discard' });
  assert.deepEqual(resolveKey(key('KeyR', 'r'), rec), { kind: 'episode-discard' });
  assert.deepEqual(resolveKey(key('KeyQ', 'q'), rec), { kind: 'recording-stop' });
});

test('keys with Ctrl/Alt/Meta and keys typed into a text field are left to the browser', () => {
  assert.equal(resolveKey(key('KeyR', 'r', { ctrlKey: true }), { ...ctx, datasetOpen: true }), undefined);
  assert.equal(resolveKey(key('KeyW', 'w', { metaKey: true }), ctx), undefined);
  assert.equal(resolveKey(key('KeyH', 'h'), { ...ctx, typing: true }), undefined);
  assert.equal(resolveKey(key('KeyX', 'x'), ctx), undefined);
});

test('isTypingTarget: text inputs and textareas take keys; buttons, checkboxes and ranges do not', () => {
  assert.equal(isTypingTarget({ tagName: 'INPUT', type: 'text' }), true);
  assert.equal(isTypingTarget({ tagName: 'input', type: 'number' }), true);
  assert.equal(isTypingTarget({ tagName: 'TEXTAREA' }), true);
  assert.equal(isTypingTarget({ tagName: 'DIV', isContentEditable: true }), true);
  assert.equal(isTypingTarget({ tagName: 'INPUT', type: 'checkbox' }), false);
  assert.equal(isTypingTarget({ tagName: 'INPUT', type: 'range' }), false);
  assert.equal(isTypingTarget({ tagName: 'BUTTON' }), false);
  assert.equal(isTypingTarget({ tagName: 'SELECT' }), false);
  assert.equal(isTypingTarget(null), false);
});

test('the help overlay lists every key resolveKey handles', () => {
  const listed = KEY_HELP.flatMap((g) => g.entries.flatMap((e) => e.keys)).join(' ');
  for (const k of ['Space', 'Esc', 'H', '1', '6', '↑', 'W', '↓', 'S', 'Shift', 'I', 'K', 'J', 'L', 'U', 'O', '→', 'N', '←', 'R', 'Q', '?']) {
    assert.ok(listed.split(' ').includes(k) || listed.includes(k), `help lacks ${k}`);
  }
  const recording = KEY_HELP.find((g) => g.title === 'Recording');
  assert.match(recording?.note ?? '', /Q stops recording/);
});

test('while a review is open, → / ← step it and never end or discard an episode; P plays, X closes; Space/Esc stay the e-stop', () => {
  const rev = { ...ctx, datasetOpen: true, reviewOpen: true };
  assert.deepEqual(resolveKey(key('ArrowRight'), rev), { kind: 'review-step', direction: 1, coarse: false });
  assert.deepEqual(resolveKey(key('ArrowLeft', '', { shiftKey: true }), rev), { kind: 'review-step', direction: -1, coarse: true });
  for (const c of ['ArrowRight', 'ArrowLeft', 'KeyN', 'KeyR', 'KeyQ']) {
    const k = resolveKey(key(c), rev)?.kind ?? 'none';
    assert.ok(!['episode-next', 'episode-discard', 'recording-stop'].includes(k), `${c} -> ${k} during review`);
  }
  assert.deepEqual(resolveKey(key('KeyP', 'p'), rev), { kind: 'review-play' });
  assert.deepEqual(resolveKey(key('KeyX', 'x'), rev), { kind: 'review-close' });
  assert.deepEqual(resolveKey(key('Space', ' '), rev), { kind: 'estop-engage' });
  assert.deepEqual(resolveKey(key('Escape', 'Escape'), rev), { kind: 'estop-engage' });
  assert.deepEqual(resolveKey(key('KeyR', 'R', { shiftKey: true }), rev), { kind: 'estop-release' });
  // review keys are not e-stop or recording keys: P and X mean nothing outside a review
  assert.equal(resolveKey(key('KeyP', 'p'), { ...ctx, datasetOpen: true }), undefined);
  assert.equal(resolveKey(key('KeyX', 'x'), { ...ctx, datasetOpen: true }), undefined);
  const review = KEY_HELP.find((g) => g.title === 'Episode review')!;
  const keys = review.entries.flatMap((e) => e.keys);
  for (const k of ['P', 'X', '→', '←']) assert.ok(keys.includes(k), `review help lacks ${k}`);
  assert.ok(!keys.includes('Space') && !keys.includes('Esc'));
});
