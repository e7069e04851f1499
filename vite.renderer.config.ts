/**
 * Build of the renderer alone (the Svelte view). The same output is loaded by Electron
 * (main/app) and served by the headless host (main/host): `out/renderer/index.html`.
 * No external fonts or assets: everything the page needs is bundled, and the CSP in
 * index.html only allows our own origin.
 */
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('./renderer', import.meta.url));
const outDir = fileURLToPath(new URL('./out/renderer', import.meta.url));

export default defineConfig({
  root,
  base: './',
  plugins: [svelte({ configFile: false })],
  publicDir: false,
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
    assetsInlineLimit: 0,
  },
  server: { port: 5173, strictPort: false },
});
