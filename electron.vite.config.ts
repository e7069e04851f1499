import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Our entries live in top-level main/ and renderer/ folders, so they are named explicitly.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: { input: { index: resolve('main/app/index.ts') } },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // A sandboxed preload can't require() node_modules: bundle everything into one CommonJS file.
      externalizeDeps: false,
      rollupOptions: { input: { index: resolve('main/preload/index.ts') }, output: { format: 'cjs', entryFileNames: '[name].js' } },
    },
  },
  renderer: {
    root: 'renderer',
    plugins: [svelte()],
    build: {
      outDir: 'out/renderer',
      rollupOptions: { input: { index: resolve('renderer/index.html') } },
    },
  },
});
