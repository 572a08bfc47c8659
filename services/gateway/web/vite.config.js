import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// Two pages: the dashboard (index.html) and the public grid directory.
export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    rollupOptions: {
      input: {
        index: resolve(import.meta.dirname, 'index.html'),
        directory: resolve(import.meta.dirname, 'directory.html'),
      },
    },
  },
});
