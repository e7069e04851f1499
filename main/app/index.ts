/**
 * Electron entry: one window over the same console session the headless host serves. The only
 * place (with main/preload) that imports electron. Security: contextIsolation + sandbox on,
 * nodeIntegration off, a CSP, navigation and new windows denied, permissions denied except camera
 * access for our own page, and every IPC message checked for its sender and validated by the
 * contract before dispatch (main/services/api.ts).
 */
import { app, BrowserWindow, ipcMain, session as electronSession, shell, type WebContents } from 'electron';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConsoleSession } from '../services/session';
import type { ClientConnection } from '../services/api';
import { readFileSync } from 'node:fs';
import { parseStartArgs, pickStartArgs, resolveCameraCalibrations } from '../host/args';
import { handleCommand, handleInvoke } from './ipc';
import { allowPermission, CONTENT_SECURITY_POLICY, isOwnPage, secureWebPreferences } from './security';

const here = dirname(fileURLToPath(import.meta.url));
const rendererDir = join(here, '../renderer');
const rendererUrlPrefix = pathToFileURL(rendererDir).href;

let consoleSession: ConsoleSession | undefined;
const connections = new Map<number, ClientConnection>();

function connectionFor(wc: WebContents): ClientConnection {
  let c = connections.get(wc.id);
  if (!c) {
    c = consoleSession!.api.connect({
      sendEvent: (name, payload) => {
        if (!wc.isDestroyed()) wc.send(`reins:event:${name}`, payload);
      },
      sendFrame: (f) => {
        if (!wc.isDestroyed()) wc.send('reins:event:frame', f);
      },
    });
    connections.set(wc.id, c);
    wc.once('destroyed', () => {
      connections.get(wc.id)?.close();
      connections.delete(wc.id);
    });
  }
  return c;
}

function fromOwnPage(frameUrl: string | undefined): boolean {
  return isOwnPage(frameUrl, rendererUrlPrefix);
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 900,
    show: false,
    title: 'Reins',
    backgroundColor: '#111418',
    webPreferences: secureWebPreferences(join(here, '../preload/index.cjs')),
  });
  win.once('ready-to-show', () => win.show());
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (e) => e.preventDefault());
  void win.loadFile(join(rendererDir, 'index.html'));
  return win;
}

async function main(): Promise<void> {
  // Electron and Chromium may add switches of their own: keep only ours, and refuse bad values loudly.
  const mine = pickStartArgs(process.argv.slice(process.defaultApp ? 2 : 1).filter((a) => a !== '.'));
  let args;
  try {
    args = parseStartArgs(mine);
    resolveCameraCalibrations(args, (p) => readFileSync(p, 'utf8'));
  } catch (err) {
    console.error((err as Error).message);
    app.exit(2);
    return;
  }
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  await app.whenReady();
  const ses = electronSession.defaultSession;
  ses.setPermissionRequestHandler((_wc, permission, cb, details) => {
    const media = (details as { mediaTypes?: string[] }).mediaTypes;
    cb(allowPermission(permission, details.requestingUrl, rendererUrlPrefix, media));
  });
  ses.setPermissionCheckHandler((_wc, permission, requestingOrigin) => permission === 'media' && fromOwnPage(requestingOrigin));
  ses.webRequest.onHeadersReceived((d, cb) => cb({ responseHeaders: { ...d.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } }));

  consoleSession = new ConsoleSession({
    rateHz: args.rateHz,
    seed: args.seed,
    cameraWidth: args.cameraWidth,
    cameraHeight: args.cameraHeight,
    hardwareCameras: args.cameras,
    // Built by electron-vite as their own entries beside index.js (see electron.vite.config.ts).
    simCameraWorkerUrl: pathToFileURL(join(here, 'simCameraWorker.js')),
    bundleValidatorUrl: pathToFileURL(join(here, 'bundleValidator.js')),
    policyChildEntry: { path: join(here, 'policyChild.js'), execArgv: [] },
    bundlesDir: app.isPackaged ? join(process.resourcesPath, 'bundles') : join(here, '../../models/bundles'),
  });
  await consoleSession.start();

  ipcMain.handle('reins:invoke', (e, name: unknown, payload: unknown) => handleInvoke(() => connectionFor(e.sender), fromOwnPage(e.senderFrame?.url), name, payload));
  ipcMain.on('reins:command', (e, name: unknown, payload: unknown) => {
    const err = handleCommand(() => connectionFor(e.sender), fromOwnPage(e.senderFrame?.url), name, payload);
    if (err && !e.sender.isDestroyed()) e.sender.send('reins:event:problems', [{ id: 'bad-command', severity: 'warning', source: 'api', message: err.message, timeMs: performance.now() }]);
  });

  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', () => void consoleSession?.stop());
}

void main();
