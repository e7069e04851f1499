import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Our entries live in top-level main/ and renderer/ folders, so they are named explicitly.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      // The simulated cameras' worker, the bundle validator's worker and the inference child run as their own entry files.
      rollupOptions: {
        input: {
          index: resolve('main/app/index.ts'),
          simCameraWorker: resolve('drivers/sim/simCameraWorker.entry.ts'),
          policyChild: resolve('models/runtime/child.ts'),
          bundleValidator: resolve('main/services/bundleValidator.entry.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // A sandboxed preload can't require() node_modules: bundle everything into one CommonJS file.
      externalizeDeps: false,
      rollupOptions: { input: { index: resolve('main/preload/index.ts') }, output: { format: 'cjs', entryFileNames: '[name].cjs' } },
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
