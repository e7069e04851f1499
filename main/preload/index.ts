/**
 * The preload: one object, `window.reins`, generated from the contract's channel lists. It never
 * exposes ipcRenderer. Errors lose their fields when they cross contextBridge, so `invoke`
 * resolves to the reply as data ({ok, value} | {ok:false, error}) and the renderer's client
 * turns a failed reply into an error. Every `on` returns an unsubscribe bound to the very
 * listener it added. Bundled as one CommonJS file (sandboxed preloads cannot load ESM).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { COMMAND_CHANNELS, EVENT_CHANNELS, INVOKE_CHANNELS } from '../common/channels';
import type { ReinsBridge } from '../common/contract';

const has = (list: readonly string[], name: unknown): name is string => typeof name === 'string' && list.includes(name);

const bridge: ReinsBridge = {
  invoke(name, args) {
    if (!has(INVOKE_CHANNELS, name)) return Promise.resolve({ ok: false, error: { code: 'unknown_channel', message: `Unknown request "${String(name)}".` } });
    return ipcRenderer.invoke('reins:invoke', name, args);
  },
  send(name, args) {
    if (has(COMMAND_CHANNELS, name)) ipcRenderer.send('reins:command', name, args);
  },
  on(name, cb) {
    if (!has(EVENT_CHANNELS, name)) return () => {};
    const channel = `reins:event:${name}`;
    const listener = (_e: IpcRendererEvent, payload: unknown) => cb(payload as never);
    ipcRenderer.on(channel, listener);
    return () => {
      ipcRenderer.removeListener(channel, listener);
    };
  },
};

contextBridge.exposeInMainWorld('reins', bridge);
