/**
 * Window security settings, kept apart from the Electron entry so they can be read and tested
 * without Electron: the web preferences every window gets, the CSP, and the permission policy
 * (only camera access, only for our own page).
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob: file:; connect-src 'self'";

export function secureWebPreferences(preloadPath: string) {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    webviewTag: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
  } as const;
}

/** Our page is the built renderer loaded from disk: file URLs under `rendererDir`. */
export function isOwnPage(url: string | undefined, rendererUrlPrefix: string): boolean {
  return typeof url === 'string' && url.startsWith(rendererUrlPrefix);
}

/** Allow only 'media' requests for video (a camera), from our own page. Everything else is denied. */
export function allowPermission(permission: string, requestingUrl: string | undefined, rendererUrlPrefix: string, mediaTypes?: readonly string[]): boolean {
  if (permission !== 'media') return false;
  if (!isOwnPage(requestingUrl, rendererUrlPrefix)) return false;
  if (mediaTypes && mediaTypes.some((t) => t !== 'video')) return false;
  return true;
}
