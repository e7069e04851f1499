/**
 * Channel names of the API contract, as plain data with no dependencies, so the sandboxed preload
 * can build its bridge from them. `contract.ts` gives each its schema; a test checks the two agree.
 */
export const INVOKE_CHANNELS = [
  'session.get',
  'sim.reset',
  'policy.list',
  'policy.start',
  'policy.stop',
  'policy.cancelLoad',
  'policy.settings',
  'hardware.listPorts',
  'hardware.connect',
  'hardware.disconnect',
  'hardware.torque',
  'hardware.health',
  'calibration.begin',
  'calibration.sample',
  'calibration.finish',
  'calibration.cancel',
  'dataset.open',
  'dataset.status',
  'dataset.startEpisode',
  'dataset.endEpisode',
  'dataset.discardEpisode',
  'dataset.cancelSave',
  'dataset.close',
  'dataset.episodes',
  'dataset.episode',
  'dataset.deleteEpisode',
  'dataset.recover',
  'dataset.replay',
] as const;

export const COMMAND_CHANNELS = ['estop', 'jog', 'jogCartesian', 'handback', 'frameAck'] as const;

export const EVENT_CHANNELS = ['telemetry', 'problems', 'reasoning', 'session', 'recording', 'frame'] as const;

export type InvokeName = (typeof INVOKE_CHANNELS)[number];
export type CommandName = (typeof COMMAND_CHANNELS)[number];
export type EventName = (typeof EVENT_CHANNELS)[number];

/** Limits the transports enforce on anything the renderer sends. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
export const MAX_MESSAGES_PER_SECOND = 300;
