/**
 * The Electron IPC handlers' bodies, apart from Electron so they can be tested: whatever a page
 * sends (any structured-clonable value, an object whose toString is not a function included)
 * becomes an answer or a refusal; nothing throws into ipcMain (a throw in an `ipcMain.on`
 * listener would be an uncaught exception of the main process).
 */
import type { ApiErrorData } from '../common/errors';
import type { InvokeOutcome } from '../services/api';

export interface IpcConnection {
  invoke(name: unknown, args: unknown): Promise<InvokeOutcome>;
  command(name: unknown, args: unknown): ApiErrorData | undefined;
}

export async function handleInvoke(conn: () => IpcConnection, ownPage: boolean, name: unknown, payload: unknown): Promise<InvokeOutcome> {
  if (!ownPage) return { ok: false, error: { code: 'unauthorized', message: 'Request from an unknown page.' } };
  if (typeof name !== 'string') return { ok: false, error: { code: 'bad_request', message: 'A request name must be a string.' } };
  try {
    return await conn().invoke(name, payload);
  } catch (err) {
    return { ok: false, error: { code: 'internal', message: `Request failed: ${err instanceof Error ? err.message : 'unknown error'}` } };
  }
}

/** The error to tell the page about, or undefined when the command was accepted (or ignored: not our page). */
export function handleCommand(conn: () => IpcConnection, ownPage: boolean, name: unknown, payload: unknown): ApiErrorData | undefined {
  if (!ownPage) return undefined;
  if (typeof name !== 'string') return { code: 'bad_request', message: 'A command name must be a string.' };
  try {
    return conn().command(name, payload);
  } catch (err) {
    return { code: 'internal', message: `Command failed: ${err instanceof Error ? err.message : 'unknown error'}` };
  }
}
